// The append path inside a transaction: ids, partitions, idempotency, retention. Shared by appends and dead letters.
import { BadRequestError, NotFoundError } from "../core/errors.js";
import { compareIds, nextAppendId, parseAppendId, type StreamId } from "../core/ids.js";
import { partitionFor } from "../core/partition.js";
import {
  checkDeliveryLimit,
  DEFAULT_PRIORITY,
  DEFAULT_STREAM_CONFIG,
  MAX_DELIVERIES_HEADER,
  priorityLevel,
  type AppendResult,
  type Entry,
  type NewEntry,
  type StreamConfig,
} from "../core/types.js";
import type { StreamRecord, Tx } from "../storage/index.js";

export interface AppendOutcome {
  stream: StreamRecord;
  results: AppendResult[];
  /** How many entries were stored (duplicates are not). */
  stored: number;
}

function dedupeKey(e: NewEntry): string | null {
  if (e.messageId === undefined || e.messageId === null) return null;
  // A JSON pair cannot collide the way a separator could, and holds no NUL (which PostgreSQL text refuses).
  return JSON.stringify([e.producerId ?? "", e.messageId]);
}

export async function loadOrCreateStream(
  tx: Tx,
  namespace: string,
  name: string,
  now: number,
  config: StreamConfig = DEFAULT_STREAM_CONFIG,
): Promise<StreamRecord> {
  return (await tx.streams.get(namespace, name, true)) ?? (await tx.streams.create(namespace, name, config, now)).stream;
}

export async function requireStream(tx: Tx, namespace: string, name: string, lock = false): Promise<StreamRecord> {
  const stream = await tx.streams.get(namespace, name, lock);
  if (!stream) throw new NotFoundError(`stream '${name}' does not exist`, { field: "stream" });
  return stream;
}

/** The field an error about entry `i`'s `leaf` blames: `entries/3/id` in a batch, `id` for a lone entry (`field` ""). */
function entryField(field: string, i: number, leaf: string): string {
  return field ? `${field}/${i}/${leaf}` : leaf;
}

/**
 * Refuses entries whose headers Runnel would misread, before any of them is stored: the delivery-limit header
 * must be a whole number from 1 up.
 */
export function checkHeaders(inputs: readonly NewEntry[], field: string): void {
  for (let i = 0; i < inputs.length; i++) {
    const limit = inputs[i]!.headers?.[MAX_DELIVERIES_HEADER];
    if (limit !== undefined) checkDeliveryLimit(limit, entryField(field, i, `headers/${MAX_DELIVERIES_HEADER}`));
  }
}

/**
 * Appends `inputs` to a stream (created when missing) as one atomic unit. `field` names the request field
 * for error messages (`entries/3/id`).
 */
export async function appendInTx(
  tx: Tx,
  namespace: string,
  name: string,
  inputs: readonly NewEntry[],
  now: number,
  field = "entries",
): Promise<AppendOutcome> {
  const stream = await loadOrCreateStream(tx, namespace, name, now);
  const { partitions, dedupeWindowMs } = stream.config;
  const results: AppendResult[] = [];
  const rows: Entry[] = [];
  const seen = new Map<string, AppendResult>();

  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    // `field` is empty for a lone entry object; a batch names the index, even in a batch of one.
    const path = (leaf: string) => entryField(field, i, leaf);
    const key = dedupeKey(input);
    if (key !== null) {
      const hit = seen.get(key) ?? (await tx.entries.findDedupe(stream.id, key, now - dedupeWindowMs));
      if (hit) {
        results.push({ id: hit.id, partition: hit.partition, offset: hit.offset, duplicate: true });
        continue;
      }
    }
    // The field path is only needed in an error message; an auto id (the common case) never builds it.
    const idField = input.id === undefined ? "id" : path("id");
    const id = nextAppendId(stream.top, now, parseAppendId(input.id, idField), idField);
    const partition = input.partition ?? partitionFor(input.key, partitions, stream.entriesAdded + rows.length);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new BadRequestError(`partition must be between 0 and ${partitions - 1}`, {
        field: path("partition"),
      });
    }
    const offset = stream.positions[partition]!;
    stream.positions[partition] = offset + 1;
    const level = priorityLevel(input.priority ?? DEFAULT_PRIORITY);
    stream.levels |= 1 << level;
    stream.top = id;
    rows.push({
      id,
      partition,
      offset,
      key: input.key ?? null,
      type: input.type ?? null,
      headers: JSON.stringify(input.headers ?? {}),
      payload: input.payload,
      priority: level,
      correlationId: input.correlationId ?? null,
      causationId: input.causationId ?? null,
      messageId: input.messageId ?? null,
      timestamp: now,
      deliverAt: input.deliverAt ?? null,
    });
    const result: AppendResult = { id, partition, offset, duplicate: false };
    results.push(result);
    if (key !== null) {
      seen.set(key, result);
      await tx.entries.saveDedupe(stream.id, key, result, now);
    }
  }

  if (rows.length > 0) {
    await tx.entries.insert(stream.id, rows);
    await tx.streams.saveAppend(stream, rows.length);
    stream.entriesAdded += rows.length;
    stream.length += rows.length;
    await applyRetention(tx, stream, now);
  }
  return { stream, results, stored: rows.length };
}

/** Entries deleted from a stream in one unit of work: how many, and an id none of them is above. */
export class Removal {
  count = 0;
  upTo: StreamId = { ms: 0, seq: 0 };

  add(count: number, upTo: StreamId): void {
    if (count === 0) return;
    this.count += count;
    if (compareIds(upTo, this.upTo) > 0) this.upTo = upTo;
  }

  /** Writes the new length and deletion mark to the stream row and to `stream`; answers the count. */
  async record(tx: Tx, stream: StreamRecord): Promise<number> {
    if (this.count === 0) return 0;
    await tx.streams.recordRemoval(stream.id, this.count, this.upTo);
    stream.length -= this.count;
    if (compareIds(this.upTo, stream.maxDeleted) > 0) stream.maxDeleted = this.upTo;
    return this.count;
  }
}

/** Deletes entries by id (XDEL); answers how many there were. */
export async function deleteIds(tx: Tx, stream: StreamRecord, ids: readonly StreamId[]): Promise<number> {
  const removal = new Removal();
  for (const id of await tx.entries.delete(stream.id, ids)) removal.add(1, id);
  return removal.record(tx, stream);
}

/** Trims by the stream's maxLen and maxAge; answers how many entries went. */
export async function applyRetention(tx: Tx, stream: StreamRecord, now: number): Promise<number> {
  const removal = new Removal();
  const { maxLen, maxAgeMs } = stream.config;
  if (maxAgeMs !== null) {
    const below = { ms: Math.max(0, now - maxAgeMs), seq: 0 };
    removal.add(await tx.entries.deleteBelow(stream.id, below), below);
  }
  if (maxLen !== null && stream.length - removal.count > maxLen) {
    await trimToLength(tx, stream.id, stream.length - removal.count, maxLen, removal);
  }
  return removal.record(tx, stream);
}

/** Deletes the oldest entries until `maxLen` remain, adding them to `removal`. */
export async function trimToLength(tx: Tx, streamId: number, length: number, maxLen: number, removal: Removal): Promise<void> {
  const excess = length - maxLen;
  if (excess <= 0) return;
  const boundary = await tx.entries.idAtPosition(streamId, excess - 1);
  if (boundary) removal.add(await tx.entries.deleteUpTo(streamId, boundary), boundary);
}
