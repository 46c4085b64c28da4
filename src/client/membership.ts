// Kafka-style group membership over HTTP: seed 000's groups with members (join, heartbeat, leave) under
// /api/v1/queues/{setupId}/{queueName}/consumer-groups, and seed 003's groups named by id (create, lag, rebalance).
import { path, type HttpTransport } from "./http.js";

/**
 * How the partitions of a stream are divided among a group's members.
 *
 * @example
 * ```ts
 * const strategy: AssignmentStrategy = "STICKY";
 * ```
 */
export type AssignmentStrategy = "ROUND_ROBIN" | "RANGE" | "STICKY" | "RANDOM";

/**
 * The settings of a group with members (seed 000's names).
 *
 * @example
 * ```ts
 * const settings: MemberGroupOptions = { maxMembers: 10, loadBalancingStrategy: "RANGE", sessionTimeout: 30_000, startId: "0" };
 * ```
 */
export interface MemberGroupOptions {
  maxMembers?: number;
  loadBalancingStrategy?: AssignmentStrategy;
  /** A member that sends no heartbeat (and does not read) for this long is evicted (ms). */
  sessionTimeout?: number;
  heartbeatInterval?: number;
  description?: string;
  /** Where the group starts reading: `0` (default), `$` or an id. */
  startId?: string;
}

/**
 * One member of a group.
 *
 * @example
 * ```ts
 * const [first]: GroupMember[] = (await client.membership.get("orders", "billing")).members;
 * console.log(first?.memberName, first?.assignedPartitions);
 * ```
 */
export interface GroupMember {
  memberId: string;
  memberName: string;
  joinedAt: number;
  lastHeartbeat: number;
  assignedPartitions: number[];
  status: "ACTIVE" | "EVICTED";
}

/**
 * A group with its members, as seed 000 shows it.
 *
 * @example
 * ```ts
 * const g: MemberGroup = await client.membership.get("orders", "billing");
 * console.log(g.memberCount, g.partitionLags, g.generation);
 * ```
 */
export interface MemberGroup {
  groupName: string;
  groupId: string;
  setupId: string;
  queueName: string;
  memberCount: number;
  maxMembers: number;
  loadBalancingStrategy: AssignmentStrategy;
  sessionTimeout: number;
  heartbeatInterval: number;
  description: string | null;
  members: GroupMember[];
  partitions: number;
  /** Grows by one on every rebalance. */
  generation: number;
  lastRebalance: number | null;
  pending: number;
  lag: number;
  partitionLags: Record<string, number>;
  createdAt: number;
}

/**
 * What joining answers: the new member, its partitions and the group's rhythm.
 *
 * @example
 * ```ts
 * const me: JoinResult = await client.membership.join("orders", "billing", { memberName: "worker-1" });
 * setInterval(() => client.membership.heartbeat("orders", "billing", me.memberId), me.heartbeatInterval);
 * ```
 */
export interface JoinResult extends GroupMember {
  groupName: string;
  groupId: string;
  setupId: string;
  queueName: string;
  memberCount: number;
  generation: number;
  sessionTimeout: number;
  heartbeatInterval: number;
}

/**
 * What a heartbeat answers: the member (with its current partitions) and the group's generation.
 *
 * @example
 * ```ts
 * const beat: HeartbeatResult = await client.membership.heartbeat("orders", "billing", memberId);
 * if (beat.generation !== lastGeneration) console.log("reassigned:", beat.assignedPartitions);
 * ```
 */
export interface HeartbeatResult extends GroupMember {
  groupName: string;
  setupId: string;
  queueName: string;
  generation: number;
}

/**
 * Seed 003's group settings (snake_case); `stream` is the group's stream (`events` by default).
 *
 * @example
 * ```ts
 * const settings: BusGroupOptions = { group_name: "notifications", stream: "events", max_poll_interval_ms: 300_000 };
 * ```
 */
export interface BusGroupOptions {
  group_name: string;
  group_description?: string;
  session_timeout_ms?: number;
  heartbeat_interval_ms?: number;
  max_poll_interval_ms?: number;
  partition_assignment_strategy?: string;
  rebalance_timeout_ms?: number;
  max_members?: number;
  stream?: string;
  /** `earliest` (default): the group starts at the stream's first entry; `latest`: only new ones. */
  auto_offset_reset?: "earliest" | "latest";
}

/**
 * A group's lag, seed 003's way.
 *
 * @example
 * ```ts
 * const lag: GroupLag = await client.membership.lag(groupId);
 * if (lag.total_lag > 1000) await client.membership.rebalance(groupId);
 * ```
 */
export interface GroupLag {
  group_id: string;
  group_name: string;
  total_lag: number;
  partition_lags: Record<string, number>;
  consumption_rate: number;
  active_consumers: number;
  last_rebalance: string | null;
  stream: string;
}

type Envelope<T> = T & { message: string; timestamp: number };

/**
 * Group membership: members share a stream's partitions and read only their own (`groups.read` with
 * `memberId`). Reach it as `client.membership`; `setupId` is the namespace (`default` unless given).
 *
 * @example
 * ```ts
 * await client.membership.create("orders", "billing", { loadBalancingStrategy: "RANGE" });
 * const me = await client.membership.join("orders", "billing", { memberName: "worker-1" });
 * const { entries } = await client.groups.read("orders", "billing", "worker-1", { memberId: me.memberId });
 * ```
 */
export class MembershipApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * Creates a group with members on a queue (created when missing); 409 when it exists.
   *
   * @example
   * ```ts
   * const g = await client.membership.create("orders", "billing", { maxMembers: 5, sessionTimeout: 30_000 });
   * ```
   */
  create(queue: string, group: string, options: MemberGroupOptions = {}, setupId = "default"): Promise<Envelope<MemberGroup>> {
    return this.http.request("POST", path`/api/v1/queues/${setupId}/${queue}/consumer-groups`, { body: { groupName: group, ...options } });
  }

  /**
   * The queue's groups with their members.
   *
   * @example
   * ```ts
   * const groups = await client.membership.list("orders");
   * ```
   */
  async list(queue: string, setupId = "default"): Promise<MemberGroup[]> {
    const reply = await this.http.request<{ groups: MemberGroup[] }>("GET", path`/api/v1/queues/${setupId}/${queue}/consumer-groups`);
    return reply.groups;
  }

  /**
   * One group; members whose session ran out are evicted first.
   *
   * @example
   * ```ts
   * const g = await client.membership.get("orders", "billing");
   * ```
   */
  get(queue: string, group: string, setupId = "default"): Promise<Envelope<MemberGroup>> {
    return this.http.request("GET", path`/api/v1/queues/${setupId}/${queue}/consumer-groups/${group}`);
  }

  /**
   * Deletes the group, its members and what it held.
   *
   * @example
   * ```ts
   * await client.membership.delete("orders", "billing");
   * ```
   */
  async delete(queue: string, group: string, setupId = "default"): Promise<void> {
    await this.http.request("DELETE", path`/api/v1/queues/${setupId}/${queue}/consumer-groups/${group}`);
  }

  /**
   * Joins the group as a new member; the partitions are reassigned. 409 past the group's maxMembers.
   *
   * @example
   * ```ts
   * const { memberId, assignedPartitions } = await client.membership.join("orders", "billing", { memberName: "w1" });
   * ```
   */
  join(queue: string, group: string, options: { memberName?: string } = {}, setupId = "default"): Promise<Envelope<JoinResult>> {
    return this.http.request("POST", path`/api/v1/queues/${setupId}/${queue}/consumer-groups/${group}/members`, { body: options });
  }

  /**
   * Keeps the member in the group and answers its current partitions; 404 once it left or was evicted.
   *
   * @example
   * ```ts
   * const { assignedPartitions } = await client.membership.heartbeat("orders", "billing", memberId);
   * ```
   */
  heartbeat(queue: string, group: string, memberId: string, setupId = "default"): Promise<Envelope<HeartbeatResult>> {
    return this.http.request("POST", path`/api/v1/queues/${setupId}/${queue}/consumer-groups/${group}/members/${memberId}/heartbeat`);
  }

  /**
   * Leaves the group: what the member held goes back to the group, the partitions are reassigned.
   *
   * @example
   * ```ts
   * const { handedBack } = await client.membership.leave("orders", "billing", memberId);
   * ```
   */
  leave(queue: string, group: string, memberId: string, setupId = "default"): Promise<Envelope<{ memberId: string; handedBack: number; memberCount: number; generation: number }>> {
    return this.http.request("DELETE", path`/api/v1/queues/${setupId}/${queue}/consumer-groups/${group}/members/${memberId}`);
  }

  /**
   * Seed 003: creates a group (namespace `default`) and answers its id.
   *
   * @example
   * ```ts
   * const { group_id } = await client.membership.createById({ group_name: "notifications", session_timeout_ms: 30_000 });
   * ```
   */
  createById(options: BusGroupOptions): Promise<{ group_id: string; message: string; group_name: string; stream: string }> {
    return this.http.request("POST", "/api/v1/consumer-groups", { body: options });
  }

  /**
   * Seed 003: the group's lag per partition, its recent consumption rate and active members.
   *
   * @example
   * ```ts
   * const { total_lag, partition_lags } = await client.membership.lag(groupId);
   * ```
   */
  lag(groupId: string): Promise<GroupLag> {
    return this.http.request("GET", path`/api/v1/consumer-groups/${groupId}/lag`);
  }

  /**
   * Seed 003: reassigns the group's partitions now; answers the new generation and assignments.
   *
   * @example
   * ```ts
   * const { assignments } = await client.membership.rebalance(groupId);
   * ```
   */
  rebalance(groupId: string): Promise<{ message: string; group_id: string; generation: number; assignments: Record<string, number[]> }> {
    return this.http.request("POST", path`/api/v1/consumer-groups/${groupId}/rebalance`);
  }
}
