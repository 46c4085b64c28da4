// Finding a group's next ready window per key and taking its lease; the window's entries come with it.
import { randomUUID } from "node:crypto";
import type { Entry } from "../../core/types.js";
import {
  extendSession,
  fixedWindowFor,
  isReady,
  lowestStart,
  MIN_TIME,
  nextStartAfter,
  type WindowBounds,
} from "../../core/windows.js";
import type { Tx } from "../../storage/index.js";
import type { WindowStreamRecord } from "../../storage/queries/windows.js";
import { shapeOf } from "./definition.js";

/** Event times read per page while following a session. */
const SESSION_PAGE = 1_000;
/** Windows in a row whose entries were all trimmed away that one poll skips for a key. */
const MAX_EMPTY_SKIPS = 100;

export interface WindowMessage {
  /** The source stream the entry came from. */
  source: string;
  eventTime: number;
  entry: Entry;
}

/** A window handed to one consumer of a group under a lease. */
export interface LeasedWindow {
  id: string;
  leaseId: string;
  streamName: string;
  consumerGroup: string;
  key: string;
  start: number;
  end: number;
  leaseExpiresAt: number;
  /** The stream's lease timeout: how long a renew extends by default, so clients know how often to renew. */
  leaseTimeoutMs: number;
  /** 1 on the first delivery of this window to the group, more after a nack or an expired lease. */
  attempt: number;
  messages: WindowMessage[];
}

export interface LeaseOutcome {
  window: LeasedWindow | null;
  /** The earliest time a lease held by another consumer expires (a window may then be free). */
  wakeAt: number | null;
}

/** Names a window in acks: the stream, key and bounds, so an ack for another window is refused. */
export function windowIdOf(stream: string, key: string, bounds: WindowBounds): string {
  return `${stream}:${key}:${bounds.start}-${bounds.end}`;
}

/** The next window for a key at or after bookmark `next`, ready or not; null when no entry lies there. */
export async function nextWindow(tx: Tx, def: WindowStreamRecord, key: string, next: number): Promise<WindowBounds | null> {
  const shape = shapeOf(def);
  if (shape.type !== "session") {
    const from = lowestStart(shape, next);
    const first = await tx.windows.firstTimeFrom(def.id, key, from);
    return first === undefined ? null : fixedWindowFor(shape, from, first);
  }
  const first = await tx.windows.firstTimeFrom(def.id, key, next);
  if (first === undefined) return null;
  let last = first;
  for (;;) {
    const page = await tx.windows.timesAfter(def.id, key, last, SESSION_PAGE);
    const grown = extendSession(shape, last, page);
    last = grown.last;
    if (grown.closed || page.length < SESSION_PAGE) break;
  }
  return { start: first, end: last + shape.gapMs };
}

/**
 * Leases the first ready window of any key the group is not already working on. Keys are tried from a random
 * one on, so consumers of one group spread over the keys. Within a key windows go strictly in order: a key has
 * at most one lease, and its bookmark moves only on ack.
 */
export async function leaseNext(
  tx: Tx,
  def: WindowStreamRecord,
  group: string,
  now: number,
  random: () => number = Math.random,
): Promise<LeaseOutcome> {
  const shape = shapeOf(def);
  const from = await tx.windows.ensureGroup(def.id, group, MIN_TIME, now);
  const progress = await tx.windows.progress(def.id, group);
  const watermarks = [...(await tx.windows.watermarks(def.id))];
  const sourceNames = new Map((await tx.windows.cursors(def.id)).map((c) => [c.sourceId, c.sourceName]));
  let wakeAt: number | null = null;
  const offset = Math.floor(random() * watermarks.length);

  for (let i = 0; i < watermarks.length; i++) {
    const [key, watermark] = watermarks[(i + offset) % watermarks.length]!;
    const p = progress.get(key);
    if (p?.leaseId && p.leaseExpiresAt !== null && p.leaseExpiresAt > now) {
      wakeAt = wakeAt === null ? p.leaseExpiresAt : Math.min(wakeAt, p.leaseExpiresAt);
      continue;
    }
    let next = p?.nextStart ?? from;
    if (!p) await tx.windows.ensureProgress(def.id, group, key, next);
    for (let skips = 0; skips < MAX_EMPTY_SKIPS; skips++) {
      const bounds = await nextWindow(tx, def, key, next);
      if (!bounds || !isReady(shape, bounds, watermark)) break;
      const lease = { id: randomUUID(), start: bounds.start, end: bounds.end, expiresAt: now + def.leaseMs };
      // Another consumer (or node) got there first: the key is its.
      if (!(await tx.windows.tryLease(def.id, group, key, next, lease, now))) break;
      const items = await tx.windows.windowEntries(def.id, key, bounds.start, bounds.end);
      if (items.length === 0) {
        // Every entry of the window was trimmed from its source since: nothing to hand out, move past it.
        next = nextStartAfter(shape, bounds);
        await tx.windows.release(lease.id, next);
        continue;
      }
      const attempt = p && p.leaseStart === bounds.start ? p.deliveries + 1 : 1;
      return {
        window: {
          id: windowIdOf(def.name, key, bounds),
          leaseId: lease.id,
          streamName: def.name,
          consumerGroup: group,
          key,
          start: bounds.start,
          end: bounds.end,
          leaseExpiresAt: lease.expiresAt,
          leaseTimeoutMs: def.leaseMs,
          attempt,
          messages: items.map((it) => ({
            source: sourceNames.get(it.sourceId) ?? "",
            eventTime: it.eventTime,
            entry: it.entry,
          })),
        },
        wakeAt: null,
      };
    }
  }
  return { window: null, wakeAt };
}
