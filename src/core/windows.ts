// Window math for windowed streams: alignment, window bounds, readiness against the watermark, lateness. Pure.
import { MAX_TIME_MS } from "./clock.js";

export const WINDOW_TYPES = ["tumbling", "hopping", "session"] as const;
export type WindowType = (typeof WINDOW_TYPES)[number];

/** The key of a global (not partitioned) stream's windows. */
export const GLOBAL_KEY = "__GLOBAL__";

/** The earliest time a Date can hold; the "nothing consumed yet" start of a group. */
export const MIN_TIME = -MAX_TIME_MS;

export interface WindowShape {
  type: WindowType;
  /** Length of a tumbling or hopping window (unused by sessions). */
  durationMs: number;
  /** Distance between window starts: equals `durationMs` for tumbling windows. */
  hopMs: number;
  /** Session windows: a silence of at least this long closes a session. */
  gapMs: number;
  /** How long after a window's end (in event time) entries for it are still awaited. */
  graceMs: number;
}

export interface WindowBounds {
  /** Inclusive, ms. */
  start: number;
  /** Exclusive, ms. */
  end: number;
}

export function alignDown(t: number, step: number): number {
  return Math.floor(t / step) * step;
}

export function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

/** The start of the earliest window that holds event time `t` (for a session, the entry opens it). */
export function firstStartContaining(shape: WindowShape, t: number): number {
  if (shape.type === "session") return t;
  // Window starts are multiples of hopMs; a window holds t when start <= t < start + durationMs.
  return alignDown(t - shape.durationMs, shape.hopMs) + shape.hopMs;
}

/**
 * The lowest window start a group may be given when its bookmark is `from`: tumbling and hopping windows start
 * on multiples of the hop, so a bookmark between two starts moves up to the next one.
 */
export function lowestStart(shape: WindowShape, from: number): number {
  return shape.type === "session" ? from : alignUp(from, shape.hopMs);
}

/**
 * The tumbling or hopping window a group gets next: the earliest one starting at or after `from` (already
 * aligned by `lowestStart`) that holds `first`, the earliest indexed event time at or after `from`. Windows with
 * no entry in them are never produced, so empty windows are skipped.
 */
export function fixedWindowFor(shape: WindowShape, from: number, first: number): WindowBounds {
  const start = Math.max(from, firstStartContaining(shape, first));
  return { start, end: start + shape.durationMs };
}

/**
 * Grows a session whose latest event time is `last` by the next distinct event times, oldest first: it takes each
 * one closer than the gap to the one before. Answers the new latest time and whether a gap closed the session.
 */
export function extendSession(shape: WindowShape, last: number, times: readonly number[]): { last: number; closed: boolean } {
  for (const t of times) {
    if (t - last >= shape.gapMs) return { last, closed: true };
    last = t;
  }
  return { last, closed: false };
}

/** A window is ready once the watermark has reached its end plus the grace period. */
export function isReady(shape: WindowShape, window: WindowBounds, watermark: number): boolean {
  return watermark >= window.end + shape.graceMs;
}

/**
 * An entry is late when a window it belongs to may already have been handed out: its earliest tumbling or
 * hopping window is ready, or, for sessions, the session it would join is. That session ends no earlier than
 * `sessionFrom` plus the gap: `sessionFrom` is the latest indexed time within a gap before the entry, if any,
 * else the entry's own time; any session it could bridge to on its right ends later still. Late entries are kept
 * apart, never put into a window that was, or could have been, delivered.
 */
export function isLate(shape: WindowShape, eventTime: number, watermark: number, sessionFrom = eventTime): boolean {
  if (shape.type === "session") return watermark >= sessionFrom + shape.gapMs + shape.graceMs;
  const start = firstStartContaining(shape, eventTime);
  return watermark >= start + shape.durationMs + shape.graceMs;
}

/** Where a group's bookmark moves once a window was acknowledged. */
export function nextStartAfter(shape: WindowShape, window: WindowBounds): number {
  return shape.type === "session" ? window.end : window.start + shape.hopMs;
}

/** Where a group's bookmark goes on a seek to `t`: the windows holding `t` and every later one are delivered again. */
export function startForSeek(shape: WindowShape, t: number): number {
  return firstStartContaining(shape, t);
}
