// Consumer group rows: the group, its per-(partition, priority) cursors, its deferred entries and consumers.
import type { StreamId } from "../../core/ids.js";
import type { ConsumerRecord, CursorRecord, DeferredRecord, DeliveryHistoryItem, GroupRecord, StreamRecord } from "../records.js";
import { forUpdate, type Sql } from "../sql.js";
import { COLUMNS as STREAM_COLUMNS, toRecord as toStream, type StreamRow } from "./streams.js";

interface GroupRow {
  stream_id: number;
  name: string;
  start_ms: number;
  start_seq: number;
  last_ms: number;
  last_seq: number;
  entries_read: number;
  created_at: number;
}

interface DeferredRow {
  ms: number;
  seq: number;
  partition_no: number;
  priority: number;
  due_at: number;
  delivery_count: number;
  history: string | null;
}

const GROUP_COLUMNS =
  "stream_id, name, start_ms, start_seq, last_ms, last_seq, entries_read, created_at";

function toGroup(row: GroupRow): GroupRecord {
  return {
    streamId: Number(row.stream_id),
    name: row.name,
    start: { ms: row.start_ms, seq: row.start_seq },
    lastDelivered: { ms: row.last_ms, seq: row.last_seq },
    entriesRead: row.entries_read,
    createdAt: row.created_at,
  };
}

export function parseHistory(text: string | null): DeliveryHistoryItem[] | null {
  return text === null ? null : (JSON.parse(text) as DeliveryHistoryItem[]);
}

function toDeferred(row: DeferredRow): DeferredRecord {
  return {
    id: { ms: row.ms, seq: row.seq },
    partition: row.partition_no,
    priority: row.priority,
    dueAt: row.due_at,
    deliveryCount: row.delivery_count,
    history: parseHistory(row.history),
  };
}

/** What a group read changed, for `finishRead`. */
export interface FinishedRead {
  cursors: readonly CursorRecord[];
  delivered: { last: StreamId; count: number } | undefined;
  consumer: string;
  now: number;
  active: boolean;
}

const PG_FINISH_READ =
  "WITH moved AS (INSERT INTO group_cursors (stream_id, group_name, partition_no, priority, ms, seq) " +
  "SELECT ?::bigint, ?::text, * FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[]) " +
  "ON CONFLICT (stream_id, group_name, partition_no, priority) DO UPDATE SET ms = excluded.ms, seq = excluded.seq), " +
  "advanced AS (UPDATE consumer_groups SET last_ms = ?, last_seq = ?, entries_read = entries_read + ? " +
  "WHERE stream_id = ? AND name = ? AND ?::int = 1) " +
  "INSERT INTO consumers (stream_id, group_name, name, seen_at, active_at) VALUES (?, ?, ?, ?, ?) " +
  "ON CONFLICT (stream_id, group_name, name) DO UPDATE SET seen_at = excluded.seen_at, " +
  "active_at = COALESCE(excluded.active_at, consumers.active_at)";

/** The stream's columns (prefixed `s.`) and the group's (renamed `g_…`), for the lookup of both at once. */
const STREAM_AND_GROUP_COLUMNS = [
  ...STREAM_COLUMNS.split(", ").map((c) => `s.${c}`),
  ...GROUP_COLUMNS.split(", ").map((c) => `g.${c} AS g_${c}`),
].join(", ");

type PrefixedGroupRow = { [K in keyof GroupRow as `g_${K}`]: GroupRow[K] };

export class GroupQueries {
  constructor(private readonly sql: Sql) {}

  /**
   * A stream and one of its groups in one statement; undefined when either is missing (the caller looks again to
   * say which). With `lock`, PostgreSQL holds the group's row as `get` does.
   * EXPLAIN: the stream by its unique (namespace, name) index, then the group by primary key.
   */
  async withStream(namespace: string, stream: string, group: string, lock = false): Promise<{ stream: StreamRecord; group: GroupRecord } | undefined> {
    const row = await this.sql.get<StreamRow & PrefixedGroupRow>(
      `SELECT ${STREAM_AND_GROUP_COLUMNS} FROM streams s JOIN consumer_groups g ON g.stream_id = s.id AND g.name = ? ` +
        `WHERE s.namespace = ? AND s.name = ?${lock && this.sql.dialect === "postgres" ? " FOR UPDATE OF g" : ""}`,
      [group, namespace, stream],
    );
    if (!row) return undefined;
    const groupRow = Object.fromEntries(GROUP_COLUMNS.split(", ").map((c) => [c, row[`g_${c}` as keyof PrefixedGroupRow]]));
    return { stream: toStream(row), group: toGroup(groupRow as unknown as GroupRow) };
  }

  /** With `lock`, PostgreSQL serialises readers of one group across nodes. EXPLAIN: a primary-key lookup. */
  async get(streamId: number, name: string, lock = false): Promise<GroupRecord | undefined> {
    const row = await this.sql.get<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM consumer_groups WHERE stream_id = ? AND name = ?${lock ? forUpdate(this.sql) : ""}`,
      [streamId, name],
    );
    return row && toGroup(row);
  }

  async list(streamId: number): Promise<GroupRecord[]> {
    const rows = await this.sql.all<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM consumer_groups WHERE stream_id = ? ORDER BY name`,
      [streamId],
    );
    return rows.map(toGroup);
  }

  /** Answers false when the group already exists. */
  async create(streamId: number, name: string, start: StreamId, now: number): Promise<boolean> {
    const changed = await this.sql.run(
      "INSERT INTO consumer_groups (stream_id, name, start_ms, start_seq, last_ms, last_seq, created_at) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id, name) DO NOTHING",
      [streamId, name, start.ms, start.seq, start.ms, start.seq, now],
    );
    return changed > 0;
  }

  async setStart(streamId: number, name: string, start: StreamId): Promise<void> {
    await this.sql.run(
      "UPDATE consumer_groups SET start_ms = ?, start_seq = ?, last_ms = ?, last_seq = ? WHERE stream_id = ? AND name = ?",
      [start.ms, start.seq, start.ms, start.seq, streamId, name],
    );
    await this.sql.run("DELETE FROM group_cursors WHERE stream_id = ? AND group_name = ?", [streamId, name]);
  }

  async delete(streamId: number, name: string): Promise<boolean> {
    for (const table of ["pending", "pending_runs", "group_deferred", "group_cursors", "consumers"]) {
      await this.sql.run(`DELETE FROM ${table} WHERE stream_id = ? AND group_name = ?`, [streamId, name]);
    }
    return (await this.sql.run("DELETE FROM consumer_groups WHERE stream_id = ? AND name = ?", [streamId, name])) > 0;
  }

  async recordDelivered(streamId: number, name: string, last: StreamId, read: number): Promise<void> {
    await this.sql.run(
      "UPDATE consumer_groups SET last_ms = ?, last_seq = ?, entries_read = entries_read + ? WHERE stream_id = ? AND name = ?",
      [last.ms, last.seq, read, streamId, name],
    );
  }

  async cursors(streamId: number, name: string): Promise<CursorRecord[]> {
    const rows = await this.sql.all<{ partition_no: number; priority: number; ms: number; seq: number }>(
      "SELECT partition_no, priority, ms, seq FROM group_cursors WHERE stream_id = ? AND group_name = ?",
      [streamId, name],
    );
    return rows.map((r) => ({ partition: r.partition_no, priority: r.priority, id: { ms: r.ms, seq: r.seq } }));
  }

  async saveCursor(streamId: number, name: string, cursor: CursorRecord): Promise<void> {
    await this.sql.run(
      "INSERT INTO group_cursors (stream_id, group_name, partition_no, priority, ms, seq) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (stream_id, group_name, partition_no, priority) DO UPDATE SET ms = excluded.ms, seq = excluded.seq",
      [streamId, name, cursor.partition, cursor.priority, cursor.id.ms, cursor.id.seq],
    );
  }

  /**
   * Deferred entries due by `now`, highest priority first, then oldest.
   * EXPLAIN: an index range scan of group_deferred_due, then a sort of the due rows (few, normally).
   */
  async dueDeferred(streamId: number, name: string, now: number, count: number): Promise<DeferredRecord[]> {
    const rows = await this.sql.all<DeferredRow>(
      "SELECT ms, seq, partition_no, priority, due_at, delivery_count, history FROM group_deferred " +
        "WHERE stream_id = ? AND group_name = ? AND due_at <= ? ORDER BY priority DESC, ms, seq LIMIT ?",
      [streamId, name, now, count],
    );
    return rows.map(toDeferred);
  }

  /**
   * What a group read starts from, in one round trip: the group's cursors, and whether a deferred entry is due.
   * The second part of the UNION answers a marker row (partition -1) when one is; it only probes for a due entry,
   * with no sort, which on SQLite costs less than dueDeferred when nothing is due (the common case).
   * EXPLAIN (both): a primary-key search of group_cursors, and an index-only probe of group_deferred_due.
   */
  async readState(streamId: number, name: string, now: number): Promise<{ cursors: CursorRecord[]; hasDue: boolean }> {
    const rows = await this.sql.all<{ partition_no: number; priority: number; ms: number; seq: number }>(
      "SELECT partition_no, priority, ms, seq FROM group_cursors WHERE stream_id = ? AND group_name = ? " +
        "UNION ALL SELECT -1, -1, 0, 0 WHERE EXISTS " +
        "(SELECT 1 FROM group_deferred WHERE stream_id = ? AND group_name = ? AND due_at <= ?)",
      [streamId, name, streamId, name, now],
    );
    const cursors: CursorRecord[] = [];
    let hasDue = false;
    for (const r of rows) {
      if (r.partition_no === -1) hasDue = true;
      else cursors.push({ partition: r.partition_no, priority: r.priority, id: { ms: r.ms, seq: r.seq } });
    }
    return { cursors, hasDue };
  }

  async nextDeferredDue(streamId: number, name: string): Promise<number | null> {
    const row = await this.sql.get<{ due: number | null }>(
      "SELECT MIN(due_at) AS due FROM group_deferred WHERE stream_id = ? AND group_name = ?",
      [streamId, name],
    );
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }

  async countDeferred(streamId: number, name: string): Promise<number> {
    const row = await this.sql.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM group_deferred WHERE stream_id = ? AND group_name = ?",
      [streamId, name],
    );
    return Number(row?.n ?? 0);
  }

  async defer(streamId: number, name: string, rec: DeferredRecord): Promise<void> {
    await this.sql.run(
      "INSERT INTO group_deferred (stream_id, group_name, ms, seq, partition_no, priority, due_at, delivery_count, history) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (stream_id, group_name, ms, seq) DO UPDATE SET " +
        "due_at = excluded.due_at, delivery_count = excluded.delivery_count, history = excluded.history",
      [
        streamId,
        name,
        rec.id.ms,
        rec.id.seq,
        rec.partition,
        rec.priority,
        rec.dueAt,
        rec.deliveryCount,
        rec.history && JSON.stringify(rec.history),
      ],
    );
  }

  async undefer(streamId: number, name: string, id: StreamId): Promise<void> {
    await this.sql.run("DELETE FROM group_deferred WHERE stream_id = ? AND group_name = ? AND ms = ? AND seq = ?", [
      streamId,
      name,
      id.ms,
      id.seq,
    ]);
  }

  /**
   * The writes that end a group read: the cursors that moved, the group's last delivered id and entries-read
   * count (when `delivered` is given), and the consumer's seen (and, when `active`, active) time. On PostgreSQL
   * they go as one statement (data-modifying WITH), one round trip instead of up to three.
   */
  async finishRead(streamId: number, name: string, read: FinishedRead): Promise<void> {
    const { cursors, delivered, consumer, now, active } = read;
    if (this.sql.dialect === "sqlite") {
      for (const cursor of cursors) await this.saveCursor(streamId, name, cursor);
      if (delivered) await this.recordDelivered(streamId, name, delivered.last, delivered.count);
      await this.touchConsumer(streamId, name, consumer, now, active);
      return;
    }
    await this.sql.run(PG_FINISH_READ, [
      streamId,
      name,
      cursors.map((c) => c.partition),
      cursors.map((c) => c.priority),
      cursors.map((c) => c.id.ms),
      cursors.map((c) => c.id.seq),
      delivered?.last.ms ?? 0,
      delivered?.last.seq ?? 0,
      delivered?.count ?? 0,
      streamId,
      name,
      delivered ? 1 : 0,
      streamId,
      name,
      consumer,
      now,
      active ? now : null,
    ]);
  }

  async touchConsumer(streamId: number, name: string, consumer: string, now: number, active: boolean): Promise<void> {
    await this.sql.run(
      "INSERT INTO consumers (stream_id, group_name, name, seen_at, active_at) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (stream_id, group_name, name) DO UPDATE SET seen_at = excluded.seen_at" +
        (active ? ", active_at = excluded.active_at" : ""),
      [streamId, name, consumer, now, active ? now : null],
    );
  }

  async consumers(streamId: number, name: string): Promise<ConsumerRecord[]> {
    const rows = await this.sql.all<{ name: string; seen_at: number; active_at: number | null; pending: number }>(
      "SELECT c.name, c.seen_at, c.active_at, " +
        "(SELECT COUNT(*) FROM pending p WHERE p.stream_id = c.stream_id AND p.group_name = c.group_name " +
        "AND p.consumer = c.name) + (SELECT COALESCE(SUM(r.n), 0) FROM pending_runs r WHERE r.stream_id = c.stream_id " +
        "AND r.group_name = c.group_name AND r.consumer = c.name) AS pending " +
        "FROM consumers c WHERE c.stream_id = ? AND c.group_name = ? ORDER BY c.name",
      [streamId, name],
    );
    return rows.map((r) => ({ name: r.name, seenAt: r.seen_at, activeAt: r.active_at, pending: Number(r.pending) }));
  }

  async deleteConsumer(streamId: number, name: string, consumer: string): Promise<boolean> {
    const n = await this.sql.run("DELETE FROM consumers WHERE stream_id = ? AND group_name = ? AND name = ?", [
      streamId,
      name,
      consumer,
    ]);
    return n > 0;
  }
}
