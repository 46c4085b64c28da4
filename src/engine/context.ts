// What every engine service shares: the store, the clock, the wake-up hub and the limits.
import type { Clock } from "../core/clock.js";
import type { Store } from "../storage/index.js";
import { Hub } from "./hub.js";

export interface EngineOptions {
  clock?: Clock;
  /** The longest a blocking read may wait, in ms; `block=0` waits this long. */
  maxBlockMs?: number;
  /** How often readers waiting on another node's appends re-check when no wake-up arrives, in ms. */
  pollIntervalMs?: number;
  /** How often retention (maxAge) and idempotency keys are swept, in ms. */
  sweepIntervalMs?: number;
}

export const DEFAULT_ENGINE_OPTIONS = {
  maxBlockMs: 60_000,
  pollIntervalMs: 1_000,
  sweepIntervalMs: 5_000,
} as const;

export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly hub: Hub;
  readonly maxBlockMs: number;
  readonly pollIntervalMs: number;
  /** Wakes local waiters on a stream and tells other nodes. */
  changed(namespace: string, stream: string): void;
  /** Aborted when the engine closes, so blocked reads return at once. */
  readonly closing: AbortSignal;
}

/**
 * Waits for a change on `key` until `deadline` (a wall-clock time in ms), or `wakeAt` when that is sooner.
 * `since` is the hub version noted before the read that came back empty. Answers false once the deadline has passed.
 */
export async function waitForChange(
  ctx: EngineContext,
  key: string,
  deadline: number,
  wakeAt: number | null,
  since: number,
  signal?: AbortSignal,
): Promise<boolean> {
  const now = Date.now();
  if (now >= deadline || ctx.closing.aborted || signal?.aborted) return false;
  let until = deadline;
  if (wakeAt !== null) until = Math.min(until, Date.now() + Math.max(1, wakeAt - ctx.clock.now()));
  if (ctx.store.crossNode) until = Math.min(until, now + ctx.pollIntervalMs);
  const stop = signal ? AbortSignal.any([signal, ctx.closing]) : ctx.closing;
  await ctx.hub.wait(key, until - now, stop, since);
  return !ctx.closing.aborted && !signal?.aborted;
}
