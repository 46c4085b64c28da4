// Event store rows: stores, bi-temporal events by position and by aggregate version, snapshots, statistics.
import { chunksOf, forUpdate, statementPerSize, valuesList, type Sql, type SqlValue } from "../sql.js";

export interface EventStoreRecord {
  id: number;
  namespace: string;
  name: string;
  /** Snapshot every this many events of an aggregate; null follows the server-wide default, 0 turns it off. */
  snapshotEvery: number | null;
  lastPosition: number;
  /** The newest transaction time given out, so transaction times never go backwards within a store. */
  lastTransactionTime: number;
  createdAt: number;
}

/** One stored event; `eventData` and `metadata` stay JSON text. Times are ms since the epoch. */
export interface StoredEvent {
  position: number;
  eventId: string;
  aggregateId: string;
  aggregateType: string | null;
  version: number;
  eventType: string;
  eventData: string;
  metadata: string;
  correlationId: string | null;
  causationId: string | null;
  validFrom: number;
  validTo: number | null;
  transactionTime: number;
  /** The original event this one corrects (always the first of its line), or null. */
  correctionOf: string | null;
  correctionReason: string | null;
}

export interface AggregateHead {
  version: number;
  aggregateType: string | null;
}

export interface SnapshotRecord {
  aggregateId: string;
  aggregateType: string | null;
  version: number;
  /** JSON text of the state after `version`. */
  state: string;
  lastEventTime: number;
  createdAt: number;
}

/** What an event query may narrow by; every field is optional and they combine with AND. */
export interface EventFilter {
  eventType?: string;
  aggregateId?: string;
  aggregateType?: string;
  correlationId?: string;
  causationId?: string;
  /** validFrom >= this. */
  fromTime?: number;
  /** validFrom <= this. */
  toTime?: number;
  /** Only events recorded by then (transaction time), and only corrections recorded by then count. */
  asOfTransactionTime?: number;
  /** Only events valid at this business time, with superseded originals left out. */
  validAt?: number;
}

export interface EventStoreStatsRecord {
  totalEvents: number;
  totalCorrections: number;
  aggregateCount: number;
  eventCountsByType: Record<string, number>;
  firstTransactionTime: number | null;
  lastTransactionTime: number | null;
  oldestValidFrom: number | null;
  newestValidFrom: number | null;
  storageSizeBytes: number;
  snapshotCount: number;
}

interface StoreRow {
  id: number;
  namespace: string;
  name: string;
  snapshot_every: number | null;
  last_position: number;
  last_transaction_time: number;
  created_at: number;
}

interface EventRow {
  position: number;
  event_id: string;
  aggregate_id: string;
  aggregate_type: string | null;
  version: number;
  event_type: string;
  event_data: string;
  metadata: string;
  correlation_id: string | null;
  causation_id: string | null;
  valid_from: number;
  valid_to: number | null;
  transaction_time: number;
  correction_of: string | null;
  correction_reason: string | null;
}

interface SnapshotRow {
  aggregate_id: string;
  aggregate_type: string | null;
  version: number;
  state: string;
  last_event_time: number;
  created_at: number;
}

const STORE_COLUMNS = "id, namespace, name, snapshot_every, last_position, last_transaction_time, created_at";
const EVENT_COLUMNS =
  "position, event_id, aggregate_id, aggregate_type, version, event_type, event_data, metadata, correlation_id, " +
  "causation_id, valid_from, valid_to, transaction_time, correction_of, correction_reason";
const INSERT_WIDTH = 16;
/** The insert of `rows` events, one text per row count. */
const insertStatement = statementPerSize(
  (rows) => `INSERT INTO event_store_events (store_id, ${EVENT_COLUMNS}) VALUES ${valuesList(rows, INSERT_WIDTH)}`,
);

function toStore(row: StoreRow): EventStoreRecord {
  return {
    id: Number(row.id),
    namespace: row.namespace,
    name: row.name,
    snapshotEvery: row.snapshot_every === null ? null : Number(row.snapshot_every),
    lastPosition: Number(row.last_position),
    lastTransactionTime: Number(row.last_transaction_time),
    createdAt: Number(row.created_at),
  };
}

function toEvent(row: EventRow): StoredEvent {
  return {
    position: Number(row.position),
    eventId: row.event_id,
    aggregateId: row.aggregate_id,
    aggregateType: row.aggregate_type,
    version: Number(row.version),
    eventType: row.event_type,
    eventData: row.event_data,
    metadata: row.metadata,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    validFrom: Number(row.valid_from),
    validTo: row.valid_to === null ? null : Number(row.valid_to),
    transactionTime: Number(row.transaction_time),
    correctionOf: row.correction_of,
    correctionReason: row.correction_reason,
  };
}

function toSnapshot(row: SnapshotRow): SnapshotRecord {
  return {
    aggregateId: row.aggregate_id,
    aggregateType: row.aggregate_type,
    version: Number(row.version),
    state: row.state,
    lastEventTime: Number(row.last_event_time),
    createdAt: Number(row.created_at),
  };
}

function eventParams(storeId: number, e: StoredEvent): SqlValue[] {
  return [
    storeId,
    e.position,
    e.eventId,
    e.aggregateId,
    e.aggregateType,
    e.version,
    e.eventType,
    e.eventData,
    e.metadata,
    e.correlationId,
    e.causationId,
    e.validFrom,
    e.validTo,
    e.transactionTime,
    e.correctionOf,
    e.correctionReason,
  ];
}

/** The WHERE clause (after `store_id = ?`) and its parameters for a filter over `e`. */
function filterSql(filter: EventFilter): { where: string; params: SqlValue[] } {
  let where = "";
  const params: SqlValue[] = [];
  const add = (clause: string, ...values: SqlValue[]) => {
    where += ` AND ${clause}`;
    params.push(...values);
  };
  if (filter.eventType !== undefined) add("e.event_type = ?", filter.eventType);
  if (filter.aggregateId !== undefined) add("e.aggregate_id = ?", filter.aggregateId);
  if (filter.aggregateType !== undefined) add("e.aggregate_type = ?", filter.aggregateType);
  if (filter.correlationId !== undefined) add("e.correlation_id = ?", filter.correlationId);
  if (filter.causationId !== undefined) add("e.causation_id = ?", filter.causationId);
  if (filter.fromTime !== undefined) add("e.valid_from >= ?", filter.fromTime);
  if (filter.toTime !== undefined) add("e.valid_from <= ?", filter.toTime);
  if (filter.asOfTransactionTime !== undefined) add("e.transaction_time <= ?", filter.asOfTransactionTime);
  if (filter.validAt !== undefined) {
    add("e.valid_from <= ? AND (e.valid_to IS NULL OR e.valid_to > ?)", filter.validAt, filter.validAt);
    // An event is superseded by any later correction of the same original that was known at the time asked about.
    const known = filter.asOfTransactionTime === undefined ? "" : " AND c.transaction_time <= ?";
    add(
      "NOT EXISTS (SELECT 1 FROM event_store_events c WHERE c.store_id = e.store_id " +
        `AND c.correction_of = COALESCE(e.correction_of, e.event_id) AND c.position > e.position${known})`,
      ...(filter.asOfTransactionTime === undefined ? [] : [filter.asOfTransactionTime]),
    );
  }
  return { where, params };
}

export class EventStoreQueries {
  constructor(private readonly sql: Sql) {}

  /** With `lock`, PostgreSQL holds the store row until commit, so appends to one store serialise across nodes. */
  async getStore(namespace: string, name: string, lock = false): Promise<EventStoreRecord | undefined> {
    const row = await this.sql.get<StoreRow>(
      `SELECT ${STORE_COLUMNS} FROM event_stores WHERE namespace = ? AND name = ?${lock ? forUpdate(this.sql) : ""}`,
      [namespace, name],
    );
    return row && toStore(row);
  }

  /** Creates the store unless it exists (another node may race us) and answers it, locked. */
  /** Creates the store unless it exists (another node may at the same moment); answers it and whether this call made it. */
  async createStore(
    namespace: string,
    name: string,
    snapshotEvery: number | null,
    now: number,
  ): Promise<{ store: EventStoreRecord; inserted: boolean }> {
    const inserted = await this.sql.run(
      "INSERT INTO event_stores (namespace, name, snapshot_every, created_at) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (namespace, name) DO NOTHING",
      [namespace, name, snapshotEvery, now],
    );
    const store = await this.getStore(namespace, name, true);
    if (!store) throw new Error(`event store ${namespace}/${name} vanished while being created`);
    return { store, inserted: inserted > 0 };
  }

  async setSnapshotEvery(id: number, snapshotEvery: number | null): Promise<void> {
    await this.sql.run("UPDATE event_stores SET snapshot_every = ? WHERE id = ?", [snapshotEvery, id]);
  }

  async advance(id: number, lastPosition: number, lastTransactionTime: number): Promise<void> {
    await this.sql.run("UPDATE event_stores SET last_position = ?, last_transaction_time = ? WHERE id = ?", [
      lastPosition,
      lastTransactionTime,
      id,
    ]);
  }

  async insert(storeId: number, events: readonly StoredEvent[]): Promise<void> {
    if (this.sql.dialect === "sqlite") {
      for (const e of events) await this.sql.run(insertStatement(1), eventParams(storeId, e));
      return;
    }
    // Power-of-two chunks: every size is a prepared statement kept on each pooled connection.
    for (const chunk of chunksOf(this.sql, events)) {
      await this.sql.run(insertStatement(chunk.length), chunk.flatMap((e) => eventParams(storeId, e)));
    }
  }

  /** EXPLAIN: a lookup of the unique (store_id, event_id) index. */
  async findEvent(storeId: number, eventId: string): Promise<StoredEvent | undefined> {
    const row = await this.sql.get<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM event_store_events WHERE store_id = ? AND event_id = ?`,
      [storeId, eventId],
    );
    return row && toEvent(row);
  }

  /** The aggregate's current version and type. EXPLAIN: one backwards step of the (store, aggregate, version) index. */
  /** Gives an aggregate's untyped events its type. EXPLAIN: the (store_id, aggregate_id, version) index. */
  async typeAggregate(storeId: number, aggregateId: string, aggregateType: string): Promise<void> {
    await this.sql.run(
      "UPDATE event_store_events SET aggregate_type = ? WHERE store_id = ? AND aggregate_id = ? AND aggregate_type IS NULL",
      [aggregateType, storeId, aggregateId],
    );
  }

  async head(storeId: number, aggregateId: string): Promise<AggregateHead | undefined> {
    const row = await this.sql.get<{ version: number; aggregate_type: string | null }>(
      "SELECT version, aggregate_type FROM event_store_events WHERE store_id = ? AND aggregate_id = ? " +
        "ORDER BY version DESC LIMIT 1",
      [storeId, aggregateId],
    );
    return row && { version: Number(row.version), aggregateType: row.aggregate_type };
  }

  /** The highest version of an aggregate recorded by `transactionTime` (0 when none was). */
  async versionAt(storeId: number, aggregateId: string, transactionTime: number): Promise<number> {
    const row = await this.sql.get<{ version: number }>(
      "SELECT version FROM event_store_events WHERE store_id = ? AND aggregate_id = ? AND transaction_time <= ? " +
        "ORDER BY version DESC LIMIT 1",
      [storeId, aggregateId, transactionTime],
    );
    return row ? Number(row.version) : 0;
  }

  /** Events matching `filter` in position order, skipping `offset` and answering at most `limit`. */
  async query(storeId: number, filter: EventFilter, limit: number, offset: number): Promise<StoredEvent[]> {
    const { where, params } = filterSql(filter);
    const rows = await this.sql.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM event_store_events e WHERE e.store_id = ?${where} ORDER BY e.position LIMIT ? OFFSET ?`,
      [storeId, ...params, limit, offset],
    );
    return rows.map(toEvent);
  }

  /** Events after `position` in order; what a subscription reads. EXPLAIN: a range scan of (store_id, position). */
  async after(storeId: number, position: number, limit: number): Promise<StoredEvent[]> {
    const rows = await this.sql.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM event_store_events WHERE store_id = ? AND position > ? ORDER BY position LIMIT ?`,
      [storeId, position, limit],
    );
    return rows.map(toEvent);
  }

  /** An aggregate's events with fromVersion <= version <= toVersion. EXPLAIN: a range scan of the version index. */
  async aggregateEvents(
    storeId: number,
    aggregateId: string,
    fromVersion: number,
    toVersion: number,
    limit: number,
  ): Promise<StoredEvent[]> {
    const rows = await this.sql.all<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM event_store_events WHERE store_id = ? AND aggregate_id = ? ` +
        "AND version >= ? AND version <= ? ORDER BY version LIMIT ?",
      [storeId, aggregateId, fromVersion, toVersion, limit],
    );
    return rows.map(toEvent);
  }

  /** The newest snapshot at or below `maxVersion`. */
  async latestSnapshot(storeId: number, aggregateId: string, maxVersion: number): Promise<SnapshotRecord | undefined> {
    const row = await this.sql.get<SnapshotRow>(
      "SELECT aggregate_id, aggregate_type, version, state, last_event_time, created_at FROM event_store_snapshots " +
        "WHERE store_id = ? AND aggregate_id = ? AND version <= ? ORDER BY version DESC LIMIT 1",
      [storeId, aggregateId, maxVersion],
    );
    return row && toSnapshot(row);
  }

  async saveSnapshot(storeId: number, snapshot: SnapshotRecord): Promise<void> {
    await this.sql.run(
      "INSERT INTO event_store_snapshots (store_id, aggregate_id, version, aggregate_type, state, last_event_time, " +
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (store_id, aggregate_id, version) DO UPDATE SET " +
        "state = excluded.state, last_event_time = excluded.last_event_time, created_at = excluded.created_at",
      [
        storeId,
        snapshot.aggregateId,
        snapshot.version,
        snapshot.aggregateType,
        snapshot.state,
        snapshot.lastEventTime,
        snapshot.createdAt,
      ],
    );
  }

  /** Drops the aggregate's snapshots at or above `version` (a correction changed what they were built from). */
  async dropSnapshotsFrom(storeId: number, aggregateId: string, version: number): Promise<number> {
    return this.sql.run("DELETE FROM event_store_snapshots WHERE store_id = ? AND aggregate_id = ? AND version >= ?", [
      storeId,
      aggregateId,
      version,
    ]);
  }

  /** Counts and time bounds over the whole store: a full scan, meant for an occasional look. */
  async stats(storeId: number): Promise<EventStoreStatsRecord> {
    const size =
      this.sql.dialect === "postgres"
        ? "octet_length(event_data) + octet_length(metadata)"
        : "length(CAST(event_data AS BLOB)) + length(CAST(metadata AS BLOB))";
    const totals = await this.sql.get<Record<string, number | string | null>>(
      "SELECT COUNT(*) AS total, SUM(CASE WHEN correction_of IS NULL THEN 0 ELSE 1 END) AS corrections, " +
        "COUNT(DISTINCT aggregate_id) AS aggregates, MIN(transaction_time) AS first_tx, MAX(transaction_time) AS last_tx, " +
        `MIN(valid_from) AS oldest_valid, MAX(valid_from) AS newest_valid, SUM(${size}) AS size ` +
        "FROM event_store_events WHERE store_id = ?",
      [storeId],
    );
    const byType = await this.sql.all<{ event_type: string; n: number }>(
      "SELECT event_type, COUNT(*) AS n FROM event_store_events WHERE store_id = ? GROUP BY event_type ORDER BY event_type",
      [storeId],
    );
    const snapshots = await this.sql.get<{ n: number }>("SELECT COUNT(*) AS n FROM event_store_snapshots WHERE store_id = ?", [
      storeId,
    ]);
    const num = (v: number | string | null | undefined) => (v === null || v === undefined ? null : Number(v));
    return {
      totalEvents: num(totals?.total) ?? 0,
      totalCorrections: num(totals?.corrections) ?? 0,
      aggregateCount: num(totals?.aggregates) ?? 0,
      eventCountsByType: Object.fromEntries(byType.map((r) => [r.event_type, Number(r.n)])),
      firstTransactionTime: num(totals?.first_tx),
      lastTransactionTime: num(totals?.last_tx),
      oldestValidFrom: num(totals?.oldest_valid),
      newestValidFrom: num(totals?.newest_valid),
      storageSizeBytes: num(totals?.size) ?? 0,
      snapshotCount: num(snapshots?.n) ?? 0,
    };
  }
}
