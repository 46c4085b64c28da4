// A push session: one client connection's subscription to a stream, as a broadcast or as a group member.
import type { Clock } from "../../core/clock.js";
import { BadRequestError, ConflictError, NotFoundError } from "../../core/errors.js";
import { compileFilter, type EntryFilter } from "../../core/filters.js";
import { formatId, MIN_ID, parseId, type StreamId } from "../../core/ids.js";
import type { Entry } from "../../core/types.js";
import type { GroupsService } from "../groups.js";
import type { MembershipService } from "../membership/index.js";
import type { StreamsService } from "../streams.js";
import type { TailRegistry } from "./tail.js";

export interface PushItem {
  entry: Entry;
  /** Set for group deliveries. */
  deliveryCount?: number;
}

/** What a transport (WebSocket, SSE) offers a session. */
export interface PushSink {
  /** Sends items as one `data` message (`batch` false) or one `batch` message. */
  send(items: PushItem[], batch: boolean): void;
  /** Bytes queued on the connection and not yet sent. */
  buffered(): number;
  /** Reports a problem to the client; `fatal` also ends the connection. */
  fail(code: string, message: string, fatal: boolean): void;
}

export type AckMode = "manual" | "auto";

export interface SubscribeOptions {
  /** Share entries with the other connections of this group instead of seeing all of them. */
  consumerGroup?: string | undefined;
  filters?: EntryFilter | undefined;
  /**
   * Broadcast: where to start (`$` now, the default; `0` the beginning; or an id, exclusive).
   * Group: where a group that does not exist yet starts (default `$`).
   */
  startId?: string | undefined;
  /**
   * Group only: `auto` (the default) acks entries once sent, so a client that never acks, as in the WebSocket
   * protocol of the seeds, keeps receiving; `manual` keeps them pending until the client acks them.
   */
  ackMode?: AckMode | undefined;
  /** Group only: most unacknowledged entries held at once (manual mode). */
  maxInFlight?: number | undefined;
  /** Group only: read as this member (from a join), receiving only its assigned partitions. */
  memberId?: string | undefined;
}

export interface BatchOptions {
  batchSize: number;
  maxWaitMs: number;
}

export interface SessionLimits {
  /** Bytes a slow connection may have queued: a broadcast subscriber past it is dropped, a group member waits. */
  maxBuffered: number;
}

export const DEFAULT_BATCH: BatchOptions = { batchSize: 1, maxWaitMs: 1000 };
export const DEFAULT_MAX_IN_FLIGHT = 1000;
const GROUP_BLOCK_MS = 30_000;
const BACKOFF_MS = 50;
/** The most time between heartbeats of a member subscription waiting for its client (acks, or a drained socket). */
const MEMBER_BEAT_MS = 1000;

export interface SubscriptionInfo {
  consumerGroup: string | null;
  consumer: string | null;
  filters: EntryFilter;
  startId: string | null;
  ackMode: AckMode | null;
  memberId: string | null;
}

export interface PushServices {
  streams: StreamsService;
  groups: GroupsService;
  membership: Pick<MembershipService, "heartbeat">;
  clock: Clock;
  tails: TailRegistry;
}

export class PushSession {
  /** Messages received from the client and items sent to it. */
  readonly stats = { received: 0, sent: 0 };
  private batch: BatchOptions = { ...DEFAULT_BATCH };
  private buffer: PushItem[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private current: { stop: AbortController; end(): Promise<void>; info: SubscriptionInfo } | undefined;
  private readonly inFlight = new Set<string>();
  private wake: (() => void) | undefined;
  /** The id of the last entry sent; an SSE `id:` for resuming. */
  lastSentId: StreamId | null = null;

  constructor(
    private readonly services: PushServices,
    readonly namespace: string,
    readonly stream: string,
    readonly id: string,
    private readonly sink: PushSink,
    private readonly limits: SessionLimits,
  ) {}

  get subscription(): SubscriptionInfo | undefined {
    return this.current?.info;
  }

  get batchOptions(): BatchOptions {
    return { ...this.batch };
  }

  /** The batching settings with the names clients use. */
  batchOptionsForClient(): { batchSize: number; maxWaitTime: number } {
    return { batchSize: this.batch.batchSize, maxWaitTime: this.batch.maxWaitMs };
  }

  configure(batch: Partial<BatchOptions>): BatchOptions {
    if (batch.batchSize !== undefined) this.batch.batchSize = batch.batchSize;
    if (batch.maxWaitMs !== undefined) this.batch.maxWaitMs = batch.maxWaitMs;
    if (this.buffer.length >= this.batch.batchSize) this.flush();
    return this.batchOptions;
  }

  /** Replaces any current subscription with a new one. */
  async subscribe(options: SubscribeOptions): Promise<SubscriptionInfo> {
    // Whatever can refuse the request is checked before the current subscription ends (and before a group is
    // made): a refused subscribe changes nothing.
    const filter = compileFilter(options.filters ?? {});
    const group = options.consumerGroup;
    if (group === undefined) {
      if (options.memberId !== undefined) throw new BadRequestError("memberId needs a consumerGroup", { field: "memberId" });
      if (options.ackMode !== undefined) throw new BadRequestError("ackMode needs a consumerGroup", { field: "ackMode" });
    }
    if (options.startId !== undefined && options.startId !== "$") parseId(options.startId, "startId");
    const memberId = options.memberId;
    const member =
      group === undefined || memberId === undefined
        ? undefined
        : { id: memberId, heartbeatMs: await this.services.groups.requireMember(this.namespace, this.stream, group, memberId) };
    await this.unsubscribe();
    const stop = new AbortController();
    if (group === undefined) {
      const start = await this.startCursor(options.startId);
      const info: SubscriptionInfo = {
        consumerGroup: null,
        consumer: null,
        filters: options.filters ?? {},
        startId: formatId(start),
        ackMode: null,
        memberId: null,
      };
      const sub = {
        cursor: start,
        deliver: (entries: Entry[]) => this.fromTail(entries, filter, stop),
      };
      const detach = this.services.tails.attach(this.namespace, this.stream, sub, () => !stop.signal.aborted);
      this.current = {
        stop,
        info,
        end: async () => {
          stop.abort();
          (await detach)();
        },
      };
      return info;
    }
    // A member's group exists already (requireMember found it); anyone else's is made here if it is new.
    if (!member) {
      await this.services.groups.create(this.namespace, this.stream, group, options.startId ?? "$").catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error;
      });
    }
    const ackMode = options.ackMode ?? "auto";
    const info: SubscriptionInfo = {
      consumerGroup: group,
      consumer: this.id,
      filters: options.filters ?? {},
      startId: null,
      ackMode,
      memberId: memberId ?? null,
    };
    const loop = this.groupLoop(group, filter, ackMode, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, stop.signal, member);
    this.current = {
      stop,
      info,
      end: async () => {
        stop.abort();
        this.wake?.();
        await loop;
        this.flush();
        this.inFlight.clear();
        // Whatever this connection still held goes back to the group for the others.
        await this.services.groups.deleteConsumer(this.namespace, this.stream, group, this.id).catch(() => undefined);
      },
    };
    return info;
  }

  async unsubscribe(): Promise<boolean> {
    const current = this.current;
    if (!current) return false;
    this.current = undefined;
    await current.end();
    this.clearBuffer();
    return true;
  }

  /** Acknowledges group deliveries made to this connection; answers how many were pending. */
  async ack(ids: string[]): Promise<number> {
    const info = this.current?.info;
    if (!info?.consumerGroup) throw new BadRequestError("ack needs a consumer group subscription", { field: "type" });
    const parsed = ids.map((id, i) => parseId(id, ids.length === 1 ? "messageId" : `messageIds/${i}`));
    const n = await this.services.groups.ack(this.namespace, this.stream, info.consumerGroup, parsed);
    for (const id of parsed) this.inFlight.delete(formatId(id));
    this.wake?.();
    return n;
  }

  /**
   * Gives group deliveries made to this connection back to the group, due again after `delayMs` (to any
   * connection of it, this one included); answers how many this connection held.
   */
  async nack(ids: string[], delayMs = 0): Promise<number> {
    const info = this.current?.info;
    if (!info?.consumerGroup) throw new BadRequestError("nack needs a consumer group subscription", { field: "type" });
    const parsed = ids.map((id, i) => parseId(id, ids.length === 1 ? "messageId" : `messageIds/${i}`));
    const n = await this.services.groups.nack(this.namespace, this.stream, info.consumerGroup, parsed, delayMs, this.id);
    for (const id of parsed) this.inFlight.delete(formatId(id));
    this.wake?.();
    return n;
  }

  async close(): Promise<void> {
    await this.unsubscribe();
  }

  private async startCursor(startId: string | undefined): Promise<StreamId> {
    if (startId === undefined || startId === "$") {
      const stream = await this.services.streams.get(this.namespace, this.stream).catch(() => undefined);
      return stream?.top ?? MIN_ID;
    }
    return parseId(startId, "startId");
  }

  private fromTail(entries: Entry[], filter: (e: Entry) => boolean, stop: AbortController): void {
    if (stop.signal.aborted) return;
    if (this.sink.buffered() > this.limits.maxBuffered) {
      stop.abort();
      this.sink.fail("RUNNEL_SLOW_CONSUMER", "the connection fell too far behind the stream and was closed", true);
      return;
    }
    for (const entry of entries) if (filter(entry)) this.enqueue({ entry });
  }

  private async groupLoop(
    group: string,
    filter: (e: Entry) => boolean,
    ackMode: AckMode,
    maxInFlight: number,
    signal: AbortSignal,
    member: { id: string; heartbeatMs: number } | undefined,
  ): Promise<void> {
    const memberId = member?.id;
    const clock = this.services.clock;
    // A member waiting on its client sends a heartbeat in the group's rhythm (at least once a second).
    const beatMs = Math.min(MEMBER_BEAT_MS, member?.heartbeatMs ?? MEMBER_BEAT_MS);
    let lastBeat = clock.now();
    while (!signal.aborted) {
      const credit = ackMode === "manual" ? maxInFlight - this.inFlight.size : maxInFlight;
      // A slow member simply takes less: it reads again once its connection drained or it acked.
      if (credit <= 0 || this.sink.buffered() > this.limits.maxBuffered) {
        // Its connection is alive, so it stays in the group; max_poll_interval_ms still bounds how long it may not read.
        if (memberId !== undefined && clock.now() - lastBeat >= beatMs) {
          lastBeat = clock.now();
          const gone = await this.services.membership.heartbeat(this.namespace, this.stream, group, memberId).then(
            () => undefined,
            (error: unknown) => (error instanceof NotFoundError && error.field === "memberId" ? error : undefined),
          );
          if (gone) {
            this.sink.fail(gone.code, gone.message, false);
            return;
          }
        }
        await this.pause(Math.min(BACKOFF_MS * 4, beatMs));
        continue;
      }
      lastBeat = clock.now();
      let deliveries;
      try {
        deliveries = await this.services.groups.read(this.namespace, this.stream, group, this.id, {
          count: Math.min(credit, Math.max(this.batch.batchSize, 100)),
          block: GROUP_BLOCK_MS,
          signal,
          memberId,
        });
      } catch (error) {
        if (signal.aborted) return;
        // A member that left or was evicted gets nothing more here; the client may join again and resubscribe.
        if (error instanceof NotFoundError && error.field === "memberId") {
          this.sink.fail(error.code, error.message, false);
          return;
        }
        this.sink.fail((error as { code?: string }).code ?? "RUNNEL_INTERNAL", (error as Error).message, false);
        await this.pause(1000);
        continue;
      }
      // An empty answer after a blocking read means time ran out or the server is closing: do not spin.
      if (deliveries.length === 0) await this.pause(BACKOFF_MS);
      const skipped: StreamId[] = [];
      const sent: StreamId[] = [];
      for (const d of deliveries) {
        if (!d.entry || !filter(d.entry)) {
          skipped.push(d.id);
          continue;
        }
        if (ackMode === "manual") this.inFlight.add(formatId(d.id));
        else sent.push(d.id);
        this.enqueue({ entry: d.entry, deliveryCount: d.deliveryCount });
      }
      // Entries this subscription filters out are settled for the group rather than handed out again and again.
      const settle = [...skipped, ...sent];
      if (settle.length > 0) await this.services.groups.ack(this.namespace, this.stream, group, settle).catch(() => 0);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private enqueue(item: PushItem): void {
    this.buffer.push(item);
    if (this.buffer.length >= this.batch.batchSize) this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.batch.maxWaitMs);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.buffer.length > 0) {
      const items = this.buffer.splice(0, this.batch.batchSize);
      this.stats.sent += items.length;
      this.lastSentId = items[items.length - 1]!.entry.id;
      // A batch is several messages (seed 000): a flush of one goes out as a single message.
      this.sink.send(items, this.batch.batchSize > 1 && items.length > 1);
    }
  }

  private clearBuffer(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.buffer = [];
  }
}
