// Consumer groups with Redis semantics: create, read (blocking), ack, nack, pending, claim, auto-claim.
import { BadRequestError, ConflictError, NotFoundError } from "../core/errors.js";
import { MAX_ID, MIN_ID, parseId, type StreamId } from "../core/ids.js";
import { checkName } from "../core/names.js";
import type { PendingDetail, PendingSummary } from "../core/types.js";
import type { ConsumerRecord, GroupRecord, StreamRecord, Tx } from "../storage/index.js";
import { loadOrCreateStream, requireStream } from "./append.js";
import { waitForChange, type EngineContext } from "./context.js";
import { claimOne, handBack, historyWith, readNew, readOwnPending, type ClaimOptions, type Delivery } from "./delivery.js";
import { Hub } from "./hub.js";
import { DEFAULT_GROUP_OPTIONS } from "./membership/options.js";
import { initSettings, memberScope, requireActiveMember, type MemberScope } from "./membership/state.js";
import { lagsByPartition, MAX_COUNT, partitionLagsOf, type GroupSummary } from "./streams.js";

export interface GroupReadOptions {
  count: number;
  /** `>` for entries never delivered to the group, or an id to re-read the consumer's own pending entries after it. */
  id?: string;
  block?: number | undefined;
  noAck?: boolean;
  signal?: AbortSignal;
  /** Read as this member of the group: only its assigned partitions. The read also counts as its heartbeat. */
  memberId?: string | undefined;
}

export interface GroupInfo extends GroupSummary {
  stream: string;
  consumerList: (ConsumerRecord & { idleMs: number; inactiveMs: number | null })[];
  createdAt: number;
}

export interface AutoClaimResult {
  next: StreamId;
  claimed: Delivery[];
  deleted: StreamId[];
}

export interface PendingQuery {
  start?: StreamId;
  end?: StreamId;
  count: number;
  consumer?: string;
  minIdleMs?: number;
}

/** The same id twice in one ack counts once. */
function dedupeIds(ids: readonly StreamId[]): StreamId[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = `${id.ms}-${id.seq}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** How many pending entries autoclaim looks at per entry asked for. */
const AUTOCLAIM_ATTEMPTS = 10;

async function requireGroup(tx: Tx, stream: StreamRecord, name: string, lock = false): Promise<GroupRecord> {
  const group = await tx.groups.get(stream.id, name, lock);
  if (!group) throw new NotFoundError(`group '${name}' does not exist on stream '${stream.name}'`, { field: "group" });
  return group;
}

/** The stream and its group, the group's row locked (PostgreSQL); a 404 naming whichever is missing. */
async function requireStreamAndGroup(tx: Tx, namespace: string, streamName: string, name: string) {
  const found = await tx.groups.withStream(namespace, streamName, name, true);
  if (found) return found;
  const stream = await requireStream(tx, namespace, streamName);
  return { stream, group: await requireGroup(tx, stream, name, true) };
}

export class GroupsService {
  constructor(
    private readonly ctx: EngineContext,
    private readonly blockFor: (block: number | undefined) => number,
  ) {}

  /**
   * XGROUP CREATE. `startId` is `0` (every entry), `$` (only new ones) or an id. The stream is created
   * when missing unless `mkStream` is false.
   */
  async create(namespace: string, streamName: string, name: string, startId = "$", mkStream = true): Promise<GroupRecord> {
    checkName(streamName, "stream");
    checkName(name, "group");
    const start = startId === "$" ? undefined : parseId(startId, "startId");
    return this.ctx.store.write(async (tx) => {
      const now = this.ctx.clock.now();
      const stream = mkStream
        ? await loadOrCreateStream(tx, namespace, streamName, now)
        : await requireStream(tx, namespace, streamName, true);
      const from = start ?? stream.top;
      if (!(await tx.groups.create(stream.id, name, from, now))) {
        throw new ConflictError(`group '${name}' already exists on stream '${streamName}'`, { field: "group" });
      }
      await initSettings(tx, stream.id, name, now);
      return requireGroup(tx, stream, name);
    });
  }

  /** XGROUP SETID: the group continues after `id` (`$` for the top). Pending entries stay. */
  async setId(namespace: string, streamName: string, name: string, id: string): Promise<void> {
    const wanted = id === "$" ? undefined : parseId(id, "id");
    await this.ctx.store.write(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName, true);
      await requireGroup(tx, stream, name, true);
      await tx.groups.setStart(stream.id, name, wanted ?? stream.top);
    });
    this.ctx.changed(namespace, streamName);
  }

  /** Throws NotFoundError (field `stream` or `group`) unless the group exists; reads nothing else. */
  async requireExists(namespace: string, streamName: string, name: string): Promise<void> {
    await this.ctx.store.read(async (tx) => requireGroup(tx, await requireStream(tx, namespace, streamName), name));
  }

  async destroy(namespace: string, streamName: string, name: string): Promise<void> {
    await this.ctx.store.write(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName, true);
      // The group row first (PostgreSQL): a read holding it may still add pending entries, which must go too.
      await requireGroup(tx, stream, name, true);
      await tx.members.deleteGroup(stream.id, name);
      if (!(await tx.groups.delete(stream.id, name))) {
        throw new NotFoundError(`group '${name}' does not exist on stream '${streamName}'`, { field: "group" });
      }
    });
    // Readers blocked on the group learn at once that it is gone.
    this.ctx.changed(namespace, streamName);
  }

  async list(namespace: string, streamName: string): Promise<GroupInfo[]> {
    const stream = await this.ctx.store.read((tx) => requireStream(tx, namespace, streamName));
    const groups = await this.ctx.store.read((tx) => tx.groups.list(stream.id));
    return Promise.all(groups.map((g) => this.info(namespace, streamName, g.name)));
  }

  async info(namespace: string, streamName: string, name: string): Promise<GroupInfo> {
    return this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      const group = await requireGroup(tx, stream, name);
      const now = this.ctx.clock.now();
      const consumers = await tx.groups.consumers(stream.id, name);
      const lags = await partitionLagsOf(tx, stream, group);
      return {
        stream: streamName,
        name,
        consumers: consumers.length,
        pending: await tx.pending.countForGroup(stream.id, name),
        deferred: await tx.groups.countDeferred(stream.id, name),
        lastDeliveredId: group.lastDelivered,
        entriesRead: group.entriesRead,
        lag: lags.reduce((a, b) => a + b, 0),
        partitionLags: lagsByPartition(lags),
        consumerList: consumers.map((c) => ({
          ...c,
          idleMs: now - c.seenAt,
          inactiveMs: c.activeAt === null ? null : now - c.activeAt,
        })),
        createdAt: group.createdAt,
      };
    });
  }

  /** XREADGROUP. With `block`, waits for new entries (or due deferred ones) until the time is up. */
  async read(namespace: string, streamName: string, name: string, consumer: string, options: GroupReadOptions) {
    checkName(consumer, "consumer");
    const count = Math.max(1, Math.min(options.count, MAX_COUNT));
    const id = options.id ?? ">";
    const history = id === ">" ? undefined : parseId(id, "id");
    const key = Hub.key(namespace, streamName);
    const deadline = Date.now() + this.blockFor(options.block);
    for (;;) {
      const since = this.ctx.hub.version(key);
      const { deliveries, nextDue, deadLettered, scope } = await this.ctx.store.write(async (tx) => {
        const { stream, group } = await requireStreamAndGroup(tx, namespace, streamName, name);
        const now = this.ctx.clock.now();
        const scope: MemberScope | undefined =
          options.memberId === undefined ? undefined : await memberScope(tx, stream, name, options.memberId, consumer, now);
        if (scope?.kind === "gone") return { deliveries: [], nextDue: null, deadLettered: [], scope };
        if (history) {
          const own = await readOwnPending(tx, stream, group, consumer, history, count, now);
          return { deliveries: own, nextDue: null, deadLettered: [], scope };
        }
        const partitions = scope?.partitions;
        return { ...(await readNew(tx, stream, group, consumer, count, now, options.noAck ?? false, partitions)), scope };
      });
      // A rebalance (an eviction noticed here) changes what the other members may read: wake them.
      if (scope?.rebalanced) this.ctx.changed(namespace, streamName);
      if (scope?.kind === "gone") throw new NotFoundError(scope.message, { field: "memberId" });
      for (const dlq of deadLettered) this.ctx.changed(namespace, dlq);
      if (deliveries.length > 0 || history || options.block === undefined) return deliveries;
      // A waiting member wakes in its heartbeat (and poll) rhythm, so the next pass keeps it in the group.
      const wakeAt = scope?.kind === "member" ? Math.min(nextDue ?? Infinity, this.ctx.clock.now() + scope.refreshMs) : nextDue;
      if (!(await waitForChange(this.ctx, key, deadline, wakeAt, since, options.signal))) return deliveries;
    }
  }

  /**
   * Throws a 404 unless `memberId` is an active member of the group; a push subscription checks before it starts.
   * Answers the group's heartbeat interval (ms), the rhythm in which the subscription keeps the member alive.
   */
  async requireMember(namespace: string, streamName: string, name: string, memberId: string): Promise<number> {
    return this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name);
      await requireActiveMember(tx, stream.id, name, memberId);
      return (await tx.members.settings(stream.id, name))?.heartbeatIntervalMs ?? DEFAULT_GROUP_OPTIONS.heartbeatIntervalMs;
    });
  }

  /** XACK: answers how many of `ids` were pending and are now acknowledged. */
  async ack(namespace: string, streamName: string, name: string, ids: readonly StreamId[]): Promise<number> {
    return this.ctx.store.write(async (tx) => {
      const n = await tx.pending.removeMany(namespace, streamName, name, dedupeIds(ids));
      // Nothing removed: a missing stream or group is a 404, ids that were not pending are simply 0.
      if (n === 0) await requireGroup(tx, await requireStream(tx, namespace, streamName), name);
      return n;
    });
  }

  /**
   * Gives pending entries back to the group for redelivery to any consumer, after `delayMs`.
   * With `consumer`, only entries that consumer holds are taken back.
   */
  async nack(
    namespace: string,
    streamName: string,
    name: string,
    ids: readonly StreamId[],
    delayMs = 0,
    consumer?: string,
  ): Promise<number> {
    if (!Number.isInteger(delayMs) || delayMs < 0) throw new BadRequestError("delayMs must be a non-negative integer", { field: "delayMs" });
    const n = await this.ctx.store.write(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name);
      const now = this.ctx.clock.now();
      let nacked = 0;
      for (const id of ids) {
        const p = await tx.pending.get(stream.id, name, id);
        if (!p || (consumer !== undefined && p.consumer !== consumer)) continue;
        const entry = await tx.entries.get(stream.id, id);
        // Only what this transaction took out of the PEL is given back: another node may have acked it meanwhile.
        if (!(await tx.pending.remove(stream.id, name, id, p.consumer)) || !entry) continue;
        await tx.groups.defer(stream.id, name, {
          id,
          partition: p.partition,
          priority: entry.priority,
          dueAt: now + delayMs,
          deliveryCount: p.deliveryCount,
          history: historyWith(p),
        });
        nacked++;
      }
      return nacked;
    });
    if (n > 0) this.ctx.changed(namespace, streamName);
    return n;
  }

  /** XPENDING, the summary form. */
  async pendingSummary(namespace: string, streamName: string, name: string): Promise<PendingSummary> {
    return this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name);
      return tx.pending.summary(stream.id, name);
    });
  }

  /** XPENDING, the extended form: by id range, consumer and minimum idle time. */
  async pending(namespace: string, streamName: string, name: string, q: PendingQuery): Promise<PendingDetail[]> {
    return this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name);
      const now = this.ctx.clock.now();
      const rows = await tx.pending.list(stream.id, name, {
        start: q.start ?? MIN_ID,
        end: q.end ?? MAX_ID,
        count: Math.min(q.count, MAX_COUNT),
        consumer: q.consumer,
        deliveredBefore: q.minIdleMs === undefined ? undefined : now - q.minIdleMs,
      });
      return rows.map((p) => ({
        id: p.id,
        consumer: p.consumer,
        idleMs: Math.max(0, now - p.deliveredAt),
        deliveryCount: p.deliveryCount,
        partition: p.partition,
      }));
    });
  }

  /** XCLAIM: takes over `ids` that have been idle at least `minIdleMs`. */
  async claim(
    namespace: string,
    streamName: string,
    name: string,
    consumer: string,
    minIdleMs: number,
    ids: readonly StreamId[],
    options: ClaimOptions & { force?: boolean } = {},
  ): Promise<Delivery[]> {
    checkName(consumer, "consumer");
    const dead = new Set<string>();
    const out = await this.ctx.store.write(async (tx) => {
      dead.clear();
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name, true);
      const now = this.ctx.clock.now();
      const claimed: Delivery[] = [];
      for (const id of ids) {
        let p = await tx.pending.get(stream.id, name, id);
        // FORCE puts an entry that is not pending into the PEL as delivered once, and (as Redis does) skips the
        // idle check for it: it was never delivered to anyone to be idle.
        let forced = false;
        if (!p && options.force) {
          const entry = await tx.entries.get(stream.id, id);
          if (entry) {
            p = { id, partition: entry.partition, consumer, deliveredAt: now, deliveryCount: 1, history: null };
            forced = true;
            await tx.groups.undefer(stream.id, name, id);
          }
        }
        if (!p || (!forced && now - p.deliveredAt < minIdleMs)) continue;
        const outcome = await claimOne(tx, stream, name, p, consumer, now, options, forced);
        if (outcome.kind === "claimed") claimed.push(outcome.delivery);
        else if (outcome.kind === "dead") dead.add(outcome.deadLetterStream);
      }
      await tx.groups.touchConsumer(stream.id, name, consumer, now, claimed.length > 0);
      return claimed;
    });
    for (const dlq of dead) this.ctx.changed(namespace, dlq);
    return out;
  }

  /** XAUTOCLAIM: scans the PEL from `start` and takes over up to `count` entries idle at least `minIdleMs`. */
  async autoClaim(
    namespace: string,
    streamName: string,
    name: string,
    consumer: string,
    minIdleMs: number,
    start: StreamId,
    count: number,
    justId = false,
  ): Promise<AutoClaimResult> {
    checkName(consumer, "consumer");
    const dead = new Set<string>();
    const result = await this.ctx.store.write(async (tx) => {
      dead.clear();
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name, true);
      const now = this.ctx.clock.now();
      const limit = Math.min(count, MAX_COUNT);
      // Like Redis, look at no more than count×10 pending entries per call, so a call costs the same whether
      // or not anything is idle; `next` is where to go on from, 0-0 once the end was reached.
      const attempts = limit * AUTOCLAIM_ATTEMPTS;
      const rows = await tx.pending.list(stream.id, name, { start, end: MAX_ID, count: attempts + 1 });
      const claimed: Delivery[] = [];
      const deleted: StreamId[] = [];
      let i = 0;
      for (; i < rows.length && i < attempts && claimed.length + deleted.length < limit; i++) {
        const p = rows[i]!;
        if (now - p.deliveredAt < minIdleMs) continue;
        const outcome = await claimOne(tx, stream, name, p, consumer, now, { justId });
        if (outcome.kind === "claimed") claimed.push(outcome.delivery);
        else if (outcome.kind === "deleted") deleted.push(p.id);
        else if (outcome.kind === "dead") dead.add(outcome.deadLetterStream);
      }
      await tx.groups.touchConsumer(stream.id, name, consumer, now, claimed.length > 0);
      return { next: i < rows.length ? rows[i]!.id : MIN_ID, claimed, deleted };
    });
    for (const dlq of dead) this.ctx.changed(namespace, dlq);
    return result;
  }

  async consumers(namespace: string, streamName: string, name: string) {
    return (await this.info(namespace, streamName, name)).consumerList;
  }

  /**
   * Removes a consumer. Unlike Redis, its pending entries are not dropped: they go back to the group
   * and are delivered again. Answers how many were handed back.
   */
  async deleteConsumer(namespace: string, streamName: string, name: string, consumer: string): Promise<number> {
    const handedBack = await this.ctx.store.write(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      await requireGroup(tx, stream, name, true);
      const n = await handBack(tx, stream, name, consumer, this.ctx.clock.now());
      if (!(await tx.groups.deleteConsumer(stream.id, name, consumer)) && n === 0) {
        throw new NotFoundError(`consumer '${consumer}' does not exist in group '${name}'`, { field: "consumer" });
      }
      return n;
    });
    if (handedBack > 0) this.ctx.changed(namespace, streamName);
    return handedBack;
  }
}

