// What `consume` and `worker` read from a group: own pending entries first (and again after a failed ack or nack),
// then auto-claims when due, then new entries.
import { BadRequestError, ConflictError } from "../core/errors.js";
import { compareIds, parseId } from "../core/ids.js";
import type { GroupEntry } from "./entry.js";
import type { GroupsApi } from "./groups.js";

/**
 * How `consume` and `worker` read a group.
 *
 * @example
 * ```ts
 * const reading: GroupReadingOptions = { blockMs: 5000, autoClaimIdleMs: 60_000, startId: "0" };
 * ```
 */
export interface GroupReadingOptions {
  /** How long one read waits for new entries, in ms (default 5000). */
  blockMs?: number;
  /**
   * Take over entries of other consumers that have been pending longer than this (ms), so a crashed
   * consumer's entries get processed. Off when not set. Set it above the longest processing time (for workers
   * with `prefetch`, plus the time an entry waits read ahead).
   */
  autoClaimIdleMs?: number;
  /** How often to look for such entries (default: `autoClaimIdleMs`, at most every 30 s). */
  autoClaimIntervalMs?: number;
  /** Create the group (and the stream) when missing (default true). */
  createGroup?: boolean;
  /** Where a group created here starts: `$` only new entries (default), `0` the beginning, or an id. */
  startId?: string;
  /**
   * First re-read this consumer's own pending entries, left by an earlier run under the same name (default true).
   * An ack or nack that fails while it runs makes it re-read them again in any case.
   */
  recoverPending?: boolean;
  /**
   * Hand out each payload as a RawJson of the exact text the server stored (a number such as
   * 12345678901234567890 or 1.50 stays as written); consume with `RawJson` as the payload type.
   */
  rawPayloads?: boolean;
}

/**
 * What `consume` and `worker` use for the reading options not given.
 *
 * @example
 * ```ts
 * client.worker("orders", "billing", "w1", handler, { blockMs: DEFAULT_GROUP_READING.blockMs * 2 });
 * ```
 */
export const DEFAULT_GROUP_READING = Object.freeze({
  blockMs: 5000,
  createGroup: true,
  startId: "$",
  recoverPending: true,
});

export interface ResolvedGroupReading {
  blockMs: number;
  autoClaimIdleMs: number | undefined;
  autoClaimIntervalMs: number;
  createGroup: boolean;
  startId: string;
  recoverPending: boolean;
  rawPayloads: boolean;
}

const MAX_AUTOCLAIM_INTERVAL_MS = 30_000;

function nonNegative(value: number | undefined, field: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < min) throw new BadRequestError(`${field} must be a number of at least ${min}`, { field });
  return value;
}

export function resolveGroupReadingOptions(options: GroupReadingOptions = {}): ResolvedGroupReading {
  const autoClaimIdleMs = nonNegative(options.autoClaimIdleMs, "autoClaimIdleMs");
  return {
    // A block of 0 would mean "the server's longest wait".
    blockMs: Math.round(nonNegative(options.blockMs, "blockMs", 1) ?? DEFAULT_GROUP_READING.blockMs),
    autoClaimIdleMs,
    autoClaimIntervalMs:
      nonNegative(options.autoClaimIntervalMs, "autoClaimIntervalMs", 1) ??
      Math.max(1, Math.min(autoClaimIdleMs ?? MAX_AUTOCLAIM_INTERVAL_MS, MAX_AUTOCLAIM_INTERVAL_MS)),
    createGroup: options.createGroup ?? DEFAULT_GROUP_READING.createGroup,
    startId: options.startId ?? DEFAULT_GROUP_READING.startId,
    recoverPending: options.recoverPending ?? DEFAULT_GROUP_READING.recoverPending,
    rawPayloads: options.rawPayloads ?? false,
  };
}

const ZERO = "0-0";

/** Reads a group as one consumer; each `next` answers the next entries to process (maybe none). */
export class GroupReader<T> {
  private ready = false;
  private phase: "own" | "new";
  private ownCursor = ZERO;
  private claimCursor = ZERO;
  private nextClaimAt = 0;
  /** An ack or nack failed: the next read starts again from this consumer's oldest pending entry. */
  private rewind = false;

  constructor(
    private readonly groups: GroupsApi,
    readonly stream: string,
    readonly group: string,
    readonly consumer: string,
    private readonly options: ResolvedGroupReading,
  ) {
    this.phase = options.recoverPending ? "own" : "new";
  }

  /**
   * Forgets that the group exists (it or its stream was deleted): the next read creates it again when allowed.
   * Answers whether it is (createGroup).
   */
  groupLost(): boolean {
    this.ready = false;
    return this.options.createGroup;
  }

  /**
   * Makes the next read re-read this consumer's own pending entries from the oldest: an ack or nack that failed
   * left its entry pending here, where only such a read finds it. Entries still being handled come back too.
   */
  recoverOwn(): void {
    this.rewind = true;
  }

  /** Up to `max` entries: own pending ones, then auto-claimed ones when due, then new ones (waiting up to blockMs). */
  async next(max: number, signal?: AbortSignal): Promise<GroupEntry<T>[]> {
    if (!this.ready) {
      await this.ensureGroup(signal);
      this.ready = true;
    }
    if (this.rewind) {
      this.rewind = false;
      this.phase = "own";
      this.ownCursor = ZERO;
    }
    if (this.phase === "own") {
      const entries = await this.readOwn(max, signal);
      if (entries !== undefined) return entries;
    }
    if (this.options.autoClaimIdleMs !== undefined && Date.now() >= this.nextClaimAt) {
      const claimed = await this.autoClaim(this.options.autoClaimIdleMs, max, signal);
      if (claimed.length > 0) return claimed;
    }
    let block = this.options.blockMs;
    if (this.options.autoClaimIdleMs !== undefined) block = Math.max(1, Math.min(block, this.nextClaimAt - Date.now()));
    const { rawPayloads } = this.options;
    const r = await this.groups.read<T>(this.stream, this.group, this.consumer, { count: max, block, signal, rawPayloads });
    return r.entries;
  }

  private async ensureGroup(signal?: AbortSignal): Promise<void> {
    if (!this.options.createGroup) return;
    const created = this.groups.create(this.stream, this.group, { startId: this.options.startId, mkStream: true, signal });
    await created.catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  }

  /** This consumer's own pending entries, oldest first; undefined once there are none left. */
  private async readOwn(max: number, signal?: AbortSignal): Promise<GroupEntry<T>[] | undefined> {
    const r = await this.groups.read<T>(this.stream, this.group, this.consumer, {
      id: this.ownCursor,
      count: max,
      signal,
      rawPayloads: this.options.rawPayloads,
    });
    const ids = [...r.entries.map((e) => e.id), ...r.deleted];
    if (ids.length === 0) {
      this.phase = "new";
      return undefined;
    }
    this.ownCursor = ids.reduce((a, b) => (compareIds(parseId(a), parseId(b)) >= 0 ? a : b));
    // Entries deleted while pending can never be processed: settle them.
    if (r.deleted.length > 0) await this.groups.ack(this.stream, this.group, r.deleted, { signal });
    return r.entries;
  }

  private async autoClaim(minIdleTime: number, max: number, signal?: AbortSignal): Promise<GroupEntry<T>[]> {
    const r = await this.groups.autoClaim<T>(this.stream, this.group, {
      consumer: this.consumer,
      minIdleTime,
      start: this.claimCursor,
      count: max,
      rawPayloads: this.options.rawPayloads,
      signal,
    });
    this.claimCursor = r.next;
    // A full scan is over: look again after the interval. Otherwise continue from `next` on the next call.
    if (r.next === ZERO) this.nextClaimAt = Date.now() + this.options.autoClaimIntervalMs;
    return r.entries;
  }
}
