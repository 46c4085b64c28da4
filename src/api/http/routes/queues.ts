// /api/v1/queues/:setupId/:queueName — seed 000's queue surface over the same streams (setupId is the namespace).
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { formatId } from "../../../core/ids.js";
import type { HttpContext } from "../context.js";
import { toNewEntry } from "../entry-input.js";
import { shapeBy } from "../validation.js";
import { EntryInput, Name, StreamOptions, type EntryInputT, type StreamOptionsT } from "../schemas.js";

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

  /** A queue as seed 000 describes it, with `message` saying what was done. */
  async function queueJson({ setupId, queueName }: Q, message: string) {
    const info = await engine.streams.info(setupId, queueName);
    return {
      message,
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
  }

  app.get("/api/v1/queues/:setupId/:queueName", { schema: { params: QueueParams } }, async (req) =>
    queueJson(req.params as Q, "Queue information retrieved successfully"),
  );

  // The seed leaves open how a queue gets its partitions; these take the options of POST and PATCH
  // /stream/:stream, in any setup (the /stream routes serve the default one only).
  app.post("/api/v1/queues/:setupId/:queueName", { schema: { params: QueueParams, body: StreamOptions } }, async (req, reply) => {
    const q = req.params as Q;
    await engine.streams.create(q.setupId, q.queueName, req.body as StreamOptionsT);
    return reply.status(201).send(await queueJson(q, "Queue created successfully"));
  });

  app.patch("/api/v1/queues/:setupId/:queueName", { schema: { params: QueueParams, body: StreamOptions } }, async (req) => {
    const q = req.params as Q;
    await engine.streams.configure(q.setupId, q.queueName, req.body as StreamOptionsT);
    return queueJson(q, "Queue configured successfully");
  });

  app.delete("/api/v1/queues/:setupId/:queueName", { schema: { params: QueueParams } }, async (req) => {
    const { setupId, queueName } = req.params as Q;
    await engine.streams.delete(setupId, queueName);
    return { message: "Queue deleted successfully", setupId, queueName, deleted: true, timestamp: Date.now() };
  });
}
