// Ingest: new entries of a windowed stream's sources go into its event-time index, raise watermarks, or, when
// late, go to the late-entries stream. One node at a time per definition (its row is locked).
import { MAX_TIME_MS } from "../../core/clock.js";
import { compareIds, MAX_ID, MIN_ID, type StreamId } from "../../core/ids.js";
import { MAX_DELIVERIES_HEADER, type Entry, type NewEntry } from "../../core/types.js";
import { GLOBAL_KEY, isLate, MIN_TIME } from "../../core/windows.js";
import type { Tx } from "../../storage/index.js";
import type { WindowSourceCursor, WindowStreamRecord } from "../../storage/queries/windows.js";
import { appendInTx } from "../append.js";
import { parseInstant } from "../event-store/bitemporal.js";
import { lateStreamName, MAX_MS, shapeOf } from "./definition.js";

/** Entries read per source in one round; a round's entries are merged by timestamp before indexing. */
export const INGEST_BATCH = 1_000;
/** Rounds per transaction, so one busy definition cannot hold the write path for long. */
const MAX_ROUNDS = 10;

export interface IngestResult {
  indexed: number;
  late: number;
  /** True when more entries wait (the round limit was hit). */
  more: boolean;
}

interface Pending {
  source: string;
  sourceId: number;
  order: number;
  entry: Entry;
}

/** Sources that have entries past the definition's cursors (read-only; decides whether a write is needed). */
export async function hasNewEntries(tx: Tx, def: WindowStreamRecord): Promise<boolean> {
  const cursors = new Map((await tx.windows.cursors(def.id)).map((c) => [c.sourceName, c]));
  for (const source of def.sources) {
    const stream = await tx.streams.get(def.namespace, source);
    if (!stream || stream.entriesAdded === 0) continue;
    const cursor = cursors.get(source);
    if (!cursor || cursor.sourceId !== stream.id || compareIds(stream.top, cursor.last) > 0) return true;
  }
  return false;
}

function eventTimeOf(def: WindowStreamRecord, entry: Entry): number {
  if (def.eventTimeField === null) return entry.timestamp;
  let value: unknown;
  try {
    value = JSON.parse(entry.payload);
  } catch {
    return entry.timestamp;
  }
  for (const part of def.eventTimeField.split(".")) {
    value = value !== null && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  }
  const t = typeof value === "number" ? Math.trunc(value) : typeof value === "string" ? timeOfText(value) : NaN;
  // No usable event time in the payload: the entry's own timestamp stands in. Nor is a time whose windows a Date
  // could not hold (nanoseconds sent as milliseconds, say): it would jam its key for good.
  return Number.isFinite(t) && Math.abs(t) <= MAX_EVENT_TIME ? t : entry.timestamp;
}

/** Room under the latest Date for a window's end plus its gap and grace period. */
const MAX_EVENT_TIME = MAX_TIME_MS - 4 * MAX_MS;

/** Digits are epoch ms; other text is an ISO 8601 time, read as UTC when it names no offset (as seek reads it). */
function timeOfText(text: string): number {
  if (/^-?\d+$/.test(text)) return Number(text);
  try {
    return parseInstant(text, "event time");
  } catch {
    return NaN;
  }
}

function nextAfter(id: StreamId): StreamId {
  return id.seq < Number.MAX_SAFE_INTEGER ? { ms: id.ms, seq: id.seq + 1 } : { ms: id.ms + 1, seq: 0 };
}

/**
 * Forgets the index items whose entries are gone from their source: those below the source's oldest entry, and all
 * of a source that was deleted (a source deleted and made again is a new stream). They could only lead a poll to
 * windows with nothing left to hand out.
 */
async function forgetTrimmed(tx: Tx, def: WindowStreamRecord, cursors: ReadonlyMap<string, WindowSourceCursor>): Promise<void> {
  for (const cursor of cursors.values()) {
    const stream = await tx.streams.get(def.namespace, cursor.sourceName);
    if (!stream || stream.id !== cursor.sourceId) {
      await tx.windows.forgetItems(def.id, cursor.sourceId);
      continue;
    }
    const first = await tx.entries.first(stream.id);
    await tx.windows.forgetItems(def.id, stream.id, first?.id);
  }
}

/** Runs inside a write transaction that locked the definition row. */
export async function ingestInTx(tx: Tx, def: WindowStreamRecord, now: number): Promise<IngestResult> {
  const shape = shapeOf(def);
  const cursors = new Map((await tx.windows.cursors(def.id)).map((c) => [c.sourceName, c]));
  await forgetTrimmed(tx, def, cursors);
  const watermarks = await tx.windows.watermarks(def.id);
  const touched = new Set<string>();
  const late: NewEntry[] = [];
  let indexed = 0;
  let more = false;

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const batches: Pending[][] = [];
    const full: boolean[] = [];
    for (const [order, source] of def.sources.entries()) {
      const stream = await tx.streams.get(def.namespace, source);
      if (!stream) continue;
      let cursor = cursors.get(source);
      // A source deleted and made again is a new stream: read it from its start.
      if (!cursor || cursor.sourceId !== stream.id) {
        cursor = { sourceName: source, sourceId: stream.id, last: MIN_ID };
        cursors.set(source, cursor);
      }
      const entries = await tx.entries.range(stream.id, nextAfter(cursor.last), MAX_ID, INGEST_BATCH);
      batches.push(entries.map((entry) => ({ source, sourceId: stream.id, order, entry })));
      full.push(entries.length === INGEST_BATCH);
    }
    // A full batch may hide older-stamped entries behind it: only merge up to the earliest such batch's end, so
    // entries of several sources go in by time and one source cannot make another's entries look late.
    let horizon = Infinity;
    batches.forEach((b, i) => {
      if (full[i]) horizon = Math.min(horizon, b[b.length - 1]!.entry.timestamp);
    });
    const merged: Pending[] = [];
    for (const batch of batches) {
      for (const p of batch) {
        if (p.entry.timestamp > horizon) break;
        merged.push(p);
      }
    }
    if (merged.length === 0) {
      // Timestamps out of order within a source (a clock set back) can leave nothing under the horizon: take the
      // batch that starts earliest whole, so ingest always moves on.
      const waiting = batches.filter((b) => b.length > 0);
      if (waiting.length === 0) break;
      waiting.sort((a, b) => a[0]!.entry.timestamp - b[0]!.entry.timestamp);
      merged.push(...waiting[0]!);
    }
    merged.sort((a, b) => a.entry.timestamp - b.entry.timestamp || a.order - b.order || compareIds(a.entry.id, b.entry.id));

    for (const p of merged) {
      const key = def.partitioned ? String(p.entry.partition) : GLOBAL_KEY;
      const t = eventTimeOf(def, p.entry);
      const watermark = watermarks.get(key) ?? MIN_TIME;
      // Out of order in a session stream: the session it joins may have begun before it.
      const before = shape.type === "session" && t < watermark ? await tx.windows.lastTimeUpTo(def.id, key, t) : undefined;
      const sessionFrom = before !== undefined && t - before < shape.gapMs ? before : t;
      if (isLate(shape, t, watermark, sessionFrom)) {
        late.push(lateEntry(p, key, t));
      } else {
        await tx.windows.addItem(def.id, key, t, p.sourceId, p.entry.id);
        indexed++;
        if (t > watermark) {
          watermarks.set(key, t);
          touched.add(key);
        }
      }
      cursors.get(p.source)!.last = p.entry.id;
    }
    more = full.some(Boolean);
    if (!more) break;
  }

  for (const cursor of cursors.values()) await tx.windows.saveCursor(def.id, cursor);
  for (const key of touched) await tx.windows.saveWatermark(def.id, key, watermarks.get(key)!);
  if (late.length > 0) await appendInTx(tx, def.namespace, lateStreamName(def.name), late, now, "");
  if (indexed + late.length > 0) await tx.windows.addCounts(def.id, indexed, late.length);
  return { indexed, late: late.length, more };
}

/** A late entry keeps its payload, type and key; headers say where it came from and which window it missed. */
function withoutDeliveryLimit(headers: Record<string, string>): Record<string, string> {
  const { [MAX_DELIVERIES_HEADER]: _limit, ...rest } = headers;
  return rest;
}

function lateEntry(p: Pending, key: string, eventTime: number): NewEntry {
  const e = p.entry;
  return {
    payload: e.payload,
    type: e.type,
    key: e.key,
    headers: {
      // A late copy is a record of what arrived, not another delivery of the entry: its delivery limit stays behind.
      ...withoutDeliveryLimit(JSON.parse(e.headers) as Record<string, string>),
      "x-source-stream": p.source,
      "x-source-id": `${e.id.ms}-${e.id.seq}`,
      "x-source-partition": String(e.partition),
      "x-window-key": key,
      "x-event-time": String(eventTime),
    },
    correlationId: e.correlationId,
    causationId: e.causationId,
  };
}
