// Streams: create and configure, append, read ranges and new entries (blocking), trim, delete, describe.
import { BadRequestError, ConflictError, NotFoundError } from "../core/errors.js";
import {
  compareIds,
  inclusiveEnd,
  inclusiveStart,
  MAX_ID,
  parseId,
  type RangeBound,
  type StreamId,
} from "../core/ids.js";
import { MAX_TIME_MS } from "../core/clock.js";
import { checkName } from "../core/names.js";
import { DEFAULT_STREAM_CONFIG, type AppendResult, type Entry, type NewEntry, type StreamConfig } from "../core/types.js";
import type { GroupRecord, StreamRecord, Tx } from "../storage/index.js";
import { AppendCoalescer, canShare } from "./append-coalescer.js";
import { appendInTx, applyRetention, checkHeaders, deleteIds, Removal, requireStream, trimToLength } from "./append.js";
import { waitForChange, type EngineContext } from "./context.js";
import { Hub } from "./hub.js";

export const MAX_COUNT = 10_000;

export interface GroupSummary {
  name: string;
  consumers: number;
  pending: number;
  deferred: number;
  lastDeliveredId: StreamId;
  entriesRead: number;
  lag: number;
  /** The lag of each partition, keyed by partition number; they add up to `lag`. */
  partitionLags: Record<string, number>;
}

export interface StreamInfo {
  namespace: string;
  name: string;
  config: StreamConfig;
  length: number;
  lastGeneratedId: StreamId;
  entriesAdded: number;
  /** No entry above this id was ever deleted or trimmed away (0-0: none ever was). */
  maxDeletedId: StreamId;
  firstEntry: Entry | null;
  lastEntry: Entry | null;
  groups: GroupSummary[];
  createdAt: number;
}

/** A trim by length or by lowest id kept (XTRIM, XADD MAXLEN/MINID). */
export interface TrimBy {
  maxLen?: number;
  minId?: StreamId;
}

/** Options of one append that make it a unit of its own (XADD's NOMKSTREAM and MAXLEN/MINID). */
export interface AppendOptions {
  /** Trim the stream in the same transaction, after the append. */
  trim?: TrimBy;
  /** Append only to an existing stream; a missing one answers null and is not created. */
  mustExist?: boolean;
}

/** Trims a locked stream and answers how many entries went. */
async function trimInTx(tx: Tx, stream: StreamRecord, by: TrimBy): Promise<number> {
  const removal = new Removal();
  if (by.minId) removal.add(await tx.entries.deleteBelow(stream.id, by.minId), by.minId);
  if (by.maxLen !== undefined) await trimToLength(tx, stream.id, stream.length - removal.count, by.maxLen, removal);
  return removal.record(tx, stream);
}

export interface ReadOptions {
  /** Entries after this id; `$` means after the current top (only new ones). */
  after: string;
  count: number;
  /** Wait up to this many ms for an entry when none is there yet. */
  block?: number | undefined;
  signal?: AbortSignal;
}

/**
 * A group's lag per partition (index = partition): entries it has not had acknowledged, counted exactly —
 * pending, set aside (delayed or handed back) and not yet delivered (past its cursor in each partition and
 * priority). Deleted entries do not count. The group's lag is their sum.
 */
export async function partitionLagsOf(tx: Tx, stream: StreamRecord, group: GroupRecord): Promise<number[]> {
  const pending = await tx.pending.perPartition(stream.id, group.name);
  const deferred = await tx.members.deferredPerPartition(stream.id, group.name);
  const cursors = new Map<string, StreamId>();
  for (const c of await tx.groups.cursors(stream.id, group.name)) cursors.set(`${c.partition}:${c.priority}`, c.id);
  const lags: number[] = [];
  for (let partition = 0; partition < stream.config.partitions; partition++) {
    let lag = (pending.get(partition) ?? 0) + (deferred.get(partition) ?? 0);
    for (let level = 0; level < 4; level++) {
      if (!(stream.levels & (1 << level))) continue;
      const after = cursors.get(`${partition}:${level}`) ?? group.start;
      lag += await entriesAfter(tx, stream, partition, level, after);
    }
    lags.push(lag);
  }
  return lags;
}

/**
 * How many entries of one partition and level lie after `after`. When the stream has a single level and nothing
 * after `after` was ever deleted, those entries hold every position from the first of them to the partition's
 * last: one index probe answers, however long the backlog. Otherwise they are counted.
 */
async function entriesAfter(tx: Tx, stream: StreamRecord, partition: number, level: number, after: StreamId): Promise<number> {
  const counted = () => tx.entries.countLevelAfter(stream.id, partition, level, after);
  if (!oneLevel(stream.levels) || compareIds(stream.maxDeleted, after) > 0) return counted();
  // The stream row again, from the same statement as the lookup: on PostgreSQL another node may have appended or
  // deleted since `stream` was read.
  const now = await tx.entries.firstPositionAfter(stream.id, partition, level, after);
  if (!oneLevel(now.levels) || compareIds(now.maxDeleted, after) > 0) return counted();
  return now.first === null ? 0 : Math.max(0, (now.positions[partition] ?? 0) - now.first);
}

function oneLevel(levels: number): boolean {
  return (levels & (levels - 1)) === 0;
}

/** Partition lags as an object keyed by partition number, the way seed 003 reports them. */
export function lagsByPartition(lags: readonly number[]): Record<string, number> {
  return Object.fromEntries(lags.map((n, p) => [String(p), n]));
}

export class StreamsService {
  private readonly coalescer: AppendCoalescer;

  constructor(private readonly ctx: EngineContext) {
    this.coalescer = new AppendCoalescer(ctx);
  }

  /** Creates a stream with explicit options; 409 when it exists. */
  async create(namespace: string, name: string, config: Partial<StreamConfig>): Promise<StreamRecord> {
    checkName(name, "stream");
    const full = resolveStreamConfig(config, name);
    return this.ctx.store.write(async (tx) => {
      const exists = () => new ConflictError(`stream '${name}' already exists`, { field: "stream" });
      if (await tx.streams.get(namespace, name)) throw exists();
      // Another node may have made it since the check: its options stand, and this request is told so.
      const { stream, inserted } = await tx.streams.create(namespace, name, full, this.ctx.clock.now());
      if (!inserted) throw exists();
      return stream;
    });
  }

  /** Changes a stream's options; partitions may grow but never shrink. */
  async configure(namespace: string, name: string, changes: Partial<StreamConfig>): Promise<StreamRecord> {
    return this.ctx.store.write(async (tx) => {
      const stream = await requireStream(tx, namespace, name, true);
      const config = resolveStreamConfig({ ...stream.config, ...changes }, name);
      if (config.partitions < stream.config.partitions) {
        throw new ConflictError("partitions can only grow", { field: "partitions" });
      }
      const positions = [...stream.positions];
      while (positions.length < config.partitions) positions.push(0);
      await tx.streams.updateConfig(stream.id, config, positions);
      stream.config = config;
      stream.positions = positions;
      await applyRetention(tx, stream, this.ctx.clock.now());
      return stream;
    });
  }

  async append(namespace: string, name: string, entries: readonly NewEntry[], field = "entries"): Promise<AppendResult[]> {
    checkName(name, "stream");
    if (entries.length === 0) throw new BadRequestError("at least one entry is required", { field });
    checkHeaders(entries, field);
    if (canShare(entries)) return this.coalescer.append(namespace, name, entries);
    const outcome = await this.ctx.store.write((tx) => appendInTx(tx, namespace, name, entries, this.ctx.clock.now(), field));
    if (outcome.stored > 0) this.ctx.changed(namespace, name);
    return outcome.results;
  }

  /**
   * Appends with options, as one transaction: only to an existing stream (else null, nothing created), and
   * trimmed right after, so no reader sees the stream longer than the trim allows.
   */
  async appendWith(
    namespace: string,
    name: string,
    entries: readonly NewEntry[],
    options: AppendOptions,
    field = "entries",
  ): Promise<AppendResult[] | null> {
    checkName(name, "stream");
    if (entries.length === 0) throw new BadRequestError("at least one entry is required", { field });
    checkHeaders(entries, field);
    const outcome = await this.ctx.store.write(async (tx) => {
      if (options.mustExist && !(await tx.streams.get(namespace, name, true))) return null;
      const appended = await appendInTx(tx, namespace, name, entries, this.ctx.clock.now(), field);
      if (options.trim) await trimInTx(tx, appended.stream, options.trim);
      return appended;
    });
    if (outcome && outcome.stored > 0) this.ctx.changed(namespace, name);
    return outcome && outcome.results;
  }

  async get(namespace: string, name: string): Promise<StreamRecord> {
    return this.ctx.store.read((tx) => requireStream(tx, namespace, name));
  }

  async list(namespace: string): Promise<StreamRecord[]> {
    return this.ctx.store.read((tx) => tx.streams.list(namespace));
  }

  async info(namespace: string, name: string): Promise<StreamInfo> {
    return this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, name);
      const groups: GroupSummary[] = [];
      for (const g of await tx.groups.list(stream.id)) {
        const lags = await partitionLagsOf(tx, stream, g);
        groups.push({
          name: g.name,
          consumers: (await tx.groups.consumers(stream.id, g.name)).length,
          pending: await tx.pending.countForGroup(stream.id, g.name),
          deferred: await tx.groups.countDeferred(stream.id, g.name),
          lastDeliveredId: g.lastDelivered,
          entriesRead: g.entriesRead,
          lag: lags.reduce((a, b) => a + b, 0),
          partitionLags: lagsByPartition(lags),
        });
      }
      return {
        namespace,
        name,
        config: stream.config,
        length: stream.length,
        lastGeneratedId: stream.top,
        entriesAdded: stream.entriesAdded,
        maxDeletedId: stream.maxDeleted,
        firstEntry: (await tx.entries.first(stream.id)) ?? null,
        lastEntry: (await tx.entries.last(stream.id)) ?? null,
        groups,
        createdAt: stream.createdAt,
      };
    });
  }

  async length(namespace: string, name: string): Promise<number> {
    return this.ctx.store.read(async (tx) => (await tx.streams.get(namespace, name))?.length ?? 0);
  }

  /** XRANGE / XREVRANGE: `start` is always the low bound and `end` the high one. */
  async range(namespace: string, name: string, start: RangeBound, end: RangeBound, count: number, reverse = false) {
    const low = inclusiveStart(start);
    const high = inclusiveEnd(end);
    return this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, name);
      if (!low || !high || compareIds(low, high) > 0) return [];
      return tx.entries.range(stream.id, low, high, Math.min(count, MAX_COUNT), reverse);
    });
  }

  /** XREAD: entries after an id, waiting up to `block` ms for the first one. */
  async read(namespace: string, name: string, options: ReadOptions): Promise<Entry[]> {
    const count = Math.min(options.count, MAX_COUNT);
    const key = Hub.key(namespace, name);
    let after: StreamId | undefined = options.after === "$" ? undefined : parseId(options.after, "after");
    const deadline = Date.now() + this.blockFor(options.block);
    for (;;) {
      const since = this.ctx.hub.version(key);
      const result = await this.ctx.store.read(async (tx) => {
        const stream = await tx.streams.get(namespace, name);
        if (!stream) return { entries: [] as Entry[], top: undefined };
        const from = after ?? stream.top;
        return { entries: await tx.entries.range(stream.id, nextAfter(from), MAX_ID, count), top: stream.top };
      });
      if (result.entries.length > 0 || options.block === undefined) return result.entries;
      // `$` resolves once, so entries appended while we wait are not skipped.
      after ??= result.top ?? { ms: 0, seq: 0 };
      if (!(await waitForChange(this.ctx, key, deadline, null, since, options.signal))) return [];
    }
  }

  async trim(namespace: string, name: string, by: TrimBy): Promise<number> {
    return this.ctx.store.write(async (tx) => trimInTx(tx, await requireStream(tx, namespace, name, true), by));
  }

  async deleteEntries(namespace: string, name: string, ids: readonly StreamId[]): Promise<number> {
    return this.ctx.store.write(async (tx) => {
      const stream = await requireStream(tx, namespace, name, true);
      return deleteIds(tx, stream, ids);
    });
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.ctx.store.write(async (tx) => {
      const stream = await tx.streams.get(namespace, name, true);
      if (!stream) throw new NotFoundError(`stream '${name}' does not exist`, { field: "stream" });
      await tx.members.deleteStream(stream.id);
      await tx.streams.delete(stream.id);
    });
    this.ctx.changed(namespace, name);
  }

  /** Applies maxAge retention and forgets expired idempotency keys, for every stream. */
  async sweep(): Promise<void> {
    const now = this.ctx.clock.now();
    const streams = await this.ctx.store.read((tx) => tx.streams.withMaxAge());
    for (const s of streams) {
      await this.ctx.store.write(async (tx) => {
        const stream = await tx.streams.get(s.namespace, s.name, true);
        if (stream) await applyRetention(tx, stream, now);
      });
    }
    await this.ctx.store.write((tx) => tx.entries.purgeDedupe(now - maxDedupeWindow(streams)));
  }

  blockFor(block: number | undefined): number {
    if (block === undefined) return 0;
    return block === 0 ? this.ctx.maxBlockMs : Math.min(block, this.ctx.maxBlockMs);
  }
}

function maxDedupeWindow(streams: StreamRecord[]): number {
  return Math.max(DEFAULT_STREAM_CONFIG.dedupeWindowMs, ...streams.map((s) => s.config.dedupeWindowMs));
}

function nextAfter(id: StreamId): StreamId {
  return inclusiveStart({ id, exclusive: true }) ?? MAX_ID;
}

/** The range of each numeric stream option; counts stop at the largest integer a JavaScript number holds exactly. */
export const STREAM_CONFIG_LIMITS = {
  partitions: { min: 1, max: 1024 },
  maxLen: { min: 0, max: Number.MAX_SAFE_INTEGER },
  maxAgeMs: { min: 1, max: MAX_TIME_MS },
  maxDeliveries: { min: 1, max: Number.MAX_SAFE_INTEGER },
  dedupeWindowMs: { min: 0, max: MAX_TIME_MS },
} as const;

/**
 * Fills defaults and checks limits. A stream may not dead-letter into itself: its dead letters would be appended
 * to it again and redelivered for ever.
 */
export function resolveStreamConfig(input: Partial<StreamConfig>, stream: string): StreamConfig {
  const c = { ...DEFAULT_STREAM_CONFIG, ...stripUndefined(input) };
  for (const field of Object.keys(STREAM_CONFIG_LIMITS) as (keyof typeof STREAM_CONFIG_LIMITS)[]) {
    const { min, max } = STREAM_CONFIG_LIMITS[field];
    const v = c[field];
    if (v !== null && (!Number.isInteger(v) || v < min || v > max)) {
      throw new BadRequestError(`${field} must be an integer from ${min} to ${max}`, { field });
    }
  }
  if (c.deadLetterStream !== null) {
    checkName(c.deadLetterStream, "deadLetterStream");
    if (c.deadLetterStream === stream) {
      throw new BadRequestError(`stream '${stream}' cannot be its own dead-letter stream`, { field: "deadLetterStream" });
    }
  }
  return c;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
