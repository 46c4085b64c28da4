// Consumer group membership over HTTP: seed 000 §3 (/api/v1/queues/…/consumer-groups) and seed 003 (/api/v1/consumer-groups).
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { NotFoundError } from "../../../core/errors.js";
import {
  resolveGroupOptions,
  SEED_000_FIELDS,
  SEED_003_FIELDS,
  type GroupView,
} from "../../../engine/membership/index.js";
import type { HttpContext } from "../context.js";
import { IdText, Name, Text } from "../schemas.js";
import { emptyBodyIsObject } from "../validation.js";

/** The stream a seed 003 group consumes when the create request names none. */
export const DEFAULT_BUS_STREAM = "events";

const QueueParams = Type.Object({ setupId: Name, queueName: Name });
const GroupParams = Type.Object({ setupId: Name, queueName: Name, groupName: Name });
const MemberParams = Type.Object({ setupId: Name, queueName: Name, groupName: Name, memberId: Name });
const GroupIdParams = Type.Object({ group_id: Name });

const Strategy = Type.String({ minLength: 1, maxLength: 50 });
const Description = Text({ maxLength: 1000 });

const CreateBody = Type.Object(
  {
    groupName: Name,
    maxMembers: Type.Optional(Type.Integer()),
    loadBalancingStrategy: Type.Optional(Strategy),
    sessionTimeout: Type.Optional(Type.Integer()),
    heartbeatInterval: Type.Optional(Type.Integer()),
    description: Type.Optional(Description),
    startId: Type.Optional(IdText),
  },
  { additionalProperties: false },
);
type CreateBodyT = {
  groupName: string;
  maxMembers?: number;
  loadBalancingStrategy?: string;
  sessionTimeout?: number;
  heartbeatInterval?: number;
  description?: string;
  startId?: string;
};

const JoinBody = Type.Object(
  { memberName: Type.Optional(Text({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

const BusCreateBody = Type.Object(
  {
    group_name: Name,
    group_description: Type.Optional(Description),
    session_timeout_ms: Type.Optional(Type.Integer()),
    heartbeat_interval_ms: Type.Optional(Type.Integer()),
    max_poll_interval_ms: Type.Optional(Type.Integer()),
    partition_assignment_strategy: Type.Optional(Strategy),
    rebalance_timeout_ms: Type.Optional(Type.Integer()),
    max_members: Type.Optional(Type.Integer()),
    stream: Type.Optional(Name),
    auto_offset_reset: Type.Optional(Type.Union([Type.Literal("earliest"), Type.Literal("latest")])),
  },
  { additionalProperties: false },
);
type BusCreateBodyT = {
  group_name: string;
  group_description?: string;
  session_timeout_ms?: number;
  heartbeat_interval_ms?: number;
  max_poll_interval_ms?: number;
  partition_assignment_strategy?: string;
  rebalance_timeout_ms?: number;
  max_members?: number;
  stream?: string;
  auto_offset_reset?: "earliest" | "latest";
};

type QP = { setupId: string; queueName: string };
type GP = QP & { groupName: string };
type MP = GP & { memberId: string };

/** One group the way seed 000 shows it (without `message` and `timestamp`). */
function groupJson(v: GroupView) {
  return {
    groupName: v.groupName,
    groupId: v.groupId,
    setupId: v.namespace,
    queueName: v.stream,
    memberCount: v.members.length,
    maxMembers: v.options.maxMembers,
    loadBalancingStrategy: v.options.strategy,
    sessionTimeout: v.options.sessionTimeoutMs,
    heartbeatInterval: v.options.heartbeatIntervalMs,
    description: v.options.description,
    members: v.members,
    partitions: v.partitions,
    generation: v.generation,
    lastRebalance: v.lastRebalanceAt,
    pending: v.pending,
    lag: v.lag,
    partitionLags: v.partitionLags,
    createdAt: v.createdAt,
  };
}

/** Seed 000's envelope: a message first, the timestamp last. */
function withMessage(message: string, body: object) {
  return { message, ...body, timestamp: Date.now() };
}

export function consumerGroupRoutes(app: FastifyInstance, { engine, namespaceOf }: HttpContext): void {
  const base = "/api/v1/queues/:setupId/:queueName/consumer-groups";

  app.post(base, { schema: { params: QueueParams, body: CreateBody } }, async (req, res) => {
    const { setupId, queueName } = req.params as QP;
    const b = req.body as CreateBodyT;
    const options = resolveGroupOptions(
      {
        strategy: b.loadBalancingStrategy,
        maxMembers: b.maxMembers,
        sessionTimeoutMs: b.sessionTimeout,
        heartbeatIntervalMs: b.heartbeatInterval,
        description: b.description,
      },
      SEED_000_FIELDS,
    );
    const v = await engine.membership.createGroup(setupId, queueName, b.groupName, options, b.startId ?? "0");
    return res.status(201).send(withMessage("Consumer group created successfully", groupJson(v)));
  });

  app.get(base, { schema: { params: QueueParams } }, async (req) => {
    const { setupId, queueName } = req.params as QP;
    const groups = await engine.membership.listGroups(setupId, queueName);
    return withMessage("Consumer groups retrieved successfully", {
      setupId,
      queueName,
      groupCount: groups.length,
      groups: groups.map(groupJson),
    });
  });

  app.get(`${base}/:groupName`, { schema: { params: GroupParams } }, async (req) => {
    const { setupId, queueName, groupName } = req.params as GP;
    return withMessage("Consumer group retrieved successfully", groupJson(await engine.membership.describe(setupId, queueName, groupName)));
  });

  app.delete(`${base}/:groupName`, { schema: { params: GroupParams } }, async (req) => {
    const { setupId, queueName, groupName } = req.params as GP;
    await engine.groups.destroy(setupId, queueName, groupName);
    return withMessage("Consumer group deleted successfully", { groupName, setupId, queueName });
  });

  app.post(
    `${base}/:groupName/members`,
    { schema: { params: GroupParams, body: JoinBody }, preValidation: emptyBodyIsObject },
    async (req, res) => {
      const { setupId, queueName, groupName } = req.params as GP;
      const { memberName } = req.body as { memberName?: string };
      const { member, group } = await engine.membership.join(setupId, queueName, groupName, memberName);
      return res.status(201).send(
        withMessage("Joined consumer group successfully", {
          ...member,
          groupName,
          groupId: group.groupId,
          setupId,
          queueName,
          memberCount: group.members.length,
          generation: group.generation,
          sessionTimeout: group.options.sessionTimeoutMs,
          heartbeatInterval: group.options.heartbeatIntervalMs,
        }),
      );
    },
  );

  app.delete(`${base}/:groupName/members/:memberId`, { schema: { params: MemberParams } }, async (req) => {
    const { setupId, queueName, groupName, memberId } = req.params as MP;
    const { handedBack, group } = await engine.membership.leave(setupId, queueName, groupName, memberId);
    return withMessage("Left consumer group successfully", {
      memberId,
      groupName,
      setupId,
      queueName,
      handedBack,
      memberCount: group.members.length,
      generation: group.generation,
    });
  });

  app.post(`${base}/:groupName/members/:memberId/heartbeat`, { schema: { params: MemberParams } }, async (req) => {
    const { setupId, queueName, groupName, memberId } = req.params as MP;
    const { member, generation } = await engine.membership.heartbeat(setupId, queueName, groupName, memberId);
    return withMessage("Heartbeat received", { ...member, groupName, setupId, queueName, generation });
  });

  // Seed 003: groups named by id. The create request may name the stream (`stream`), else DEFAULT_BUS_STREAM.
  async function located(req: FastifyRequest) {
    const { group_id } = req.params as { group_id: string };
    const where = await engine.membership.locate(group_id);
    // A group of another namespace does not exist for this caller.
    if (where.namespace !== namespaceOf(req)) throw new NotFoundError(`consumer group '${group_id}' does not exist`, { field: "group_id" });
    return { groupId: group_id, ...where };
  }

  app.post("/api/v1/consumer-groups", { schema: { body: BusCreateBody } }, async (req, res) => {
    const b = req.body as BusCreateBodyT;
    const options = resolveGroupOptions(
      {
        strategy: b.partition_assignment_strategy,
        maxMembers: b.max_members,
        sessionTimeoutMs: b.session_timeout_ms,
        heartbeatIntervalMs: b.heartbeat_interval_ms,
        maxPollIntervalMs: b.max_poll_interval_ms,
        rebalanceTimeoutMs: b.rebalance_timeout_ms,
        description: b.group_description,
      },
      SEED_003_FIELDS,
    );
    const stream = b.stream ?? DEFAULT_BUS_STREAM;
    const start = b.auto_offset_reset === "latest" ? "$" : "0";
    const v = await engine.membership.createGroup(namespaceOf(req), stream, b.group_name, options, start);
    return res.status(201).send({ group_id: v.groupId, message: "Consumer group created successfully", group_name: v.groupName, stream });
  });

  app.get("/api/v1/consumer-groups/:group_id/lag", { schema: { params: GroupIdParams } }, async (req) => {
    const g = await located(req);
    const lag = await engine.membership.lag(g.namespace, g.stream, g.groupName);
    return {
      group_id: g.groupId,
      group_name: g.groupName,
      total_lag: lag.totalLag,
      partition_lags: lag.partitionLags,
      consumption_rate: lag.consumptionRate,
      active_consumers: lag.activeConsumers,
      last_rebalance: lag.lastRebalanceAt === null ? null : new Date(lag.lastRebalanceAt).toISOString(),
      stream: g.stream,
    };
  });

  app.post("/api/v1/consumer-groups/:group_id/rebalance", { schema: { params: GroupIdParams } }, async (req) => {
    const g = await located(req);
    const v = await engine.membership.rebalance(g.namespace, g.stream, g.groupName);
    return {
      message: "Consumer group rebalance triggered successfully",
      group_id: g.groupId,
      generation: v.generation,
      assignments: Object.fromEntries(v.members.map((m) => [m.memberId, m.assignedPartitions])),
    };
  });
}
