// The pending entries list (PEL) of a group: delivered, not yet acknowledged.
//
// Two tables hold it. `pending` has a row per entry. `pending_runs` holds what one group read delivered for the
// first time, to one consumer at one moment, as a single row (a run), so a batch that is read and then
// acknowledged whole costs one row written and one deleted instead of one per entry. Every read of the PEL sees
// both. A change to single entries (a claim, a re-delivery, a nack, an ack of part of a run) first moves the
// runs it touches into `pending`. A run is never updated, only deleted: whoever deletes it owns its entries,
// which is what keeps concurrent acks and claims on PostgreSQL from both taking the same entries.
import { compareIds, MAX_ID, type StreamId } from "../../core/ids.js";
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

interface RunRow {
  stream_id: number;
  last_ms: number;
  last_seq: number;
  first_ms: number;
  first_seq: number;
  consumer: string;
  delivered_at: number;
  /** `ms-seq` per entry, `ms-seq:p` for an entry of partition p > 0, comma-separated. */
  ids: string;
}

const COLUMNS = "ms, seq, partition_no, consumer, delivered_at, delivery_count, history";
const UPSERT =
  "ON CONFLICT (stream_id, group_name, ms, seq) DO UPDATE SET consumer = excluded.consumer, " +
  "delivered_at = excluded.delivered_at, delivery_count = excluded.delivery_count, history = excluded.history";
const RUN_COLUMNS = "stream_id, last_ms, last_seq, first_ms, first_seq, consumer, delivered_at, ids";
/** Runs that may hold ids in a range: those that end at or after its start and begin at or before its end. */
const RUNS_IN_RANGE = "(last_ms, last_seq) >= (?, ?) AND (first_ms, first_seq) <= (?, ?)";
/** A delivery of fewer entries is written as rows. */
const RUN_MIN = 2;
/** When a group read's range holds more rows than this, its entries are written as rows without looking further. */
const ROWS_CHECKED = 1000;

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

const keyOf = (id: StreamId): string => `${id.ms}-${id.seq}`;

/** The `ms-seq` key of one item of a run's `ids`. */
function itemKey(item: string): string {
  const colon = item.indexOf(":");
  return colon < 0 ? item : item.slice(0, colon);
}

/** A run's entries as pending records: each delivered once, to the run's consumer, at its time. */
function runRecords(run: RunRow, items: readonly string[] = run.ids.split(",")): PendingRecord[] {
  return items.map((item) => {
    const colon = item.indexOf(":");
    const key = colon < 0 ? item : item.slice(0, colon);
    const dash = key.indexOf("-");
    return {
      id: { ms: Number(key.slice(0, dash)), seq: Number(key.slice(dash + 1)) },
      partition: colon < 0 ? 0 : Number(item.slice(colon + 1)),
      consumer: run.consumer,
      deliveredAt: run.delivered_at,
      deliveryCount: 1,
      history: null,
    };
  });
}

/** Whether a run holds any of the ids in `keys`. */
function runHoldsAny(run: RunRow, keys: ReadonlySet<string>): boolean {
  return run.ids.split(",").some((item) => keys.has(itemKey(item)));
}

/** Runs in the order of their keys: two transactions deleting the same runs lock them in one order (no deadlock). */
function inKeyOrder(runs: readonly RunRow[]): RunRow[] {
  return [...runs].sort((a, b) => a.last_ms - b.last_ms || a.last_seq - b.last_seq);
}

function bounds(recs: readonly { id: StreamId }[]): [StreamId, StreamId] {
  let min = recs[0]!.id;
  let max = min;
  for (const { id } of recs) {
    if (compareIds(id, min) < 0) min = id;
    if (compareIds(id, max) > 0) max = id;
  }
  return [min, max];
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
  /** The runs in a range, and (marked by a NULL `ids`) up to ROWS_CHECKED rows of `pending` in it. */
  private readonly runsAndRowsSql: string;

  constructor(private readonly sql: Sql) {
    this.byConsumer = sql.dialect === "sqlite" ? " INDEXED BY pending_by_consumer" : "";
    this.runsAndRowsSql =
      `SELECT ${RUN_COLUMNS} FROM pending_runs WHERE stream_id = ? AND group_name = ? AND ${RUNS_IN_RANGE} UNION ALL ` +
      "SELECT * FROM (SELECT stream_id, ms, seq, ms, seq, NULL, CAST(NULL AS BIGINT), NULL FROM pending " +
      `WHERE stream_id = ? AND group_name = ? AND (ms, seq) >= (?, ?) AND (ms, seq) <= (?, ?) LIMIT ${ROWS_CHECKED}) AS p`;
  }

  async add(streamId: number, group: string, rec: PendingRecord): Promise<void> {
    const runs = await this.runsBetween(streamId, group, rec.id, rec.id);
    const key = new Set([keyOf(rec.id)]);
    await this.explode(
      group,
      runs.filter((run) => runHoldsAny(run, key)),
    );
    await this.insertRows(streamId, group, [rec]);
  }

  /**
   * Rewrites the record of an entry that is still pending (a claim, a re-delivery) and answers true; answers false,
   * writing nothing, once it no longer is. On PostgreSQL another node may have acknowledged or taken the entry
   * since this transaction read it: an upsert would put an acknowledged entry back.
   */
  async replace(streamId: number, group: string, rec: PendingRecord): Promise<boolean> {
    const runs = await this.runsBetween(streamId, group, rec.id, rec.id);
    const key = new Set([keyOf(rec.id)]);
    await this.explode(
      group,
      runs.filter((run) => runHoldsAny(run, key)),
    );
    const n = await this.sql.run(
      "UPDATE pending SET consumer = ?, delivered_at = ?, delivery_count = ?, history = ? " +
        "WHERE stream_id = ? AND group_name = ? AND ms = ? AND seq = ?",
      [rec.consumer, rec.deliveredAt, rec.deliveryCount, rec.history && JSON.stringify(rec.history), streamId, group, rec.id.ms, rec.id.seq],
    );
    return n > 0;
  }

  /**
   * Records what a group read delivered. Entries delivered for the first time, none of them pending already,
   * become one run; anything else becomes rows (after the runs holding any of them were moved into rows).
   * EXPLAIN: one primary-key range of the group's runs and one of its rows, between the batch's smallest and
   * largest ids: with one partition, nothing is pending past the group's cursor, so both come back empty.
   */
  async addMany(streamId: number, group: string, recs: readonly PendingRecord[]): Promise<void> {
    if (recs.length === 0) return;
    const [min, max] = bounds(recs);
    const range = [streamId, group, min.ms, min.seq, max.ms, max.seq];
    const found = await this.sql.all<RunRow>(this.runsAndRowsSql, [...range, ...range]);
    const keys = new Set(recs.map((r) => keyOf(r.id)));
    const runs = found.filter((r) => r.ids !== null);
    const holding = runs.filter((run) => runHoldsAny(run, keys));
    const rowsHit =
      found.length - runs.length >= ROWS_CHECKED ||
      found.some((r) => r.ids === null && keys.has(`${r.last_ms}-${r.last_seq}`));
    const first = recs[0]!;
    const fresh = recs.every(
      (r) =>
        r.deliveryCount === 1 && r.history === null && r.consumer === first.consumer && r.deliveredAt === first.deliveredAt,
    );
    if (fresh && recs.length >= RUN_MIN && holding.length === 0 && !rowsHit) {
      await this.sql.run(
        `INSERT INTO pending_runs (${RUN_COLUMNS}, group_name, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          streamId,
          max.ms,
          max.seq,
          min.ms,
          min.seq,
          first.consumer,
          first.deliveredAt,
          recs.map((r) => (r.partition === 0 ? keyOf(r.id) : `${keyOf(r.id)}:${r.partition}`)).join(","),
          group,
          recs.length,
        ],
      );
      return;
    }
    await this.explode(group, holding);
    await this.insertRows(streamId, group, recs);
  }

  /**
   * Writes rows, replacing those of the same ids. SQLite: multi-row statements. PostgreSQL: one statement whose
   * rows come from arrays (`unnest`): a single prepared shape and a single round trip for any number of rows.
   * EXPLAIN: inserts (and conflict checks) on the primary key; no scan.
   */
  private async insertRows(streamId: number, group: string, recs: readonly PendingRecord[]): Promise<void> {
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

  /** EXPLAIN: a primary-key range of the group's runs, from `from` on; runs are few (one per batch in flight). */
  private runsBetween(streamId: number, group: string, from: StreamId, to: StreamId, consumer?: string) {
    return this.sql.all<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM pending_runs WHERE stream_id = ? AND group_name = ? AND ${RUNS_IN_RANGE}` +
        (consumer === undefined ? "" : " AND consumer = ?"),
      consumer === undefined
        ? [streamId, group, from.ms, from.seq, to.ms, to.seq]
        : [streamId, group, from.ms, from.seq, to.ms, to.seq, consumer],
    );
  }

  /** Every run of a group. EXPLAIN: a primary-key prefix scan. */
  private allRuns(streamId: number, group: string): Promise<RunRow[]> {
    return this.sql.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM pending_runs WHERE stream_id = ? AND group_name = ?`, [
      streamId,
      group,
    ]);
  }

  /** Deletes a run; answers whether it was still there, that is, whether its entries are the caller's to move. */
  private async dropRun(group: string, run: RunRow): Promise<boolean> {
    const n = await this.sql.run(
      "DELETE FROM pending_runs WHERE stream_id = ? AND group_name = ? AND last_ms = ? AND last_seq = ?",
      [run.stream_id, group, run.last_ms, run.last_seq],
    );
    return n > 0;
  }

  /** Moves runs' entries into `pending`, a row each. */
  private async explode(group: string, runs: readonly RunRow[]): Promise<void> {
    for (const run of inKeyOrder(runs)) {
      if (await this.dropRun(group, run)) await this.insertRows(run.stream_id, group, runRecords(run));
    }
  }

  /**
   * Takes the ids in `keys` out of the runs and answers how many it found; those found leave `keys`. A run left
   * with entries moves them into rows.
   */
  private async takeFromRuns(group: string, runs: readonly RunRow[], keys: Set<string>): Promise<number> {
    let n = 0;
    for (const run of inKeyOrder(runs)) {
      const items = run.ids.split(",");
      const kept = items.filter((item) => !keys.has(itemKey(item)));
      if (kept.length === items.length || !(await this.dropRun(group, run))) continue;
      n += items.length - kept.length;
      for (const item of items) keys.delete(itemKey(item));
      await this.insertRows(run.stream_id, group, runRecords(run, kept));
    }
    return n;
  }

  async get(streamId: number, group: string, id: StreamId): Promise<PendingRecord | undefined> {
    const row = await this.sql.get<PendingRow>(
      `SELECT ${COLUMNS} FROM pending WHERE stream_id = ? AND group_name = ? AND ms = ? AND seq = ?`,
      [streamId, group, id.ms, id.seq],
    );
    if (row) return toPending(row);
    for (const run of await this.runsBetween(streamId, group, id, id)) {
      const rec = runRecords(run).find((r) => compareIds(r.id, id) === 0);
      if (rec) return rec;
    }
    return undefined;
  }

  /**
   * Removes the given ids from the PEL of the named stream's group and answers how many were there. The stream is
   * found inside the statements, so an ack needs no lookup first; an unknown stream or group answers 0 as well.
   * EXPLAIN (both): the stream by its unique (namespace, name) index, once per statement; the runs by a
   * primary-key range from the smallest id on; then, for ids no run held, one primary-key probe per id.
   */
  async removeMany(namespace: string, stream: string, group: string, ids: readonly StreamId[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [min, max] = bounds(ids.map((id) => ({ id })));
    const runs = await this.sql.all<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM pending_runs WHERE stream_id = (SELECT id FROM streams WHERE namespace = ? AND name = ?) ` +
        `AND group_name = ? AND ${RUNS_IN_RANGE}`,
      [namespace, stream, group, min.ms, min.seq, max.ms, max.seq],
    );
    const keys = new Set(ids.map(keyOf));
    let n = runs.length > 0 ? await this.takeFromRuns(group, runs, keys) : 0;
    const rest = keys.size === ids.length ? ids : ids.filter((id) => keys.has(keyOf(id)));
    for (const chunk of paddedChunksOf(this.sql, rest)) {
      const params: SqlValue[] = [namespace, stream, group];
      for (const id of chunk) params.push(id.ms, id.seq);
      n += await this.sql.run(deleteSql(chunk.length), params);
    }
    return n;
  }

  /**
   * Takes an entry out of the PEL; answers whether this call did. With `consumer`, only while that consumer holds
   * it: on PostgreSQL another node may have acknowledged or claimed it since it was read.
   */
  async remove(streamId: number, group: string, id: StreamId, consumer?: string): Promise<boolean> {
    const runs = await this.runsBetween(streamId, group, id, id, consumer);
    if (runs.length > 0 && (await this.takeFromRuns(group, runs, new Set([keyOf(id)]))) > 0) return true;
    const params: SqlValue[] = [streamId, group, id.ms, id.seq];
    if (consumer !== undefined) params.push(consumer);
    const n = await this.sql.run(
      `DELETE FROM pending WHERE stream_id = ? AND group_name = ? AND ms = ? AND seq = ?${consumer === undefined ? "" : " AND consumer = ?"}`,
      params,
    );
    return n > 0;
  }

  /**
   * A consumer's own pending entries after `after`, oldest first, for re-delivery: its runs are moved into rows
   * first. EXPLAIN: the group's runs by primary-key prefix, then an index range scan of pending_by_consumer
   * (pinned with INDEXED BY on SQLite).
   */
  async ofConsumer(streamId: number, group: string, consumer: string, after: StreamId, count: number) {
    const runs = await this.runsBetween(streamId, group, after, MAX_ID, consumer);
    await this.explode(group, runs);
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
    let runWhere = `stream_id = ? AND group_name = ? AND ${RUNS_IN_RANGE}`;
    if (filter.consumer !== undefined) {
      where += " AND consumer = ?";
      runWhere += " AND consumer = ?";
      params.push(filter.consumer);
    }
    if (filter.deliveredBefore !== undefined) {
      where += " AND delivered_at <= ?";
      runWhere += " AND delivered_at <= ?";
      params.push(filter.deliveredBefore);
    }
    const runs = await this.sql.all<RunRow>(`SELECT ${RUN_COLUMNS} FROM pending_runs WHERE ${runWhere}`, params);
    params.push(filter.count);
    const index = filter.consumer !== undefined ? this.byConsumer : "";
    const rows = (
      await this.sql.all<PendingRow>(`SELECT ${COLUMNS} FROM pending${index} WHERE ${where} ORDER BY ms, seq LIMIT ?`, params)
    ).map(toPending);
    if (runs.length === 0) return rows;
    // On PostgreSQL a run turned into rows between the two statements shows in both: the rows win.
    const listed = new Set(rows.map((r) => keyOf(r.id)));
    for (const run of runs) {
      for (const rec of runRecords(run)) {
        const inRange = compareIds(rec.id, filter.start) >= 0 && compareIds(rec.id, filter.end) <= 0;
        if (inRange && !listed.has(keyOf(rec.id))) rows.push(rec);
      }
    }
    return rows.sort((a, b) => compareIds(a.id, b.id)).slice(0, filter.count);
  }

  /**
   * XPENDING's summary. On PostgreSQL a read's statements may each see a later moment (reads run outside a
   * transaction), so the figures are taken from as few statements as possible and an empty answer is allowed
   * for any of them.
   */
  async summary(streamId: number, group: string) {
    const perConsumer = new Map<string, number>();
    const consumerRows = await this.sql.all<{ consumer: string; n: number }>(
      "SELECT consumer, COUNT(*) AS n FROM pending WHERE stream_id = ? AND group_name = ? GROUP BY consumer",
      [streamId, group],
    );
    for (const c of consumerRows) perConsumer.set(c.consumer, Number(c.n));
    const runs = await this.allRuns(streamId, group);
    for (const run of runs) perConsumer.set(run.consumer, (perConsumer.get(run.consumer) ?? 0) + run.ids.split(",").length);
    let count = 0;
    for (const n of perConsumer.values()) count += n;
    if (count === 0) return { count, smallest: null, largest: null, consumers: [] };
    const ids = (
      await this.sql.all<{ ms: number; seq: number }>(
        "SELECT * FROM (SELECT ms, seq FROM pending WHERE stream_id = ? AND group_name = ? ORDER BY ms, seq LIMIT 1) AS a " +
          "UNION ALL SELECT * FROM (SELECT ms, seq FROM pending WHERE stream_id = ? AND group_name = ? ORDER BY ms DESC, seq DESC LIMIT 1) AS b",
        [streamId, group, streamId, group],
      )
    ).map((e): StreamId => ({ ms: Number(e.ms), seq: Number(e.seq) }));
    for (const run of runs) ids.push({ ms: run.first_ms, seq: run.first_seq }, { ms: run.last_ms, seq: run.last_seq });
    ids.sort(compareIds);
    return {
      count,
      smallest: ids[0] ?? null,
      largest: ids[ids.length - 1] ?? null,
      consumers: [...perConsumer]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, pending]) => ({ name, pending })),
    };
  }

  async countForGroup(streamId: number, group: string): Promise<number> {
    const row = await this.sql.get<{ n: number; r: number | null }>(
      "SELECT (SELECT COUNT(*) FROM pending WHERE stream_id = ? AND group_name = ?) AS n, " +
        "(SELECT SUM(n) FROM pending_runs WHERE stream_id = ? AND group_name = ?) AS r",
      [streamId, group, streamId, group],
    );
    return Number(row?.n ?? 0) + Number(row?.r ?? 0);
  }

  /** Pending entries of a group per partition. EXPLAIN: primary-key prefix scans of the group's rows and runs. */
  async perPartition(streamId: number, group: string): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    const rows = await this.sql.all<{ partition_no: number; n: number }>(
      "SELECT partition_no, COUNT(*) AS n FROM pending WHERE stream_id = ? AND group_name = ? GROUP BY partition_no",
      [streamId, group],
    );
    for (const r of rows) counts.set(Number(r.partition_no), Number(r.n));
    const runs = await this.allRuns(streamId, group);
    for (const run of runs) {
      for (const rec of runRecords(run)) counts.set(rec.partition, (counts.get(rec.partition) ?? 0) + 1);
    }
    return counts;
  }
}
