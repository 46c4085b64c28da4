// Windowed streams (seed 002): define, long-poll a ready window under a lease, ack or nack it, renew, seek.
import { BadRequestError, ConflictError, NotFoundError } from "../../core/errors.js";
import { checkName } from "../../core/names.js";
import { MIN_TIME, nextStartAfter, startForSeek } from "../../core/windows.js";
import type { WindowStreamRecord } from "../../storage/queries/windows.js";
import type { Tx } from "../../storage/index.js";
import type { EngineContext } from "../context.js";
import { Hub } from "../hub.js";
import { assertSameDefinition, lateStreamName, resolveWindowStream, shapeOf, type WindowStreamOptions } from "./definition.js";
import { hasNewEntries, ingestInTx } from "./ingest.js";
import { leaseNext, windowIdOf, type LeasedWindow } from "./leases.js";

/** Hub keys of windowed streams live in a namespace no real one can have (names never start with `~`). */
const WINDOWS_NAMESPACE = "~windows";

export interface WindowStreamInfo {
  definition: WindowStreamRecord;
  /** Where late entries go, in the definition's namespace. */
  lateStream: string;
  /** The greatest event time seen, per key. */
  watermarks: Record<string, number>;
  groups: string[];
}

export interface PollOptions {
  /** How long to wait for a ready window, in ms (capped by the engine's maxBlockMs); 0 answers at once. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export class WindowsService {
  constructor(private readonly ctx: EngineContext) {}

  /** Defines a windowed stream; defining the same one again is a no-op, a different one a conflict. */
  async define(
    options: WindowStreamOptions,
    field?: (option: keyof WindowStreamOptions) => string,
  ): Promise<{ stream: WindowStreamRecord; created: boolean }> {
    const wanted = resolveWindowStream(options, field);
    return this.ctx.store.write(async (tx) => {
      const { record, created } = await tx.windows.create(wanted, this.ctx.clock.now());
      if (!created) assertSameDefinition(record, wanted, field);
      return { stream: record, created };
    });
  }

  async info(name: string): Promise<WindowStreamInfo> {
    return this.ctx.store.read(async (tx) => {
      const definition = await this.requireIn(tx, name);
      return {
        definition,
        lateStream: lateStreamName(definition.name),
        watermarks: Object.fromEntries(await tx.windows.watermarks(definition.id)),
        groups: await tx.windows.groups(definition.id),
      };
    });
  }

  /** Waits up to `timeoutMs` for a ready window no other consumer of the group holds, and leases it. */
  async poll(name: string, group: string, options: PollOptions): Promise<LeasedWindow | null> {
    checkName(group, "consumerGroup");
    const def = await this.ctx.store.read((tx) => this.requireIn(tx, name, "streamName"));
    const keys = [...def.sources.map((s) => Hub.key(def.namespace, s)), Hub.key(WINDOWS_NAMESPACE, def.name)];
    const deadline = Date.now() + Math.min(options.timeoutMs, this.ctx.maxBlockMs);
    for (;;) {
      const since = keys.map((k) => this.ctx.hub.version(k));
      await this.ingest(def);
      const outcome = await this.ctx.store.write((tx) => leaseNext(tx, def, group, this.ctx.clock.now()));
      if (outcome.window) return outcome.window;
      if (!(await this.waitForAny(keys, since, deadline, outcome.wakeAt, options.signal))) return null;
    }
  }

  /** `success` true acknowledges the window (the group moves past it); false hands it back for redelivery. */
  async ack(windowId: string, leaseId: string, success: boolean): Promise<{ streamName: string; key: string }> {
    const settled = await this.ctx.store.write(async (tx) => {
      const held = await tx.windows.byLease(leaseId);
      const def = held && (await tx.windows.getById(held.streamId));
      if (!held || !def || held.leaseStart === null || held.leaseEnd === null) throw lostLease();
      const bounds = { start: held.leaseStart, end: held.leaseEnd };
      if (windowIdOf(def.name, held.key, bounds) !== windowId) {
        throw new ConflictError("the lease belongs to another window", { field: "windowId" });
      }
      await tx.windows.release(leaseId, success ? nextStartAfter(shapeOf(def), bounds) : null);
      return { streamName: def.name, key: held.key };
    });
    this.ctx.changed(WINDOWS_NAMESPACE, settled.streamName);
    return settled;
  }

  /** Moves a held lease's expiry to now + `extendMs` (default: the stream's lease timeout). */
  async renew(leaseId: string, extendMs?: number): Promise<{ leaseId: string; expiresAt: number }> {
    return this.ctx.store.write(async (tx) => {
      const held = await tx.windows.byLease(leaseId);
      const def = held && (await tx.windows.getById(held.streamId));
      if (!held || !def) throw lostLease();
      const expiresAt = this.ctx.clock.now() + (extendMs ?? def.leaseMs);
      await tx.windows.renew(leaseId, expiresAt);
      return { leaseId, expiresAt };
    });
  }

  /** Moves a group so the windows holding `timestamp`, and every later one, are delivered (again). */
  async seek(name: string, group: string, timestamp: number): Promise<{ from: number }> {
    checkName(group, "consumerGroup");
    if (!Number.isInteger(timestamp) || timestamp < 0 || timestamp > -MIN_TIME) {
      throw new BadRequestError(`timestamp must be from ${iso(0)} to ${iso(-MIN_TIME)} (epoch ms 0 to ${-MIN_TIME})`, {
        field: "timestamp",
      });
    }
    const from = await this.ctx.store.write(async (tx) => {
      const def = await this.requireIn(tx, name, "streamName");
      const shape = shapeOf(def);
      const start = startForSeek(shape, timestamp);
      await tx.windows.ensureGroup(def.id, group, start, this.ctx.clock.now());
      await tx.windows.seek(def.id, group, start);
      // A session holding `timestamp` began before it, where its first entry is: each key goes back there.
      if (shape.type === "session") {
        for (const key of await tx.windows.progressKeys(def.id, group)) {
          const begun = await sessionStartAt(tx, def.id, key, timestamp, shape.gapMs);
          if (begun < start) await tx.windows.setNextStart(def.id, group, key, begun);
        }
      }
      return start;
    });
    this.ctx.changed(WINDOWS_NAMESPACE, name);
    return { from };
  }

  /** Brings the event-time index up to date with the sources; a read decides first whether there is anything new. */
  private async ingest(def: WindowStreamRecord): Promise<void> {
    if (!(await this.ctx.store.read((tx) => hasNewEntries(tx, def)))) return;
    for (;;) {
      const result = await this.ctx.store.write(async (tx) => {
        const locked = await tx.windows.get(def.name, true);
        return locked ? ingestInTx(tx, locked, this.ctx.clock.now()) : { indexed: 0, late: 0, more: false };
      });
      if (result.late > 0) this.ctx.changed(def.namespace, lateStreamName(def.name));
      if (result.indexed > 0) this.ctx.changed(WINDOWS_NAMESPACE, def.name);
      if (!result.more) return;
    }
  }

  private async requireIn(
    tx: Parameters<Parameters<EngineContext["store"]["read"]>[0]>[0],
    name: string,
    field = "name",
  ): Promise<WindowStreamRecord> {
    const def = await tx.windows.get(name);
    if (!def) throw new NotFoundError(`stream '${name}' is not defined`, { field });
    return def;
  }

  /** Like `waitForChange`, over several keys: a source append, a released window or the next lease expiry. */
  private async waitForAny(
    keys: readonly string[],
    since: readonly number[],
    deadline: number,
    wakeAt: number | null,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const { ctx } = this;
    const now = Date.now();
    if (now >= deadline || ctx.closing.aborted || signal?.aborted) return false;
    let until = deadline;
    if (wakeAt !== null) until = Math.min(until, now + Math.max(1, wakeAt - ctx.clock.now()));
    if (ctx.store.crossNode) until = Math.min(until, now + ctx.pollIntervalMs);
    const done = new AbortController();
    const stop = AbortSignal.any([done.signal, ctx.closing, ...(signal ? [signal] : [])]);
    await Promise.race(keys.map((key, i) => ctx.hub.wait(key, until - now, stop, since[i])));
    done.abort();
    return !ctx.closing.aborted && !signal?.aborted;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

function lostLease(): ConflictError {
  return new ConflictError(
    "the lease is not held: it expired and the window went to another consumer, was already settled, or the group was seeked",
    { field: "leaseId" },
  );
}

/** The first entry of the key's session that holds `t`: walks back while entries are less than a gap apart. */
async function sessionStartAt(tx: Tx, id: number, key: string, t: number, gapMs: number): Promise<number> {
  let at = await tx.windows.lastTimeUpTo(id, key, t);
  if (at === undefined || t - at >= gapMs) return t;
  for (;;) {
    const before = await tx.windows.lastTimeUpTo(id, key, at - 1);
    if (before === undefined || at - before >= gapMs) return at;
    at = before;
  }
}
