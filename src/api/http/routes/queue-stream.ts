// SSE push at GET /api/v1/queues/{setupId}/{queueName}/stream (seed 000 §2), resumable through Last-Event-ID.
import { Type } from "@sinclair/typebox";
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { BadRequestError } from "../../../core/errors.js";
import type { EntryFilter } from "../../../core/filters.js";
import { formatId, parseId } from "../../../core/ids.js";
import type { PushItem, PushSink } from "../../../engine/push/index.js";
import { SseWriter } from "../../sse/writer.js";
import { batchJson, dataJson } from "../../push/messages.js";
import type { PushOptions } from "../../push/options.js";
import type { HttpContext } from "../context.js";
import { IdText, Name } from "../schemas.js";

const Params = Type.Object({ setupId: Name, queueName: Name });
const Query = Type.Object(
  {
    consumerGroup: Type.Optional(Name),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    maxWait: Type.Optional(Type.Integer({ minimum: 1000, maximum: 60_000 })),
    messageType: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    payloadContains: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    startId: Type.Optional(IdText),
    ackMode: Type.Optional(Type.Union([Type.Literal("auto"), Type.Literal("manual")])),
    memberId: Type.Optional(Name),
  },
  { patternProperties: { "^header\\.": Type.String() }, additionalProperties: false },
);

type Q = {
  consumerGroup?: string;
  batchSize?: number;
  maxWait?: number;
  messageType?: string;
  payloadContains?: string;
  startId?: string;
  ackMode?: "auto" | "manual";
  memberId?: string;
} & Record<string, unknown>;

function filtersOf(q: Q): EntryFilter {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (k.startsWith("header.")) headers[k.slice(7)] = String(v);
  return {
    ...(q.messageType === undefined ? {} : { messageType: q.messageType }),
    ...(q.payloadContains === undefined ? {} : { payloadContains: q.payloadContains }),
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
  };
}

export function queueStreamRoutes(app: FastifyInstance, { engine }: HttpContext, options: PushOptions): void {
  const open = new Set<SseWriter>();
  // Streams never finish on their own: end them so the server can close.
  app.addHook("preClose", async () => {
    for (const sse of open) sse.close();
  });

  app.get("/api/v1/queues/:setupId/:queueName/stream", { schema: { params: Params, querystring: Query } }, async (req, reply) => {
    const { setupId, queueName } = req.params as { setupId: string; queueName: string };
    const q = req.query as Q;
    const lastEventId = req.headers["last-event-id"];
    // A reconnecting EventSource sends the id of the last event it saw: carry on right after it.
    const resumeFrom = typeof lastEventId === "string" && lastEventId !== "" ? lastEventId : undefined;
    if (resumeFrom !== undefined) parseId(resumeFrom, "Last-Event-ID");
    if (q.startId !== undefined && q.startId !== "$") parseId(q.startId, "startId");
    for (const field of ["ackMode", "memberId"] as const) {
      if (q[field] !== undefined && q.consumerGroup === undefined) {
        throw new BadRequestError(`${field} applies to consumerGroup subscriptions`, { field });
      }
    }
    const filters = filtersOf(q);
    // An unknown member is a plain 404, before the event stream starts (and before anything is created).
    if (q.memberId !== undefined) await engine.groups.requireMember(setupId, queueName, q.consumerGroup!, q.memberId);
    const batch = { batchSize: q.batchSize ?? 1, maxWaitMs: q.maxWait ?? 1000 };
    const connectionId = `sse-${randomUUID().slice(0, 12)}`;

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v);
    reply.hijack();
    const sse = new SseWriter(reply.raw, { maxBuffered: options.maxBuffered, headers });
    open.add(sse);
    let cursor: string | null = null;
    const eventId = () => cursor ?? undefined;
    // Entries the subscription yields before `connection` and `configured` are written wait their turn.
    let ready = false;
    const early: [PushItem[], boolean][] = [];

    const sink: PushSink = {
      send(items: PushItem[], asBatch: boolean) {
        if (!ready) {
          early.push([items, asBatch]);
          return;
        }
        cursor = formatId(items[items.length - 1]!.entry.id);
        if (asBatch) sse.send(batchJson(items, connectionId, Date.now()), "batch", cursor);
        else sse.send(dataJson(items[0]!, connectionId), "message", cursor);
      },
      buffered: () => reply.raw.writableLength,
      fail(code, message, fatal) {
        sse.send(JSON.stringify({ type: "error", connectionId, code, message, timestamp: Date.now() }), "error", eventId());
        if (fatal) sse.close();
      },
    };
    const session = engine.push.open(setupId, queueName, connectionId, sink, { maxBuffered: options.maxBuffered });
    session.configure(batch);

    const heartbeat = setInterval(() => {
      sse.send(
        JSON.stringify({ type: "heartbeat", connectionId, messagesSent: session.stats.sent, timestamp: Date.now() }),
        "heartbeat",
        eventId(),
      );
    }, options.heartbeatMs);
    sse.onClose(() => {
      open.delete(sse);
      clearInterval(heartbeat);
      void engine.push.release(session);
    });

    try {
      const info = await session.subscribe({
        consumerGroup: q.consumerGroup,
        filters,
        startId: resumeFrom ?? q.startId,
        ackMode: q.ackMode,
        memberId: q.memberId,
      });
      cursor = info.startId;
      sse.retry(2000);
      sse.send(
        JSON.stringify({
          type: "connection",
          connectionId,
          setupId,
          queueName,
          consumerGroup: info.consumerGroup,
          consumer: info.consumer,
          memberId: info.memberId,
          message: `Connected to Runnel SSE stream ${setupId}/${queueName}`,
          timestamp: Date.now(),
        }),
        "connection",
        eventId(),
      );
      sse.send(
        JSON.stringify({
          type: "configured",
          connectionId,
          batchSize: batch.batchSize,
          maxWait: batch.maxWaitMs,
          filters,
          ackMode: info.ackMode,
          startId: info.startId,
          timestamp: Date.now(),
        }),
        "configured",
        eventId(),
      );
      ready = true;
      for (const [items, asBatch] of early.splice(0)) sink.send(items, asBatch);
    } catch (error) {
      const e = error as { code?: string; message?: string };
      sse.send(JSON.stringify({ type: "error", connectionId, code: e.code ?? "RUNNEL_INTERNAL", message: e.message }), "error");
      sse.close();
    }
  });
}
