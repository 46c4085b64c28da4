// Stream rows: lookup, creation, configuration, the top id and counters.
import type { StreamId } from "../../core/ids.js";
import type { StreamConfig } from "../../core/types.js";
import type { StreamRecord } from "../records.js";
import { forUpdate, type Sql } from "../sql.js";

export interface StreamRow {
  id: number;
  namespace: string;
  name: string;
  partitions: number;
  max_len: number | null;
  max_age_ms: number | null;
  max_deliveries: number | null;
  dead_letter_stream: string | null;
  dedupe_window_ms: number;
  last_ms: number;
  last_seq: number;
  entries_added: number;
  length: number;
  levels: number;
  positions: string;
  max_deleted_ms: number;
  max_deleted_seq: number;
  created_at: number;
}

export const COLUMNS =
  "id, namespace, name, partitions, max_len, max_age_ms, max_deliveries, dead_letter_stream, dedupe_window_ms, " +
  "last_ms, last_seq, entries_added, length, levels, positions, max_deleted_ms, max_deleted_seq, created_at";

export function toRecord(row: StreamRow): StreamRecord {
  return {
    id: Number(row.id),
    namespace: row.namespace,
    name: row.name,
    config: {
      partitions: row.partitions,
      maxLen: row.max_len,
      maxAgeMs: row.max_age_ms,
      maxDeliveries: row.max_deliveries,
      deadLetterStream: row.dead_letter_stream,
      dedupeWindowMs: row.dedupe_window_ms,
    },
    top: { ms: row.last_ms, seq: row.last_seq },
    entriesAdded: row.entries_added,
    length: row.length,
    levels: row.levels,
    positions: JSON.parse(row.positions) as number[],
    maxDeleted: { ms: row.max_deleted_ms, seq: row.max_deleted_seq },
    createdAt: row.created_at,
  };
}

export class StreamQueries {
  constructor(private readonly sql: Sql) {}

  /**
   * With `lock`, PostgreSQL holds the row until commit so appends to one stream serialise.
   * EXPLAIN: a lookup of the unique (namespace, name) index.
   */
  async get(namespace: string, name: string, lock = false): Promise<StreamRecord | undefined> {
    const row = await this.sql.get<StreamRow>(
      `SELECT ${COLUMNS} FROM streams WHERE namespace = ? AND name = ?${lock ? forUpdate(this.sql) : ""}`,
      [namespace, name],
    );
    return row && toRecord(row);
  }

  async list(namespace: string): Promise<StreamRecord[]> {
    const rows = await this.sql.all<StreamRow>(`SELECT ${COLUMNS} FROM streams WHERE namespace = ? ORDER BY name`, [
      namespace,
    ]);
    return rows.map(toRecord);
  }

  async withMaxAge(): Promise<StreamRecord[]> {
    const rows = await this.sql.all<StreamRow>(`SELECT ${COLUMNS} FROM streams WHERE max_age_ms IS NOT NULL`);
    return rows.map(toRecord);
  }

  /** Creates the stream unless it exists (another node may race us); answers the row either way. */
  /**
   * Creates the stream unless it exists (another node may create it at the same moment); answers the stream and
   * whether this call made it.
   */
  async create(namespace: string, name: string, config: StreamConfig, now: number): Promise<{ stream: StreamRecord; inserted: boolean }> {
    const inserted = await this.sql.run(
      "INSERT INTO streams (namespace, name, partitions, max_len, max_age_ms, max_deliveries, dead_letter_stream, " +
        "dedupe_window_ms, positions, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (namespace, name) DO NOTHING",
      [
        namespace,
        name,
        config.partitions,
        config.maxLen,
        config.maxAgeMs,
        config.maxDeliveries,
        config.deadLetterStream,
        config.dedupeWindowMs,
        JSON.stringify(new Array(config.partitions).fill(0)),
        now,
      ],
    );
    const stream = await this.get(namespace, name, true);
    if (!stream) throw new Error(`stream ${namespace}/${name} vanished while being created`);
    return { stream, inserted: inserted > 0 };
  }

  async updateConfig(id: number, config: StreamConfig, positions: number[]): Promise<void> {
    await this.sql.run(
      "UPDATE streams SET partitions = ?, max_len = ?, max_age_ms = ?, max_deliveries = ?, dead_letter_stream = ?, " +
        "dedupe_window_ms = ?, positions = ? WHERE id = ?",
      [
        config.partitions,
        config.maxLen,
        config.maxAgeMs,
        config.maxDeliveries,
        config.deadLetterStream,
        config.dedupeWindowMs,
        JSON.stringify(positions),
        id,
      ],
    );
  }

  /** Records what an append changed: the top id, counters, levels seen and positions. */
  async saveAppend(stream: StreamRecord, added: number): Promise<void> {
    await this.sql.run(
      "UPDATE streams SET last_ms = ?, last_seq = ?, entries_added = entries_added + ?, length = length + ?, " +
        "levels = ?, positions = ? WHERE id = ?",
      [stream.top.ms, stream.top.seq, added, added, stream.levels, JSON.stringify(stream.positions), stream.id],
    );
  }

  /** Records that `count` entries, none above `upTo`, were deleted: the length drops and the deletion mark rises. */
  async recordRemoval(id: number, count: number, upTo: StreamId): Promise<void> {
    if (count === 0) return;
    const raise = "CASE WHEN (max_deleted_ms, max_deleted_seq) < (?, ?) THEN ? ELSE";
    await this.sql.run(
      `UPDATE streams SET length = length - ?, max_deleted_ms = ${raise} max_deleted_ms END, ` +
        `max_deleted_seq = ${raise} max_deleted_seq END WHERE id = ?`,
      [count, upTo.ms, upTo.seq, upTo.ms, upTo.ms, upTo.seq, upTo.seq, id],
    );
  }

  async delete(id: number): Promise<void> {
    for (const table of ["pending", "pending_runs", "group_deferred", "group_cursors", "consumers"]) {
      await this.sql.run(`DELETE FROM ${table} WHERE stream_id = ?`, [id]);
    }
    await this.sql.run("DELETE FROM consumer_groups WHERE stream_id = ?", [id]);
    await this.sql.run("DELETE FROM dedupe WHERE stream_id = ?", [id]);
    await this.sql.run("DELETE FROM entries WHERE stream_id = ?", [id]);
    await this.sql.run("DELETE FROM streams WHERE id = ?", [id]);
  }
}
