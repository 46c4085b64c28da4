// SSE at GET /api/v1/eventstores/{setupId}/{eventStoreName}/stream: catch up from a position, then live; resumable.
import { Type, type Static } from "@sinclair/typebox";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import type { FastifyInstance } from "fastify";
import { RunnelError } from "../../../core/errors.js";
import { SseWriter } from "../../sse/writer.js";
import type { PushOptions } from "../../push/options.js";
import type { HttpContext } from "../context.js";
import { EventIdText, liveEventJson, openSubscription, startAfter, Text, Version } from "../event-store-schemas.js";
import { Name } from "../schemas.js";

const Params = Type.Object({ setupId: Name, eventStoreName: Name });
/** The filters of a live subscription, over SSE here and over WebSocket (src/api/ws/event-store-socket.ts). */
export const EventStreamQuery = Type.Object(
  {
    fromPosition: Type.Optional(Version),
    eventType: Type.Optional(Text),
    aggregateId: Type.Optional(EventIdText),
  },
  { additionalProperties: false },
);

/** Serves the SSE subscription route; every open stream is ended when the server closes. */
export function eventStoreStreamRoutes(app: FastifyInstance, { engine }: HttpContext, options: PushOptions): void {
  const open = new Set<SseWriter>();
  // Subscriptions never finish on their own: end them so the server can close.
  app.addHook("preClose", async () => {
    for (const sse of open) sse.close();
  });

  app.get("/api/v1/eventstores/:setupId/:eventStoreName/stream", { schema: { params: Params, querystring: EventStreamQuery } }, async (req, reply) => {
    const { setupId, eventStoreName } = req.params as { setupId: string; eventStoreName: string };
    const q = req.query as Static<typeof EventStreamQuery>;
    const header = req.headers["last-event-id"];
    const after = startAfter(q.fromPosition, typeof header === "string" ? header : undefined);
    const subscription = await openSubscription(engine, setupId, eventStoreName, after, q);
    const connectionId = `sse-${randomUUID().slice(0, 12)}`;

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v);
    reply.hijack();
    const res = reply.raw;
    const sse = new SseWriter(res, { maxBuffered: options.maxBuffered, headers });
    open.add(sse);
    const stop = new AbortController();
    let sent = 0;
    let position = subscription.startAfter;
    const heartbeat = setInterval(() => {
      const beat = { type: "heartbeat", connectionId, eventsSent: sent, position, timestamp: Date.now() };
      sse.send(JSON.stringify(beat), "heartbeat", String(position));
    }, options.heartbeatMs);
    sse.onClose(() => {
      open.delete(sse);
      clearInterval(heartbeat);
      stop.abort();
    });

    sse.retry(2000);
    sse.send(
      JSON.stringify({
        type: "connection",
        connectionId,
        setupId,
        eventStoreName,
        afterPosition: subscription.startAfter,
        message: `Connected to Runnel event store stream ${setupId}/${eventStoreName}`,
        timestamp: Date.now(),
      }),
      "connection",
      String(position),
    );
    subscription
      .run(
        {
          async events(events) {
            for (const e of events) {
              sse.send(liveEventJson(e), "message", String(e.position));
              position = e.position;
              sent++;
            }
            // Let the socket drain before reading more: a slow client slows its own subscription, nothing else.
            if (sse.overloaded && !sse.isClosed) await Promise.race([once(res, "drain"), once(res, "close")]);
          },
          caughtUp(at) {
            position = Math.max(position, at);
            const caught = { type: "caught-up", connectionId, position: at, timestamp: Date.now() };
            sse.send(JSON.stringify(caught), "caught-up", String(position));
          },
        },
        stop.signal,
      )
      .catch((error: unknown) => {
        const e = error instanceof RunnelError ? error : new RunnelError("RUNNEL_INTERNAL", "the subscription failed");
        sse.send(JSON.stringify({ type: "error", connectionId, code: e.code, message: e.message }), "error");
      })
      .finally(() => sse.close());
  });
}
