// The pending entries list (PEL) of a group: delivered, not yet acknowledged.
import type { StreamId } from "../../core/ids.js";
import type { PendingRecord } from "../records.js";
import { chunksOf, columnsOf, paddedChunksOf, statementPerSize, valuesList, type Sql, type SqlValue } from "../sql.js";
import { parseHistory } from "./groups.js";

interface PendingRow {
  ms: number;
  seq: number;
  partition_no: number;
  consumer: string;
  delivered_at: number;
  delivery_count: number;
  history: string | null;
}

const COLUMNS = "ms, seq, partition_no, consumer, delivered_at, delivery_count, history";
const UPSERT =
  "ON CONFLICT (stream_id, group_name, ms, seq) DO UPDATE SET consumer = excluded.consumer, " +
  "delivered_at = excluded.delivered_at, delivery_count = excluded.delivery_count, history = excluded.history";

function toPending(row: PendingRow): PendingRecord {
  return {
    id: { ms: row.ms, seq: row.seq },
    partition: row.partition_no,
    consumer: row.consumer,
    deliveredAt: row.delivered_at,
    deliveryCount: row.delivery_count,
    history: parseHistory(row.history),
  };
}

export interface PendingFilter {
  start: StreamId;
  end: StreamId;
  count: number;
  consumer?: string | undefined;
  /** Only entries delivered at or before this time (an idle filter). */
  deliveredBefore?: number | undefined;
}

const insertSql = statementPerSize(
  (rows) => `INSERT INTO pending (stream_id, group_name, ${COLUMNS}) VALUES ${valuesList(rows, 9)} ${UPSERT}`,
);
const deleteSql = statementPerSize(
  (rows) =>
    "DELETE FROM pending WHERE stream_id = (SELECT id FROM streams WHERE namespace = ? AND name = ?) AND group_name = ? " +
    `AND (ms, seq) IN (${valuesList(rows, 2)})`,
);

export class PendingQueries {
  /** As for entries: SQLite without statistics would walk the primary key and filter by consumer. */
  private readonly byConsumer: string;

  constructor(private readonly sql: Sql) {
    this.byConsumer = sql.dialect === "sqlite" ? " INDEXED BY pending_by_consumer" : "";
  }

  async add(streamId: number, group: string, rec: PendingRecord): Promise<void> {
    await this.addMany(streamId, group, [rec]);
  }

  /**
   * Records deliveries. SQLite: multi-row statements. PostgreSQL: one statement whose rows come from arrays
   * (`unnest`): a single prepared shape and a single round trip for any number of rows.
   * EXPLAIN: inserts (and conflict checks) on the primary key; no scan.
   */
  async addMany(streamId: number, group: string, recs: readonly PendingRecord[]): Promise<void> {
    if (recs.length === 0) return;
    const values = (rec: PendingRecord): SqlValue[] => [
      rec.id.ms,
      rec.id.seq,
      rec.partition,
      rec.consumer,
      rec.deliveredAt,
      rec.deliveryCount,
      rec.history && JSON.stringify(rec.history),
    ];
    if (this.sql.dialect === "postgres") {
      await this.sql.run(
        `INSERT INTO pending (stream_id, group_name, ${COLUMNS}) SELECT ?::bigint, ?::text, * FROM ` +
          `unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::text[]) ${UPSERT}`,
        [streamId, group, ...columnsOf(recs, values)],
      );
      return;
    }
    for (const chunk of chunksOf(this.sql, recs)) {
      const params: SqlValue[] = [];
      for (const rec of chunk) params.push(streamId, group, ...values(rec));
      await this.sql.run(insertSql(chunk.length), params);
    }
  }

  async get(streamId: number, group: string, id: StreamId): Promise<PendingRecord | undefined> {
    const row = await this.sql.get<PendingRow>(
      `SELECT ${COLUMNS} FROM pending WHERE stream_id = ? AND group_name = ? AND ms = ? AND seq = ?`,
      [streamId, group, id.ms, id.seq],
    );
    return row && toPending(row);
  }

  /**
   * Removes the given ids from the PEL of the named stream's group and answers how many were there. The stream is
   * found inside the statement, so an ack needs no lookup first; an unknown stream or group answers 0 as well.
   * EXPLAIN (both): the stream by its unique (namespace, name) index, once; then one primary-key probe per id.
   */
  async removeMany(namespace: string, stream: string, group: string, ids: readonly StreamId[]): Promise<number> {
    let n = 0;
    for (const chunk of paddedChunksOf(this.sql, ids)) {
      const params: SqlValue[] = [namespace, stream, group];
      for (const id of chunk) params.push(id.ms, id.seq);
      n += await this.sql.run(deleteSql(chunk.length), params);
    }
    return n;
  }

  async remove(streamId: number, group: string, id: StreamId): Promise<boolean> {
    const n = await this.sql.run("DELETE FROM pending WHERE stream_id = ? AND group_name = ? AND ms = ? AND seq = ?", [
      streamId,
      group,
      id.ms,
      id.seq,
    ]);
    return n > 0;
  }

  /**
   * A consumer's own pending entries after `after`, oldest first.
   * EXPLAIN: an index range scan of pending_by_consumer (pinned with INDEXED BY on SQLite).
   */
  async ofConsumer(streamId: number, group: string, consumer: string, after: StreamId, count: number) {
    const rows = await this.sql.all<PendingRow>(
      `SELECT ${COLUMNS} FROM pending${this.byConsumer} WHERE stream_id = ? AND group_name = ? AND consumer = ? AND (ms, seq) > (?, ?) ` +
        "ORDER BY ms, seq LIMIT ?",
      [streamId, group, consumer, after.ms, after.seq, count],
    );
    return rows.map(toPending);
  }

  async list(streamId: number, group: string, filter: PendingFilter): Promise<PendingRecord[]> {
    const params: SqlValue[] = [streamId, group, filter.start.ms, filter.start.seq, filter.end.ms, filter.end.seq];
    let where = "stream_id = ? AND group_name = ? AND (ms, seq) >= (?, ?) AND (ms, seq) <= (?, ?)";
    if (filter.consumer !== undefined) {
      where += " AND consumer = ?";
      params.push(filter.consumer);
    }
    if (filter.deliveredBefore !== undefined) {
      where += " AND delivered_at <= ?";
      params.push(filter.deliveredBefore);
    }
    params.push(filter.count);
    const index = filter.consumer !== undefined ? this.byConsumer : "";
    const rows = await this.sql.all<PendingRow>(
      `SELECT ${COLUMNS} FROM pending${index} WHERE ${where} ORDER BY ms, seq LIMIT ?`,
      params,
    );
    return rows.map(toPending);
  }

  async summary(streamId: number, group: string) {
    const totals = await this.sql.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM pending WHERE stream_id = ? AND group_name = ?",
      [streamId, group],
    );
    const count = Number(totals?.n ?? 0);
    if (count === 0) return { count, smallest: null, largest: null, consumers: [] };
    const smallest = await this.sql.get<{ ms: number; seq: number }>(
      "SELECT ms, seq FROM pending WHERE stream_id = ? AND group_name = ? ORDER BY ms, seq LIMIT 1",
      [streamId, group],
    );
    const largest = await this.sql.get<{ ms: number; seq: number }>(
      "SELECT ms, seq FROM pending WHERE stream_id = ? AND group_name = ? ORDER BY ms DESC, seq DESC LIMIT 1",
      [streamId, group],
    );
    const consumers = await this.sql.all<{ consumer: string; n: number }>(
      "SELECT consumer, COUNT(*) AS n FROM pending WHERE stream_id = ? AND group_name = ? GROUP BY consumer ORDER BY consumer",
      [streamId, group],
    );
    return {
      count,
      smallest: smallest ? { ms: smallest.ms, seq: smallest.seq } : null,
      largest: largest ? { ms: largest.ms, seq: largest.seq } : null,
      consumers: consumers.map((c) => ({ name: c.consumer, pending: Number(c.n) })),
    };
  }

  async countForGroup(streamId: number, group: string): Promise<number> {
    const row = await this.sql.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM pending WHERE stream_id = ? AND group_name = ?",
      [streamId, group],
    );
    return Number(row?.n ?? 0);
  }
}
