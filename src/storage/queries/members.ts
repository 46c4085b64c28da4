// Group membership rows (settings, members) and the per-partition reads that members and lag reports need.
import type { AssignmentStrategy } from "../../core/assignment.js";
import type { DeferredRecord } from "../records.js";
import type { Sql, SqlValue } from "../sql.js";
import { parseHistory } from "./groups.js";

export type MemberStatus = "ACTIVE" | "EVICTED";

/** Which limit an evicted member missed: no heartbeat within session_timeout_ms, or no read within max_poll_interval_ms. */
export type EvictionCause = "session" | "poll";

export interface GroupSettingsRecord {
  streamId: number;
  groupName: string;
  groupId: string;
  description: string | null;
  strategy: AssignmentStrategy;
  maxMembers: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxPollIntervalMs: number;
  rebalanceTimeoutMs: number;
  /** Grows by one on every rebalance. */
  generation: number;
  /** The stream's partition count when the group was last rebalanced. */
  partitions: number;
  lastRebalanceAt: number | null;
  createdAt: number;
}

export interface MemberRecord {
  memberId: string;
  memberName: string;
  joinedAt: number;
  lastHeartbeat: number;
  /** When it last read (a read is a heartbeat too); it joined counts as a read. */
  lastPollAt: number;
  partitions: number[];
  /** Consumer names the member's reads used, so its pending entries can be handed back when it goes. */
  consumers: string[];
  status: MemberStatus;
  evictedFor: EvictionCause | null;
}

/** A group found by its group id, with the stream it belongs to. */
export interface GroupLocation {
  namespace: string;
  stream: string;
  groupName: string;
}

interface SettingsRow {
  stream_id: number;
  group_name: string;
  group_id: string;
  description: string | null;
  strategy: string;
  max_members: number;
  session_timeout_ms: number;
  heartbeat_interval_ms: number;
  max_poll_interval_ms: number;
  rebalance_timeout_ms: number;
  generation: number;
  partitions: number;
  last_rebalance_at: number | null;
  created_at: number;
}

interface MemberRow {
  member_id: string;
  member_name: string;
  joined_at: number;
  last_heartbeat: number;
  last_poll_at: number;
  partitions: string;
  consumers: string;
  status: string;
  evicted_for: string | null;
}

const SETTINGS_COLUMNS =
  "stream_id, group_name, group_id, description, strategy, max_members, session_timeout_ms, heartbeat_interval_ms, " +
  "max_poll_interval_ms, rebalance_timeout_ms, generation, partitions, last_rebalance_at, created_at";
const MEMBER_COLUMNS = "member_id, member_name, joined_at, last_heartbeat, last_poll_at, partitions, consumers, status, evicted_for";

function toSettings(row: SettingsRow): GroupSettingsRecord {
  return {
    streamId: Number(row.stream_id),
    groupName: row.group_name,
    groupId: row.group_id,
    description: row.description,
    strategy: row.strategy as AssignmentStrategy,
    maxMembers: row.max_members,
    sessionTimeoutMs: row.session_timeout_ms,
    heartbeatIntervalMs: row.heartbeat_interval_ms,
    maxPollIntervalMs: row.max_poll_interval_ms,
    rebalanceTimeoutMs: row.rebalance_timeout_ms,
    generation: row.generation,
    partitions: row.partitions,
    lastRebalanceAt: row.last_rebalance_at,
    createdAt: row.created_at,
  };
}

function toMember(row: MemberRow): MemberRecord {
  return {
    memberId: row.member_id,
    memberName: row.member_name,
    joinedAt: row.joined_at,
    lastHeartbeat: row.last_heartbeat,
    lastPollAt: row.last_poll_at,
    partitions: JSON.parse(row.partitions) as number[],
    consumers: JSON.parse(row.consumers) as string[],
    status: row.status as MemberStatus,
    evictedFor: row.evicted_for as EvictionCause | null,
  };
}

function perPartition(rows: { partition_no: number; n: number }[]): Map<number, number> {
  return new Map(rows.map((r) => [Number(r.partition_no), Number(r.n)]));
}

export type NewGroupSettings = Omit<GroupSettingsRecord, "generation" | "partitions" | "lastRebalanceAt">;

export class MemberQueries {
  constructor(private readonly sql: Sql) {}

  /** Answers false when the group already has settings. */
  async createSettings(s: NewGroupSettings): Promise<boolean> {
    const n = await this.sql.run(
      `INSERT INTO group_settings (stream_id, group_name, group_id, description, strategy, max_members, session_timeout_ms, ` +
        "heartbeat_interval_ms, max_poll_interval_ms, rebalance_timeout_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) " +
        "ON CONFLICT (stream_id, group_name) DO NOTHING",
      [
        s.streamId,
        s.groupName,
        s.groupId,
        s.description,
        s.strategy,
        s.maxMembers,
        s.sessionTimeoutMs,
        s.heartbeatIntervalMs,
        s.maxPollIntervalMs,
        s.rebalanceTimeoutMs,
        s.createdAt,
      ],
    );
    return n > 0;
  }

  /** EXPLAIN: a primary-key lookup. */
  async settings(streamId: number, groupName: string): Promise<GroupSettingsRecord | undefined> {
    const row = await this.sql.get<SettingsRow>(
      `SELECT ${SETTINGS_COLUMNS} FROM group_settings WHERE stream_id = ? AND group_name = ?`,
      [streamId, groupName],
    );
    return row && toSettings(row);
  }

  /** EXPLAIN: a lookup of the unique group_settings_by_id index, then the stream's primary key. */
  async locate(groupId: string): Promise<GroupLocation | undefined> {
    const row = await this.sql.get<{ namespace: string; name: string; group_name: string }>(
      "SELECT s.namespace, s.name, g.group_name FROM group_settings g JOIN streams s ON s.id = g.stream_id WHERE g.group_id = ?",
      [groupId],
    );
    return row && { namespace: row.namespace, stream: row.name, groupName: row.group_name };
  }

  async recordRebalance(streamId: number, groupName: string, partitions: number, now: number): Promise<void> {
    await this.sql.run(
      "UPDATE group_settings SET generation = generation + 1, partitions = ?, last_rebalance_at = ? WHERE stream_id = ? AND group_name = ?",
      [partitions, now, streamId, groupName],
    );
  }

  /** The group's active members in join order. EXPLAIN: a primary-key prefix scan. */
  async list(streamId: number, groupName: string): Promise<MemberRecord[]> {
    const rows = await this.sql.all<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM group_members WHERE stream_id = ? AND group_name = ? AND status = 'ACTIVE' ` +
        "ORDER BY join_seq",
      [streamId, groupName],
    );
    return rows.map(toMember);
  }

  /** One member in any status. EXPLAIN: a primary-key lookup. */
  async get(streamId: number, groupName: string, memberId: string): Promise<MemberRecord | undefined> {
    const row = await this.sql.get<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM group_members WHERE stream_id = ? AND group_name = ? AND member_id = ?`,
      [streamId, groupName, memberId],
    );
    return row && toMember(row);
  }

  /** Adds a member after every other of the group in join order; the caller holds the group lock. */
  async insert(streamId: number, groupName: string, m: MemberRecord): Promise<void> {
    await this.sql.run(
      `INSERT INTO group_members (stream_id, group_name, join_seq, ${MEMBER_COLUMNS}) ` +
        "SELECT ?, ?, COALESCE(MAX(join_seq), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM group_members WHERE stream_id = ? AND group_name = ?",
      [
        streamId,
        groupName,
        m.memberId,
        m.memberName,
        m.joinedAt,
        m.lastHeartbeat,
        m.lastPollAt,
        JSON.stringify(m.partitions),
        JSON.stringify(m.consumers),
        m.status,
        m.evictedFor,
        streamId,
        groupName,
      ],
    );
  }

  async setPartitions(streamId: number, groupName: string, memberId: string, partitions: readonly number[]): Promise<void> {
    await this.sql.run("UPDATE group_members SET partitions = ? WHERE stream_id = ? AND group_name = ? AND member_id = ?", [
      JSON.stringify(partitions),
      streamId,
      groupName,
      memberId,
    ]);
  }

  async setConsumers(streamId: number, groupName: string, memberId: string, consumers: readonly string[]): Promise<void> {
    await this.sql.run("UPDATE group_members SET consumers = ? WHERE stream_id = ? AND group_name = ? AND member_id = ?", [
      JSON.stringify(consumers),
      streamId,
      groupName,
      memberId,
    ]);
  }

  /** Answers false when the member is not active (it left or was evicted). */
  async heartbeat(streamId: number, groupName: string, memberId: string, now: number): Promise<boolean> {
    const n = await this.sql.run(
      "UPDATE group_members SET last_heartbeat = ? WHERE stream_id = ? AND group_name = ? AND member_id = ? AND status = 'ACTIVE'",
      [now, streamId, groupName, memberId],
    );
    return n > 0;
  }

  /** A member read: a heartbeat and a poll. Answers false when the member is not active. */
  async polled(streamId: number, groupName: string, memberId: string, now: number): Promise<boolean> {
    const n = await this.sql.run(
      "UPDATE group_members SET last_heartbeat = ?, last_poll_at = ? " +
        "WHERE stream_id = ? AND group_name = ? AND member_id = ? AND status = 'ACTIVE'",
      [now, now, streamId, groupName, memberId],
    );
    return n > 0;
  }

  /**
   * Marks a member evicted if it is still active and its last heartbeat is before `sessionCutoff` or its last
   * read before `pollCutoff`. The condition is checked by the UPDATE itself, so of several nodes noticing the
   * same timeout exactly one gets `true`.
   */
  async evict(streamId: number, groupName: string, memberId: string, sessionCutoff: number, pollCutoff: number): Promise<boolean> {
    const n = await this.sql.run(
      "UPDATE group_members SET status = 'EVICTED', partitions = '[]', " +
        "evicted_for = CASE WHEN last_heartbeat < ? THEN 'session' ELSE 'poll' END " +
        "WHERE stream_id = ? AND group_name = ? AND member_id = ? AND status = 'ACTIVE' AND (last_heartbeat < ? OR last_poll_at < ?)",
      [sessionCutoff, streamId, groupName, memberId, sessionCutoff, pollCutoff],
    );
    return n > 0;
  }

  /** Removes an active member (it left); answers false when it was not active. */
  async remove(streamId: number, groupName: string, memberId: string): Promise<boolean> {
    const n = await this.sql.run(
      "DELETE FROM group_members WHERE stream_id = ? AND group_name = ? AND member_id = ? AND status = 'ACTIVE'",
      [streamId, groupName, memberId],
    );
    return n > 0;
  }

  /**
   * Groups, on any stream, with an active member whose session or poll interval ran out by `now`.
   * EXPLAIN: a range scan of group_members_by_heartbeat for active members, joined to settings by primary key.
   */
  async expiredGroups(now: number): Promise<GroupLocation[]> {
    const rows = await this.sql.all<{ namespace: string; name: string; group_name: string }>(
      "SELECT DISTINCT s.namespace, s.name, m.group_name FROM group_members m " +
        "JOIN group_settings g ON g.stream_id = m.stream_id AND g.group_name = m.group_name " +
        "JOIN streams s ON s.id = m.stream_id " +
        "WHERE m.status = 'ACTIVE' AND (m.last_heartbeat + g.session_timeout_ms < ? OR m.last_poll_at + g.max_poll_interval_ms < ?)",
      [now, now],
    );
    return rows.map((r) => ({ namespace: r.namespace, stream: r.name, groupName: r.group_name }));
  }

  /** Forgets evicted members last heard of before `before`; they only served to tell a late member why. */
  async purgeEvicted(before: number): Promise<number> {
    return this.sql.run("DELETE FROM group_members WHERE status = 'EVICTED' AND last_heartbeat < ?", [before]);
  }

  async deleteGroup(streamId: number, groupName: string): Promise<void> {
    await this.sql.run("DELETE FROM group_members WHERE stream_id = ? AND group_name = ?", [streamId, groupName]);
    await this.sql.run("DELETE FROM group_settings WHERE stream_id = ? AND group_name = ?", [streamId, groupName]);
  }

  async deleteStream(streamId: number): Promise<void> {
    await this.sql.run("DELETE FROM group_members WHERE stream_id = ?", [streamId]);
    await this.sql.run("DELETE FROM group_settings WHERE stream_id = ?", [streamId]);
  }

  /** Deferred (delayed or handed back) entries of a group per partition. */
  async deferredPerPartition(streamId: number, groupName: string): Promise<Map<number, number>> {
    return perPartition(
      await this.sql.all<{ partition_no: number; n: number }>(
        "SELECT partition_no, COUNT(*) AS n FROM group_deferred WHERE stream_id = ? AND group_name = ? GROUP BY partition_no",
        [streamId, groupName],
      ),
    );
  }

  /**
   * Deferred entries due by `now` in the given partitions, highest priority first, then oldest: what a member
   * may take. EXPLAIN: the range scan of group_deferred_due, filtered by partition.
   */
  async dueDeferredIn(
    streamId: number,
    groupName: string,
    partitions: readonly number[],
    now: number,
    count: number,
  ): Promise<DeferredRecord[]> {
    if (partitions.length === 0 || count <= 0) return [];
    const rows = await this.sql.all<{
      ms: number;
      seq: number;
      partition_no: number;
      priority: number;
      due_at: number;
      delivery_count: number;
      history: string | null;
    }>(
      "SELECT ms, seq, partition_no, priority, due_at, delivery_count, history FROM group_deferred " +
        `WHERE stream_id = ? AND group_name = ? AND due_at <= ? AND partition_no IN (${partitions.map(() => "?").join(", ")}) ` +
        "ORDER BY priority DESC, ms, seq LIMIT ?",
      [streamId, groupName, now, ...partitions, count] as SqlValue[],
    );
    return rows.map((row) => ({
      id: { ms: row.ms, seq: row.seq },
      partition: row.partition_no,
      priority: row.priority,
      dueAt: row.due_at,
      deliveryCount: row.delivery_count,
      history: parseHistory(row.history),
    }));
  }

  /** The earliest due time of a deferred entry in the given partitions, if any. */
  async nextDeferredDueIn(streamId: number, groupName: string, partitions: readonly number[]): Promise<number | null> {
    if (partitions.length === 0) return null;
    const row = await this.sql.get<{ due: number | null }>(
      "SELECT MIN(due_at) AS due FROM group_deferred WHERE stream_id = ? AND group_name = ? " +
        `AND partition_no IN (${partitions.map(() => "?").join(", ")})`,
      [streamId, groupName, ...partitions],
    );
    return row?.due === null || row?.due === undefined ? null : Number(row.due);
  }
}
