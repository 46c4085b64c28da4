// Windowed streams: definitions, ingest cursors, watermarks, the event-time index, group progress and leases.
import type { StreamId } from "../../core/ids.js";
import type { Entry } from "../../core/types.js";
import type { WindowType } from "../../core/windows.js";
import { forUpdate, type Sql } from "../sql.js";
import { ENTRY_COLUMNS, toEntry } from "./entries.js";

export interface WindowStreamRecord {
  id: number;
  namespace: string;
  name: string;
  sources: string[];
  partitioned: boolean;
  type: WindowType;
  durationMs: number;
  hopMs: number;
  gapMs: number;
  graceMs: number;
  leaseMs: number;
  /** A payload path whose value is the event time; null means the entry's timestamp. */
  eventTimeField: string | null;
  ingested: number;
  late: number;
  createdAt: number;
}

export type NewWindowStream = Omit<WindowStreamRecord, "id" | "ingested" | "late" | "createdAt">;

export interface WindowSourceCursor {
  sourceName: string;
  sourceId: number;
  last: StreamId;
}

export interface WindowProgressRecord {
  streamId: number;
  group: string;
  key: string;
  nextStart: number;
  leaseId: string | null;
  leaseStart: number | null;
  leaseEnd: number | null;
  leaseExpiresAt: number | null;
  deliveries: number;
}

export interface WindowItemEntry {
  sourceId: number;
  eventTime: number;
  entry: Entry;
}

interface DefinitionRow {
  id: number;
  namespace: string;
  name: string;
  sources: string;
  partitioned: number;
  window_type: string;
  duration_ms: number;
  hop_ms: number;
  gap_ms: number;
  grace_ms: number;
  lease_ms: number;
  event_time_field: string | null;
  ingested: number;
  late: number;
  created_at: number;
}

interface ProgressRow {
  window_stream_id: number;
  group_name: string;
  window_key: string;
  next_start: number;
  lease_id: string | null;
  lease_start: number | null;
  lease_end: number | null;
  lease_expires_at: number | null;
  deliveries: number;
}

const DEFINITION_COLUMNS =
  "id, namespace, name, sources, partitioned, window_type, duration_ms, hop_ms, gap_ms, grace_ms, lease_ms, " +
  "event_time_field, ingested, late, created_at";
const PROGRESS_COLUMNS =
  "window_stream_id, group_name, window_key, next_start, lease_id, lease_start, lease_end, lease_expires_at, deliveries";

function toDefinition(row: DefinitionRow): WindowStreamRecord {
  return {
    id: Number(row.id),
    namespace: row.namespace,
    name: row.name,
    sources: JSON.parse(row.sources) as string[],
    partitioned: Number(row.partitioned) === 1,
    type: row.window_type as WindowType,
    durationMs: Number(row.duration_ms),
    hopMs: Number(row.hop_ms),
    gapMs: Number(row.gap_ms),
    graceMs: Number(row.grace_ms),
    leaseMs: Number(row.lease_ms),
    eventTimeField: row.event_time_field,
    ingested: Number(row.ingested),
    late: Number(row.late),
    createdAt: Number(row.created_at),
  };
}

function toProgress(row: ProgressRow): WindowProgressRecord {
  const num = (v: number | null) => (v === null ? null : Number(v));
  return {
    streamId: Number(row.window_stream_id),
    group: row.group_name,
    key: row.window_key,
    nextStart: Number(row.next_start),
    leaseId: row.lease_id,
    leaseStart: num(row.lease_start),
    leaseEnd: num(row.lease_end),
    leaseExpiresAt: num(row.lease_expires_at),
    deliveries: Number(row.deliveries),
  };
}

export class WindowQueries {
  constructor(private readonly sql: Sql) {}

  /** With `lock`, PostgreSQL holds the definition row so one node at a time ingests into it. */
  async get(name: string, lock = false): Promise<WindowStreamRecord | undefined> {
    const row = await this.sql.get<DefinitionRow>(
      `SELECT ${DEFINITION_COLUMNS} FROM window_streams WHERE name = ?${lock ? forUpdate(this.sql) : ""}`,
      [name],
    );
    return row && toDefinition(row);
  }

  async getById(id: number): Promise<WindowStreamRecord | undefined> {
    const row = await this.sql.get<DefinitionRow>(`SELECT ${DEFINITION_COLUMNS} FROM window_streams WHERE id = ?`, [id]);
    return row && toDefinition(row);
  }

  /** Creates the definition unless one of that name exists (another node may race us); answers the stored one. */
  async create(d: NewWindowStream, now: number): Promise<{ record: WindowStreamRecord; created: boolean }> {
    const changed = await this.sql.run(
      "INSERT INTO window_streams (namespace, name, sources, partitioned, window_type, duration_ms, hop_ms, gap_ms, " +
        "grace_ms, lease_ms, event_time_field, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (name) DO NOTHING",
      [
        d.namespace,
        d.name,
        JSON.stringify(d.sources),
        d.partitioned ? 1 : 0,
        d.type,
        d.durationMs,
        d.hopMs,
        d.gapMs,
        d.graceMs,
        d.leaseMs,
        d.eventTimeField,
        now,
      ],
    );
    const record = await this.get(d.name);
    if (!record) throw new Error(`window stream ${d.name} vanished while being created`);
    return { record, created: changed > 0 };
  }

  async addCounts(id: number, ingested: number, late: number): Promise<void> {
    await this.sql.run("UPDATE window_streams SET ingested = ingested + ?, late = late + ? WHERE id = ?", [ingested, late, id]);
  }

  async cursors(id: number): Promise<WindowSourceCursor[]> {
    const rows = await this.sql.all<{ source_name: string; source_id: number; last_ms: number; last_seq: number }>(
      "SELECT source_name, source_id, last_ms, last_seq FROM window_sources WHERE window_stream_id = ?",
      [id],
    );
    return rows.map((r) => ({
      sourceName: r.source_name,
      sourceId: Number(r.source_id),
      last: { ms: Number(r.last_ms), seq: Number(r.last_seq) },
    }));
  }

  async saveCursor(id: number, cursor: WindowSourceCursor): Promise<void> {
    await this.sql.run(
      "INSERT INTO window_sources (window_stream_id, source_name, source_id, last_ms, last_seq) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (window_stream_id, source_name) DO UPDATE SET source_id = excluded.source_id, " +
        "last_ms = excluded.last_ms, last_seq = excluded.last_seq",
      [id, cursor.sourceName, cursor.sourceId, cursor.last.ms, cursor.last.seq],
    );
  }

  async watermarks(id: number): Promise<Map<string, number>> {
    const rows = await this.sql.all<{ window_key: string; watermark: number }>(
      "SELECT window_key, watermark FROM window_watermarks WHERE window_stream_id = ? ORDER BY window_key",
      [id],
    );
    return new Map(rows.map((r) => [r.window_key, Number(r.watermark)]));
  }

  async saveWatermark(id: number, key: string, watermark: number): Promise<void> {
    await this.sql.run(
      "INSERT INTO window_watermarks (window_stream_id, window_key, watermark) VALUES (?, ?, ?) " +
        "ON CONFLICT (window_stream_id, window_key) DO UPDATE SET watermark = excluded.watermark " +
        "WHERE excluded.watermark > window_watermarks.watermark",
      [id, key, watermark],
    );
  }

  /** EXPLAIN: a plain insert into the primary key (key, event time, entry). */
  async addItem(id: number, key: string, eventTime: number, sourceId: number, entryId: StreamId): Promise<void> {
    await this.sql.run(
      "INSERT INTO window_items (window_stream_id, window_key, event_time, source_id, ms, seq) VALUES (?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT DO NOTHING",
      [id, key, eventTime, sourceId, entryId.ms, entryId.seq],
    );
  }

  /**
   * Forgets the items of one source whose entries are below `below` (all of the source's items without it).
   * EXPLAIN: a range of window_items_by_source.
   */
  async forgetItems(id: number, sourceId: number, below?: StreamId): Promise<number> {
    if (below === undefined) {
      return this.sql.run("DELETE FROM window_items WHERE window_stream_id = ? AND source_id = ?", [id, sourceId]);
    }
    return this.sql.run("DELETE FROM window_items WHERE window_stream_id = ? AND source_id = ? AND (ms, seq) < (?, ?)", [
      id,
      sourceId,
      below.ms,
      below.seq,
    ]);
  }

  /** The earliest indexed event time at or after `from` for a key. EXPLAIN: one probe of the primary key. */
  async firstTimeFrom(id: number, key: string, from: number): Promise<number | undefined> {
    const row = await this.sql.get<{ event_time: number }>(
      "SELECT event_time FROM window_items WHERE window_stream_id = ? AND window_key = ? AND event_time >= ? " +
        "ORDER BY event_time LIMIT 1",
      [id, key, from],
    );
    return row === undefined ? undefined : Number(row.event_time);
  }

  /** The latest indexed event time at or before `to` for a key. EXPLAIN: one probe of the primary key. */
  async lastTimeUpTo(id: number, key: string, to: number): Promise<number | undefined> {
    const row = await this.sql.get<{ event_time: number }>(
      "SELECT event_time FROM window_items WHERE window_stream_id = ? AND window_key = ? AND event_time <= ? " +
        "ORDER BY event_time DESC LIMIT 1",
      [id, key, to],
    );
    return row === undefined ? undefined : Number(row.event_time);
  }

  /** Distinct event times after `after` (exclusive), oldest first; session windows are found from these. */
  async timesAfter(id: number, key: string, after: number, limit: number): Promise<number[]> {
    const rows = await this.sql.all<{ event_time: number }>(
      "SELECT DISTINCT event_time FROM window_items WHERE window_stream_id = ? AND window_key = ? AND event_time > ? " +
        "ORDER BY event_time LIMIT ?",
      [id, key, after, limit],
    );
    return rows.map((r) => Number(r.event_time));
  }

  /** The entries of one window, in event-time order; entries trimmed from their source since are gone. */
  async windowEntries(id: number, key: string, start: number, end: number): Promise<WindowItemEntry[]> {
    const columns = ENTRY_COLUMNS.split(", ")
      .map((c) => `e.${c}`)
      .join(", ");
    const rows = await this.sql.rows(
      `SELECT ${columns}, i.source_id, i.event_time FROM window_items i ` +
        "JOIN entries e ON e.stream_id = i.source_id AND e.ms = i.ms AND e.seq = i.seq " +
        "WHERE i.window_stream_id = ? AND i.window_key = ? AND i.event_time >= ? AND i.event_time < ? " +
        "ORDER BY i.event_time, i.source_id, i.ms, i.seq",
      [id, key, start, end],
    );
    const at = ENTRY_COLUMNS.split(", ").length;
    return rows.map((r) => ({ sourceId: Number(r[at]), eventTime: Number(r[at + 1]), entry: toEntry(r) }));
  }

  /** Registers a group (from the beginning) unless it exists; answers its bookmark for keys it has not seen. */
  async ensureGroup(id: number, group: string, from: number, now: number): Promise<number> {
    await this.sql.run(
      "INSERT INTO window_groups (window_stream_id, group_name, from_start, created_at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (window_stream_id, group_name) DO NOTHING",
      [id, group, from, now],
    );
    const row = await this.sql.get<{ from_start: number }>(
      "SELECT from_start FROM window_groups WHERE window_stream_id = ? AND group_name = ?",
      [id, group],
    );
    return Number(row!.from_start);
  }

  async progress(id: number, group: string): Promise<Map<string, WindowProgressRecord>> {
    const rows = await this.sql.all<ProgressRow>(
      `SELECT ${PROGRESS_COLUMNS} FROM window_progress WHERE window_stream_id = ? AND group_name = ?`,
      [id, group],
    );
    return new Map(rows.map((r) => [r.window_key, toProgress(r)]));
  }

  async ensureProgress(id: number, group: string, key: string, nextStart: number): Promise<void> {
    await this.sql.run(
      "INSERT INTO window_progress (window_stream_id, group_name, window_key, next_start) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (window_stream_id, group_name, window_key) DO NOTHING",
      [id, group, key, nextStart],
    );
  }

  /**
   * Takes the lease on a key's next window, only if the key's bookmark is still `nextStart` and no live lease
   * holds it. A conditional UPDATE: on PostgreSQL a racing node waits for the row and then sees the winner's
   * lease, so at most one consumer holds a key's window. Answers whether this call won.
   */
  async tryLease(
    id: number,
    group: string,
    key: string,
    nextStart: number,
    lease: { id: string; start: number; end: number; expiresAt: number },
    now: number,
  ): Promise<boolean> {
    const changed = await this.sql.run(
      "UPDATE window_progress SET lease_id = ?, lease_start = ?, lease_end = ?, lease_expires_at = ?, " +
        "deliveries = CASE WHEN lease_start = ? THEN deliveries + 1 ELSE 1 END " +
        "WHERE window_stream_id = ? AND group_name = ? AND window_key = ? AND next_start = ? " +
        "AND (lease_id IS NULL OR lease_expires_at <= ?)",
      [lease.id, lease.start, lease.end, lease.expiresAt, lease.start, id, group, key, nextStart, now],
    );
    return changed > 0;
  }

  async byLease(leaseId: string): Promise<WindowProgressRecord | undefined> {
    const row = await this.sql.get<ProgressRow>(
      `SELECT ${PROGRESS_COLUMNS} FROM window_progress WHERE lease_id = ?${forUpdate(this.sql)}`,
      [leaseId],
    );
    return row && toProgress(row);
  }

  /**
   * Ends a lease: with `nextStart` the window is done and the bookmark moves on; with null (a nack) the same window
   * is offered again. The start stays recorded so a redelivery counts its attempts.
   */
  async release(leaseId: string, nextStart: number | null): Promise<boolean> {
    const changed =
      nextStart === null
        ? await this.sql.run("UPDATE window_progress SET lease_id = NULL, lease_expires_at = NULL WHERE lease_id = ?", [leaseId])
        : await this.sql.run(
            "UPDATE window_progress SET lease_id = NULL, lease_expires_at = NULL, lease_start = NULL, lease_end = NULL, " +
              "deliveries = 0, next_start = ? WHERE lease_id = ?",
            [nextStart, leaseId],
          );
    return changed > 0;
  }

  async renew(leaseId: string, expiresAt: number): Promise<boolean> {
    return (await this.sql.run("UPDATE window_progress SET lease_expires_at = ? WHERE lease_id = ?", [expiresAt, leaseId])) > 0;
  }

  /** Moves every key of a group to `from` and drops its leases (their holders' acks then fail). */
  async seek(id: number, group: string, from: number): Promise<void> {
    await this.sql.run("UPDATE window_groups SET from_start = ? WHERE window_stream_id = ? AND group_name = ?", [from, id, group]);
    await this.sql.run(
      "UPDATE window_progress SET next_start = ?, lease_id = NULL, lease_start = NULL, lease_end = NULL, " +
        "lease_expires_at = NULL, deliveries = 0 WHERE window_stream_id = ? AND group_name = ?",
      [from, id, group],
    );
  }

  /** The keys a group has progress on. */
  async progressKeys(id: number, group: string): Promise<string[]> {
    const rows = await this.sql.all<{ window_key: string }>(
      "SELECT window_key FROM window_progress WHERE window_stream_id = ? AND group_name = ?",
      [id, group],
    );
    return rows.map((r) => r.window_key);
  }

  /** Moves one key of a group (after a seek, which dropped its lease). */
  async setNextStart(id: number, group: string, key: string, start: number): Promise<void> {
    await this.sql.run("UPDATE window_progress SET next_start = ? WHERE window_stream_id = ? AND group_name = ? AND window_key = ?", [
      start,
      id,
      group,
      key,
    ]);
  }

  async groups(id: number): Promise<string[]> {
    const rows = await this.sql.all<{ group_name: string }>(
      "SELECT group_name FROM window_groups WHERE window_stream_id = ? ORDER BY group_name",
      [id],
    );
    return rows.map((r) => r.group_name);
  }
}
