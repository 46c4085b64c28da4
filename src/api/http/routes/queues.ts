// /api/v1/queues/:setupId/:queueName — seed 000's queue surface over the same streams (setupId is the namespace).
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { formatId } from "../../../core/ids.js";
import type { HttpContext } from "../context.js";
import { toNewEntry } from "../entry-input.js";
import { shapeBy } from "../validation.js";
import { EntryInput, Name, type EntryInputT } from "../schemas.js";

const QueueParams = Type.Object({ setupId: Name, queueName: Name });
const BatchBody = Type.Object(
  {
    messages: Type.Array(EntryInput, { minItems: 1, maxItems: 10_000 }),
    failOnError: Type.Optional(Type.Boolean()),
    maxBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  },
  { additionalProperties: false },
);

type Q = { setupId: string; queueName: string };

export function queueRoutes(app: FastifyInstance, { engine }: HttpContext): void {
  async function sendBatch(params: Q, messages: EntryInputT[]) {
    const now = engine.clock.now();
    const entries = messages.map((m, i) => toNewEntry(m, now, `messages/${i}/`));
    const results = await engine.streams.append(params.setupId, params.queueName, entries, "messages");
    return {
      message: "Batch messages sent successfully",
      queueName: params.queueName,
      setupId: params.setupId,
      totalMessages: messages.length,
      successfulMessages: results.length,
      failedMessages: 0,
      messageIds: results.map((r) => formatId(r.id)),
      duplicates: results.filter((r) => r.duplicate).length,
      timestamp: Date.now(),
    };
  }

  app.post(
    "/api/v1/queues/:setupId/:queueName/messages",
    { schema: { params: QueueParams, body: shapeBy("messages", BatchBody, EntryInput) } },
    async (req, reply) => {
      const params = req.params as Q;
      const body = req.body as EntryInputT | { messages: EntryInputT[] };
      if ("messages" in body && Array.isArray(body.messages)) return reply.status(201).send(await sendBatch(params, body.messages));
      const entry = toNewEntry(body as EntryInputT, engine.clock.now());
      const [r] = await engine.streams.append(params.setupId, params.queueName, [entry], "");
      return reply.status(201).send({
        message: "Message sent successfully",
        queueName: params.queueName,
        setupId: params.setupId,
        messageId: formatId(r!.id),
        partition: r!.partition,
        offset: r!.offset,
        duplicate: r!.duplicate,
        timestamp: Date.now(),
      });
    },
  );

  app.post("/api/v1/queues/:setupId/:queueName/messages/batch", { schema: { params: QueueParams, body: BatchBody } }, async (req, reply) => {
    const body = req.body as { messages: EntryInputT[] };
    return reply.status(201).send(await sendBatch(req.params as Q, body.messages));
  });

  app.get("/api/v1/queues/:setupId/:queueName", { schema: { params: QueueParams } }, async (req) => {
    const { setupId, queueName } = req.params as Q;
    const info = await engine.streams.info(setupId, queueName);
    return {
      message: "Queue information retrieved successfully",
      setupId,
      queueName,
      messageCount: info.length,
      partitions: info.config.partitions,
      entriesAdded: info.entriesAdded,
      lastMessageId: formatId(info.lastGeneratedId),
      firstMessageId: info.firstEntry ? formatId(info.firstEntry.id) : null,
      consumerGroups: info.groups.map((g) => ({
        groupName: g.name,
        consumers: g.consumers,
        pending: g.pending,
        lag: g.lag,
        lastDeliveredId: formatId(g.lastDeliveredId),
      })),
      config: info.config,
      createdAt: info.createdAt,
      timestamp: Date.now(),
    };
  });
}
