// Membership work inside one transaction: settings, evicting members whose session ran out, rebalancing, a member's scope.
import { randomBytes, randomUUID } from "node:crypto";
import { assignPartitions } from "../../core/assignment.js";
import { NotFoundError } from "../../core/errors.js";
import type { GroupRecord, StreamRecord, Tx } from "../../storage/index.js";
import type { GroupSettingsRecord, MemberRecord } from "../../storage/queries/members.js";
import { handBack } from "../delivery.js";
import { DEFAULT_GROUP_OPTIONS, type GroupOptions } from "./options.js";

/** Consumer names a member keeps on record; older ones whose consumer is gone are dropped first. */
const MAX_MEMBER_CONSUMERS = 64;
/** A member read records itself (heartbeat and poll) at most this often, so reads do not each write it. */
const HEARTBEAT_WRITE_MS = 1_000;

export function newGroupId(): string {
  return `grp_${randomBytes(8).toString("hex")}`;
}

export function newMemberId(): string {
  return `member-${randomUUID()}`;
}

/** Gives a new group its settings, replacing any left behind by an earlier group of the same name. */
export async function initSettings(
  tx: Tx,
  streamId: number,
  groupName: string,
  now: number,
  options: GroupOptions = DEFAULT_GROUP_OPTIONS,
): Promise<void> {
  await tx.members.deleteGroup(streamId, groupName);
  await tx.members.createSettings({ streamId, groupName, groupId: newGroupId(), createdAt: now, ...options });
}

/** The group's settings; a group made some other way gets the defaults on first use. */
export async function ensureSettings(tx: Tx, streamId: number, groupName: string, now: number): Promise<GroupSettingsRecord> {
  const found = await tx.members.settings(streamId, groupName);
  if (found) return found;
  await tx.members.createSettings({ streamId, groupName, groupId: newGroupId(), createdAt: now, ...DEFAULT_GROUP_OPTIONS });
  return (await tx.members.settings(streamId, groupName))!;
}

/** Locks the group row (PostgreSQL), so membership changes and member reads of one group run one at a time. */
export async function lockGroup(tx: Tx, stream: StreamRecord, groupName: string): Promise<GroupRecord> {
  const group = await tx.groups.get(stream.id, groupName, true);
  if (!group) {
    throw new NotFoundError(`consumer group '${groupName}' does not exist on '${stream.name}'`, { field: "groupName" });
  }
  return group;
}

export interface GroupState {
  settings: GroupSettingsRecord;
  /** Active members in join order, with their current partitions. */
  members: MemberRecord[];
  evicted: MemberRecord[];
  /** Pending entries the evicted members held, now due for redelivery. */
  handedBack: number;
  rebalanced: boolean;
}

/**
 * Hands back everything the member's consumers hold and forgets those consumers; a consumer name that another
 * active member reads as too is left alone, since that member may be working on its entries.
 */
export async function releaseMember(
  tx: Tx,
  stream: StreamRecord,
  groupName: string,
  member: MemberRecord,
  others: readonly MemberRecord[],
  now: number,
): Promise<number> {
  const shared = new Set(others.filter((m) => m !== member).flatMap((m) => m.consumers));
  let n = 0;
  for (const consumer of member.consumers) {
    if (shared.has(consumer)) continue;
    n += await handBack(tx, stream, groupName, consumer, now);
    await tx.groups.deleteConsumer(stream.id, groupName, consumer);
  }
  return n;
}

/** Reassigns the stream's partitions over `members` by the group's strategy and records the new generation. */
export async function rebalance(
  tx: Tx,
  stream: StreamRecord,
  settings: GroupSettingsRecord,
  members: readonly MemberRecord[],
  now: number,
): Promise<{ settings: GroupSettingsRecord; members: MemberRecord[] }> {
  const partitions = stream.config.partitions;
  const next = assignPartitions(settings.strategy, {
    members: members.map((m) => m.memberId),
    partitions,
    previous: Object.fromEntries(members.map((m) => [m.memberId, m.partitions])),
  });
  const out: MemberRecord[] = [];
  for (const m of members) {
    const assigned = next[m.memberId] ?? [];
    if (assigned.join() !== m.partitions.join()) await tx.members.setPartitions(stream.id, settings.groupName, m.memberId, assigned);
    out.push({ ...m, partitions: assigned });
  }
  await tx.members.recordRebalance(stream.id, settings.groupName, partitions, now);
  return {
    settings: { ...settings, generation: settings.generation + 1, partitions, lastRebalanceAt: now },
    members: out,
  };
}

/**
 * Evicts every member whose session ran out or that has not read within max_poll_interval_ms (each eviction is a
 * conditional update, so it happens once however many nodes notice), hands back what they held and rebalances
 * when membership or the partition count changed. The caller holds the group lock.
 */
export async function refreshGroup(tx: Tx, stream: StreamRecord, groupName: string, now: number): Promise<GroupState> {
  let settings = await ensureSettings(tx, stream.id, groupName, now);
  let members = await tx.members.list(stream.id, groupName);
  const sessionCutoff = now - settings.sessionTimeoutMs;
  const pollCutoff = now - settings.maxPollIntervalMs;
  const evicted: MemberRecord[] = [];
  let handedBack = 0;
  for (const m of members) {
    if (m.lastHeartbeat >= sessionCutoff && m.lastPollAt >= pollCutoff) continue;
    if (await tx.members.evict(stream.id, groupName, m.memberId, sessionCutoff, pollCutoff)) evicted.push(m);
  }
  members = members.filter((m) => !evicted.includes(m));
  for (const m of evicted) handedBack += await releaseMember(tx, stream, groupName, m, members, now);
  const resized = members.length > 0 && settings.partitions !== stream.config.partitions;
  let rebalanced = false;
  if (evicted.length > 0 || resized) {
    ({ settings, members } = await rebalance(tx, stream, settings, members, now));
    rebalanced = true;
  }
  return { settings, members, evicted, handedBack, rebalanced };
}

/** Why a member id is not (or no longer) in the group, for a 404 the client can act on. */
export async function goneMessage(tx: Tx, streamId: number, groupName: string, memberId: string): Promise<string> {
  const row = await tx.members.get(streamId, groupName, memberId);
  if (row?.status === "EVICTED" && row.evictedFor === "poll") {
    return `member '${memberId}' was evicted from group '${groupName}' after not reading for longer than max_poll_interval_ms; join again`;
  }
  if (row?.status === "EVICTED") {
    return `member '${memberId}' was evicted from group '${groupName}' after missing its session timeout; join again`;
  }
  return `member '${memberId}' is not in group '${groupName}'`;
}

export type MemberScope =
  | {
      kind: "member";
      partitions: number[];
      /** A waiting read passes again at least this often (ms), so its member stays within both limits. */
      refreshMs: number;
      rebalanced: boolean;
    }
  | { kind: "gone"; message: string; rebalanced: boolean };

/**
 * What a member may read now: its assigned partitions. The read counts as a heartbeat and a poll, and the
 * consumer name it reads as is recorded so that what it holds can be handed back when the member goes.
 */
export async function memberScope(
  tx: Tx,
  stream: StreamRecord,
  groupName: string,
  memberId: string,
  consumer: string,
  now: number,
): Promise<MemberScope> {
  const state = await refreshGroup(tx, stream, groupName, now);
  const me = state.members.find((m) => m.memberId === memberId);
  if (!me) return { kind: "gone", message: await goneMessage(tx, stream.id, groupName, memberId), rebalanced: state.rebalanced };
  const { heartbeatIntervalMs, maxPollIntervalMs } = state.settings;
  const refreshMs = Math.max(1, Math.min(heartbeatIntervalMs, Math.floor(maxPollIntervalMs / 2)));
  if (now - Math.min(me.lastHeartbeat, me.lastPollAt) >= Math.min(HEARTBEAT_WRITE_MS, Math.floor(refreshMs / 2))) {
    await tx.members.polled(stream.id, groupName, memberId, now);
  }
  if (!me.consumers.includes(consumer)) {
    const live = new Set((await tx.groups.consumers(stream.id, groupName)).map((c) => c.name));
    const kept = me.consumers.filter((c) => live.has(c)).slice(-(MAX_MEMBER_CONSUMERS - 1));
    await tx.members.setConsumers(stream.id, groupName, memberId, [...kept, consumer]);
  }
  return {
    kind: "member",
    partitions: me.partitions,
    refreshMs,
    rebalanced: state.rebalanced,
  };
}

/** Throws a 404 naming `memberId` unless it is an active member of the group. */
export async function requireActiveMember(tx: Tx, streamId: number, groupName: string, memberId: string): Promise<MemberRecord> {
  const row = await tx.members.get(streamId, groupName, memberId);
  if (!row || row.status !== "ACTIVE") {
    throw new NotFoundError(await goneMessage(tx, streamId, groupName, memberId), { field: "memberId" });
  }
  return row;
}
