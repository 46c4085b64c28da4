// Entry rows: insert, point and range reads, the per-level scan behind group reads, trims, idempotency keys.
import type { StreamId } from "../../core/ids.js";
import type { Entry, PriorityLevel } from "../../core/types.js";
import { chunksOf, columnsOf, statementPerSize, valuesList, type Sql, type SqlValue } from "../sql.js";

/**
 * An entry's columns. The fields most entries leave empty (key, type, headers, correlation, causation and message
 * ids, deliverAt) share one JSON array column, `meta`, NULL when all are empty: each column costs time on every
 * insert and every read, and these are rarely set.
 */
export const ENTRY_COLUMNS = "ms, seq, partition_no, position, priority, payload, created_at, meta";
const INSERT_COLUMNS = `stream_id, ${ENTRY_COLUMNS}`;
const INSERT_WIDTH = 9;

type Meta = [string | null, string | null, string | null, string | null, string | null, string | null, number | null];

const EMPTY_HEADERS = "{}";

function metaOf(e: Entry): string | null {
  const headers = e.headers === EMPTY_HEADERS ? null : e.headers;
  const meta: Meta = [e.key, e.type, headers, e.correlationId, e.causationId, e.messageId, e.deliverAt];
  return meta.every((v) => v === null) ? null : JSON.stringify(meta);
}

/** An entry from a row of ENTRY_COLUMNS, in that order, as `Sql.rows` answers it (columns after them are ignored). */
export function toEntry(row: readonly SqlValue[]): Entry {
  const text = row[7] as string | null;
  const meta = text === null ? undefined : (JSON.parse(text) as Meta);
  return {
    id: { ms: Number(row[0]), seq: Number(row[1]) },
    partition: row[2] as number,
    offset: Number(row[3]),
    priority: row[4] as PriorityLevel,
    payload: row[5] as string,
    timestamp: Number(row[6]),
    key: meta?.[0] ?? null,
    type: meta?.[1] ?? null,
    headers: meta?.[2] ?? EMPTY_HEADERS,
    correlationId: meta?.[3] ?? null,
    causationId: meta?.[4] ?? null,
    messageId: meta?.[5] ?? null,
    deliverAt: meta?.[6] ?? null,
  };
}

/** One entry's insert parameters after the stream id, in INSERT_COLUMNS order. */
function entryParams(e: Entry): SqlValue[] {
  return [e.id.ms, e.id.seq, e.partition, e.offset, e.priority, e.payload, e.timestamp, metaOf(e)];
}

const PG_INSERT =
  `INSERT INTO entries (${INSERT_COLUMNS}) SELECT ?::bigint, * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ` +
  "?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::text[])";

/** The SQLite insert statement for `rows` rows (chunksOf keeps the shapes to seven). */
const insertStatement = statementPerSize((rows) => `INSERT INTO entries (${INSERT_COLUMNS}) VALUES ${valuesList(rows, INSERT_WIDTH)}`);

/** What EntryQueries.firstPositionAfter answers. */
export interface PositionsAfter {
  first: number | null;
  levels: number;
  positions: number[];
  maxDeleted: StreamId;
}

export interface DedupeHit {
  id: StreamId;
  partition: number;
  offset: number;
}

export class EntryQueries {
  /**
   * SQLite has no statistics unless ANALYZE ran, and then may walk the primary key and filter; pin the index
   * that matches (stream, partition, priority, id). PostgreSQL's planner picks it (checked with EXPLAIN).
   */
  private readonly byLevel: string;

  constructor(private readonly sql: Sql) {
    this.byLevel = sql.dialect === "sqlite" ? " INDEXED BY entries_by_level" : "";
  }

  /**
   * SQLite: multi-row statements. PostgreSQL: one statement for any number of rows, its columns sent as arrays
   * (`unnest`), so there is a single prepared shape and a single round trip.
   * EXPLAIN: a plain insert into the primary key and entries_by_level; no read.
   */
  async insert(streamId: number, entries: readonly Entry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.sql.dialect === "postgres") {
      await this.sql.run(PG_INSERT, [streamId, ...columnsOf(entries, entryParams)]);
      return;
    }
    for (const chunk of chunksOf(this.sql, entries)) {
      const params: SqlValue[] = [];
      for (const e of chunk) {
        params.push(streamId, e.id.ms, e.id.seq, e.partition, e.offset, e.priority, e.payload, e.timestamp, metaOf(e));
      }
      await this.sql.run(insertStatement(chunk.length), params);
    }
  }

  async get(streamId: number, id: StreamId): Promise<Entry | undefined> {
    const [row] = await this.sql.rows(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE stream_id = ? AND ms = ? AND seq = ?`, [
      streamId,
      id.ms,
      id.seq,
    ]);
    return row && toEntry(row);
  }

  /**
   * Entries with start <= id <= end, oldest first (or newest first with `reverse`).
   * EXPLAIN (PostgreSQL 15, SQLite 3.53, 64k entries): an index range scan of the primary key, backwards for
   * `reverse`; both use the index for the row-value bounds `(ms, seq) >= (?, ?)`.
   */
  async range(streamId: number, start: StreamId, end: StreamId, count: number, reverse = false): Promise<Entry[]> {
    const order = reverse ? "DESC" : "ASC";
    const rows = await this.sql.rows(
      `SELECT ${ENTRY_COLUMNS} FROM entries WHERE stream_id = ? AND (ms, seq) >= (?, ?) AND (ms, seq) <= (?, ?) ` +
        `ORDER BY ms ${order}, seq ${order} LIMIT ?`,
      [streamId, start.ms, start.seq, end.ms, end.seq, count],
    );
    return rows.map(toEntry);
  }

  /**
   * The next entries of one partition and priority level after a group's cursor, in id order.
   * EXPLAIN: an index range scan of entries_by_level on all five columns (pinned with INDEXED BY on SQLite).
   */
  async scanLevel(streamId: number, partition: number, level: number, after: StreamId, count: number): Promise<Entry[]> {
    const rows = await this.sql.rows(
      `SELECT ${ENTRY_COLUMNS} FROM entries${this.byLevel} WHERE stream_id = ? AND partition_no = ? AND priority = ? ` +
        "AND (ms, seq) > (?, ?) ORDER BY ms, seq LIMIT ?",
      [streamId, partition, level, after.ms, after.seq, count],
    );
    return rows.map(toEntry);
  }

  async first(streamId: number): Promise<Entry | undefined> {
    const [row] = await this.sql.rows(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE stream_id = ? ORDER BY ms, seq LIMIT 1`, [
      streamId,
    ]);
    return row && toEntry(row);
  }

  async last(streamId: number): Promise<Entry | undefined> {
    const [row] = await this.sql.rows(
      `SELECT ${ENTRY_COLUMNS} FROM entries WHERE stream_id = ? ORDER BY ms DESC, seq DESC LIMIT 1`,
      [streamId],
    );
    return row && toEntry(row);
  }

  /** How many entries of one partition and priority level lie after a group's cursor (its undelivered ones). */
  async countLevelAfter(streamId: number, partition: number, level: number, after: StreamId): Promise<number> {
    const row = await this.sql.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM entries${this.byLevel} WHERE stream_id = ? AND partition_no = ? AND priority = ? AND (ms, seq) > (?, ?)`,
      [streamId, partition, level, after.ms, after.seq],
    );
    return Number(row?.n ?? 0);
  }

  /**
   * The position of the first entry of one partition and level after `after` (null when there is none), with
   * the stream row's levels, positions and deletion mark as the same statement saw them.
   * EXPLAIN: the stream by primary key; one probe of entries_by_level (pinned with INDEXED BY on SQLite), then
   * that entry's row by primary key.
   */
  async firstPositionAfter(streamId: number, partition: number, level: number, after: StreamId): Promise<PositionsAfter> {
    const row = await this.sql.get<{ first: number | null; levels: number; positions: string; max_deleted_ms: number; max_deleted_seq: number }>(
      `SELECT (SELECT position FROM entries${this.byLevel} WHERE stream_id = s.id AND partition_no = ? AND priority = ? ` +
        "AND (ms, seq) > (?, ?) ORDER BY ms, seq LIMIT 1) AS first, levels, positions, max_deleted_ms, max_deleted_seq " +
        "FROM streams s WHERE id = ?",
      [partition, level, after.ms, after.seq, streamId],
    );
    if (!row) return { first: null, levels: 0, positions: [], maxDeleted: { ms: 0, seq: 0 } };
    return {
      first: row.first === null ? null : Number(row.first),
      levels: row.levels,
      positions: JSON.parse(row.positions) as number[],
      maxDeleted: { ms: row.max_deleted_ms, seq: row.max_deleted_seq },
    };
  }

  /** Deletes entries by id; answers the ids that were there. */
  async delete(streamId: number, ids: readonly StreamId[]): Promise<StreamId[]> {
    const deleted: StreamId[] = [];
    for (const id of ids) {
      const n = await this.sql.run("DELETE FROM entries WHERE stream_id = ? AND ms = ? AND seq = ?", [streamId, id.ms, id.seq]);
      if (n > 0) deleted.push(id);
    }
    return deleted;
  }

  /** The id of the entry `skip` places after the oldest, i.e. the newest one a MAXLEN trim removes. */
  async idAtPosition(streamId: number, skip: number): Promise<StreamId | undefined> {
    const row = await this.sql.get<{ ms: number; seq: number }>(
      "SELECT ms, seq FROM entries WHERE stream_id = ? ORDER BY ms, seq LIMIT 1 OFFSET ?",
      [streamId, skip],
    );
    return row && { ms: row.ms, seq: row.seq };
  }

  /** Deletes every entry with id <= `upTo` (inclusive) and answers how many went. */
  async deleteUpTo(streamId: number, upTo: StreamId): Promise<number> {
    return this.sql.run("DELETE FROM entries WHERE stream_id = ? AND (ms, seq) <= (?, ?)", [
      streamId,
      upTo.ms,
      upTo.seq,
    ]);
  }

  /** Deletes every entry with id < `below` and answers how many went. */
  async deleteBelow(streamId: number, below: StreamId): Promise<number> {
    return this.sql.run("DELETE FROM entries WHERE stream_id = ? AND (ms, seq) < (?, ?)", [
      streamId,
      below.ms,
      below.seq,
    ]);
  }

  /** EXPLAIN: a primary-key lookup on dedupe. */
  async findDedupe(streamId: number, key: string, since: number): Promise<DedupeHit | undefined> {
    const row = await this.sql.get<{ ms: number; seq: number; partition_no: number; position: number }>(
      "SELECT ms, seq, partition_no, position FROM dedupe WHERE stream_id = ? AND dedupe_key = ? AND created_at >= ?",
      [streamId, key, since],
    );
    return row && { id: { ms: row.ms, seq: row.seq }, partition: row.partition_no, offset: row.position };
  }

  async saveDedupe(streamId: number, key: string, hit: DedupeHit, now: number): Promise<void> {
    await this.sql.run(
      "INSERT INTO dedupe (stream_id, dedupe_key, ms, seq, partition_no, position, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (stream_id, dedupe_key) DO UPDATE SET ms = excluded.ms, seq = excluded.seq, " +
        "partition_no = excluded.partition_no, position = excluded.position, created_at = excluded.created_at",
      [streamId, key, hit.id.ms, hit.id.seq, hit.partition, hit.offset, now],
    );
  }

  /** Forgets idempotency keys recorded before `before` (every stream). */
  async purgeDedupe(before: number): Promise<number> {
    return this.sql.run("DELETE FROM dedupe WHERE created_at < ?", [before]);
  }
}
