// Kafka-style membership of consumer groups: create with settings, join, heartbeat, leave, rebalance, lag, evict.
import { ConflictError, NotFoundError } from "../../core/errors.js";
import { parseId } from "../../core/ids.js";
import { checkName } from "../../core/names.js";
import type { GroupRecord, StreamRecord, Tx } from "../../storage/index.js";
import type { GroupLocation, MemberRecord, MemberStatus } from "../../storage/queries/members.js";
import { loadOrCreateStream, requireStream } from "../append.js";
import type { EngineContext } from "../context.js";
import { lagsByPartition, partitionLagsOf } from "../streams.js";
import type { GroupOptions } from "./options.js";
import { ConsumptionRates } from "./rates.js";
import { DEFAULT_SWEEP_INTERVAL_MS, startSweep } from "./sweep.js";
import {
  goneMessage,
  initSettings,
  lockGroup,
  newMemberId,
  rebalance,
  refreshGroup,
  releaseMember,
  type GroupState,
} from "./state.js";

export interface MemberView {
  memberId: string;
  memberName: string;
  joinedAt: number;
  lastHeartbeat: number;
  assignedPartitions: number[];
  status: MemberStatus;
}

export interface GroupView {
  namespace: string;
  stream: string;
  groupName: string;
  groupId: string;
  options: GroupOptions;
  /** Grows by one on every rebalance. */
  generation: number;
  partitions: number;
  lastRebalanceAt: number | null;
  members: MemberView[];
  pending: number;
  lag: number;
  partitionLags: Record<string, number>;
  entriesRead: number;
  createdAt: number;
}

export interface LagReport {
  groupId: string;
  groupName: string;
  namespace: string;
  stream: string;
  totalLag: number;
  partitionLags: Record<string, number>;
  /** Entries delivered to the group per second, recently (see ConsumptionRates). */
  consumptionRate: number;
  activeConsumers: number;
  lastRebalanceAt: number | null;
}

export interface MembershipOptions {
  /** How often this node looks for members whose session ran out, in ms. */
  sweepIntervalMs?: number;
}

/** Evicted members are remembered this long, so a late heartbeat learns why it was turned away. */
const EVICTED_MEMORY_MS = 3_600_000;

function memberView(m: MemberRecord): MemberView {
  return {
    memberId: m.memberId,
    memberName: m.memberName,
    joinedAt: m.joinedAt,
    lastHeartbeat: m.lastHeartbeat,
    assignedPartitions: m.partitions,
    status: m.status,
  };
}

async function view(tx: Tx, stream: StreamRecord, group: GroupRecord, state: GroupState): Promise<GroupView> {
  const s = state.settings;
  const lags = await partitionLagsOf(tx, stream, group);
  return {
    namespace: stream.namespace,
    stream: stream.name,
    groupName: group.name,
    groupId: s.groupId,
    options: {
      strategy: s.strategy,
      maxMembers: s.maxMembers,
      sessionTimeoutMs: s.sessionTimeoutMs,
      heartbeatIntervalMs: s.heartbeatIntervalMs,
      maxPollIntervalMs: s.maxPollIntervalMs,
      rebalanceTimeoutMs: s.rebalanceTimeoutMs,
      description: s.description,
    },
    generation: s.generation,
    partitions: stream.config.partitions,
    lastRebalanceAt: s.lastRebalanceAt,
    members: state.members.map(memberView),
    pending: await tx.pending.countForGroup(stream.id, group.name),
    lag: lags.reduce((a, b) => a + b, 0),
    partitionLags: lagsByPartition(lags),
    entriesRead: group.entriesRead,
    createdAt: group.createdAt,
  };
}

export class MembershipService {
  private readonly rates = new ConsumptionRates();
  private sweeps = 0;

  constructor(
    private readonly ctx: EngineContext,
    options: MembershipOptions = {},
  ) {
    startSweep(() => this.sweep(), options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS, ctx.closing);
  }

  /**
   * Creates a group with membership settings on a stream (created when missing). `startId` is where the group
   * starts reading: `0` (every entry, the default) or `$` (only new ones) or an id. A group of that name → 409.
   */
  async createGroup(namespace: string, streamName: string, groupName: string, options: GroupOptions, startId = "0"): Promise<GroupView> {
    checkName(streamName, "queueName");
    checkName(groupName, "groupName");
    const start = startId === "$" ? undefined : parseId(startId, "startId");
    return this.ctx.store.write(async (tx) => {
      const now = this.ctx.clock.now();
      const stream = await loadOrCreateStream(tx, namespace, streamName, now);
      if (!(await tx.groups.create(stream.id, groupName, start ?? stream.top, now))) {
        throw new ConflictError(`consumer group '${groupName}' already exists on '${streamName}'`, { field: "groupName" });
      }
      await initSettings(tx, stream.id, groupName, now, options);
      const group = await lockGroup(tx, stream, groupName);
      return view(tx, stream, group, await refreshGroup(tx, stream, groupName, now));
    });
  }

  async listGroups(namespace: string, streamName: string): Promise<GroupView[]> {
    const names = await this.ctx.store.read(async (tx) => {
      const stream = await requireStream(tx, namespace, streamName);
      return (await tx.groups.list(stream.id)).map((g) => g.name);
    });
    const views: GroupView[] = [];
    for (const name of names) {
      // A group deleted meanwhile is simply left out.
      const v = await this.describe(namespace, streamName, name).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (v) views.push(v);
    }
    return views;
  }

  /** The group with its members; members whose session ran out are evicted first. */
  async describe(namespace: string, streamName: string, groupName: string): Promise<GroupView> {
    return this.change(namespace, streamName, groupName, async (tx, stream, group, state) => view(tx, stream, group, state));
  }

  /** Adds a member and rebalances; 409 when the group already has maxMembers members. */
  async join(namespace: string, streamName: string, groupName: string, memberName?: string): Promise<{ member: MemberView; group: GroupView }> {
    return this.change(namespace, streamName, groupName, async (tx, stream, group, state, now) => {
      if (state.members.length >= state.settings.maxMembers) {
        throw new ConflictError(
          `consumer group '${groupName}' already has its maximum of ${state.settings.maxMembers} members`,
          { field: "maxMembers", maxMembers: state.settings.maxMembers },
        );
      }
      const memberId = newMemberId();
      const joined: MemberRecord = {
        memberId,
        memberName: memberName ?? memberId,
        joinedAt: now,
        lastHeartbeat: now,
        lastPollAt: now,
        partitions: [],
        consumers: [],
        status: "ACTIVE",
        evictedFor: null,
      };
      await tx.members.insert(stream.id, groupName, joined);
      const next = await rebalance(tx, stream, state.settings, [...state.members, joined], now);
      const after = { ...state, ...next, rebalanced: true };
      return { member: memberView(next.members.find((m) => m.memberId === memberId)!), group: await view(tx, stream, group, after) };
    });
  }

  /** Removes a member, hands back the entries it held and rebalances. 404 for a member not in the group. */
  async leave(namespace: string, streamName: string, groupName: string, memberId: string): Promise<{ handedBack: number; group: GroupView }> {
    return this.change(namespace, streamName, groupName, async (tx, stream, group, state, now) => {
      const me = state.members.find((m) => m.memberId === memberId);
      if (!me) throw new NotFoundError(await goneMessage(tx, stream.id, groupName, memberId), { field: "memberId" });
      await tx.members.remove(stream.id, groupName, memberId);
      const rest = state.members.filter((m) => m !== me);
      const handedBack = await releaseMember(tx, stream, groupName, me, rest, now);
      const next = await rebalance(tx, stream, state.settings, rest, now);
      return { handedBack, group: await view(tx, stream, group, { ...state, ...next, rebalanced: true }) };
    });
  }

  /** Keeps a member in the group and tells it its partitions; 404 once it left or was evicted. */
  async heartbeat(namespace: string, streamName: string, groupName: string, memberId: string): Promise<{ member: MemberView; generation: number }> {
    type Outcome = { gone: string } | { member: MemberView; generation: number };
    const outcome = await this.change<Outcome>(namespace, streamName, groupName, async (tx, stream, _group, state, now) => {
      const me = state.members.find((m) => m.memberId === memberId);
      // A member found expired was evicted just now: that must commit, so the 404 is thrown after the transaction.
      if (!me) return { gone: await goneMessage(tx, stream.id, groupName, memberId) };
      await tx.members.heartbeat(stream.id, groupName, memberId, now);
      return { member: memberView({ ...me, lastHeartbeat: now }), generation: state.settings.generation };
    });
    if ("gone" in outcome) throw new NotFoundError(outcome.gone, { field: "memberId" });
    return outcome;
  }

  /** Reassigns the partitions now by the group's strategy (seed 003's trigger). */
  async rebalance(namespace: string, streamName: string, groupName: string): Promise<GroupView> {
    return this.change(namespace, streamName, groupName, async (tx, stream, group, state, now) => {
      const next = state.rebalanced ? state : { ...state, ...(await rebalance(tx, stream, state.settings, state.members, now)) };
      return view(tx, stream, group, { ...next, rebalanced: true });
    });
  }

  /** The group with this group id (seed 003 names groups by id); 404 when there is none. */
  async locate(groupId: string): Promise<GroupLocation> {
    const found = await this.ctx.store.read((tx) => tx.members.locate(groupId));
    if (!found) throw new NotFoundError(`consumer group '${groupId}' does not exist`, { field: "group_id" });
    return found;
  }

  /** Exact lag per partition, active members and the recent consumption rate. */
  async lag(namespace: string, streamName: string, groupName: string): Promise<LagReport> {
    const v = await this.describe(namespace, streamName, groupName);
    return {
      groupId: v.groupId,
      groupName,
      namespace,
      stream: streamName,
      totalLag: v.lag,
      partitionLags: v.partitionLags,
      consumptionRate: this.rates.sample(v.groupId, this.ctx.clock.now(), v.entriesRead, v.createdAt),
      activeConsumers: v.members.length,
      lastRebalanceAt: v.lastRebalanceAt,
    };
  }

  /**
   * Evicts every member, on every stream, whose session ran out, and answers how many this call evicted. Every
   * node runs it on a timer; an eviction is a conditional update, so a member is evicted once whichever node is first.
   */
  async sweep(): Promise<number> {
    const now = this.ctx.clock.now();
    const groups = await this.ctx.store.read((tx) => tx.members.expiredGroups(now));
    let evicted = 0;
    for (const g of groups) {
      evicted += await this.change(g.namespace, g.stream, g.groupName, async (_tx, _s, _g, state) => state.evicted.length).catch(
        (error: unknown) => {
          if (error instanceof NotFoundError) return 0;
          throw error;
        },
      );
    }
    if (++this.sweeps % 60 === 0) await this.ctx.store.write((tx) => tx.members.purgeEvicted(now - EVICTED_MEMORY_MS));
    return evicted;
  }

  /**
   * Runs `work` on a locked, refreshed group (expired members evicted, partitions rebalanced when needed) and
   * wakes the group's readers when the membership changed.
   */
  private async change<T>(
    namespace: string,
    streamName: string,
    groupName: string,
    work: (tx: Tx, stream: StreamRecord, group: GroupRecord, state: GroupState, now: number) => Promise<T>,
  ): Promise<T> {
    let changed = false;
    const out = await this.ctx.store.write(async (tx) => {
      changed = false;
      const now = this.ctx.clock.now();
      const stream = await requireStream(tx, namespace, streamName);
      const group = await lockGroup(tx, stream, groupName);
      const state = await refreshGroup(tx, stream, groupName, now);
      const before = state.settings.generation;
      const result = await work(tx, stream, group, state, now);
      changed = state.rebalanced || (await tx.members.settings(stream.id, groupName))?.generation !== before;
      return result;
    });
    if (changed) this.ctx.changed(namespace, streamName);
    return out;
  }
}
