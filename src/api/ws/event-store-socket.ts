// WebSocket subscriptions at /ws/eventstores/{setupId}/{eventStoreName}?fromPosition=…: catch up, then live.
import type { Static } from "@sinclair/typebox";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import { randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import { BadRequestError, RunnelError } from "../../core/errors.js";
import { checkName } from "../../core/names.js";
import type { EventSubscription } from "../../engine/event-store/index.js";
import type { Engine } from "../../engine/index.js";
import { liveEventJson, openSubscription, startAfter } from "../http/event-store-schemas.js";
import { EventStreamQuery } from "../http/routes/event-store-stream.js";
import type { PushOptions } from "../push/options.js";
import { closeAll, echoId, pathSegment, rejectUpgrade, type WsEndpoint } from "./endpoints.js";

const PATH = /^\/ws\/eventstores\/([^/]+)\/([^/]+)\/?$/;

/** The query of an upgrade, held to the same rules as the SSE route's (digits only for a position). */
function queryOf(url: string): Static<typeof EventStreamQuery> {
  const params = new URL(url, "http://localhost").searchParams;
  const raw = params.get("fromPosition");
  if (raw !== null && !/^\d+$/.test(raw)) {
    throw new BadRequestError("fromPosition must be an integer of at least 0", { field: "fromPosition" });
  }
  const query: Record<string, unknown> = Object.fromEntries(params);
  if (raw !== null) query.fromPosition = Number(raw);
  const error = Value.Errors(EventStreamQuery, query).First();
  if (error) {
    const field = error.path.replace(/^\//, "");
    const why =
      error.type === ValueErrorType.ObjectAdditionalProperties
        ? `unknown query parameter '${field}'`
        : error.type === ValueErrorType.StringPattern
          ? `${field} must not contain a NUL character`
          : `${field}: ${error.message.toLowerCase()}`;
    throw new BadRequestError(why, { field });
  }
  return query as Static<typeof EventStreamQuery>;
}

/** The WebSocket endpoint for event store subscriptions; `routeUpgrades` hands it the upgrades on its path. */
export function eventStoreSocketEndpoint(engine: Engine, options: PushOptions & { maxPayload: number }): WsEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  return {
    path: PATH,
    accept(req, socket, head, match) {
      let setupId: string;
      let eventStoreName: string;
      let query: ReturnType<typeof queryOf>;
      let after: number | undefined;
      try {
        setupId = checkName(pathSegment(match[1]!, "setupId"), "setupId");
        eventStoreName = checkName(pathSegment(match[2]!, "eventStoreName"), "eventStoreName");
        query = queryOf(req.url ?? "");
        after = startAfter(query.fromPosition, undefined);
      } catch (error) {
        rejectUpgrade(socket, error);
        return;
      }
      // The store must exist before the handshake completes, so an unknown one is a plain 404.
      openSubscription(engine, setupId, eventStoreName, after, query).then(
        (subscription) =>
          wss.handleUpgrade(req, socket, head, (ws) => serve(ws, subscription, setupId, eventStoreName, options)),
        (error: unknown) => rejectUpgrade(socket, error),
      );
    },
    close: () => closeAll(wss),
  };
}

function serve(ws: WebSocket, subscription: EventSubscription, setupId: string, eventStoreName: string, options: PushOptions): void {
  const connectionId = `ws-${randomUUID().slice(0, 12)}`;
  const stop = new AbortController();
  let sent = 0;
  const send = (obj: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ ...obj, connectionId, timestamp: Date.now() }));
  };
  send({
    type: "welcome",
    setupId,
    eventStoreName,
    afterPosition: subscription.startAfter,
    message: `Connected to Runnel event store stream ${setupId}/${eventStoreName}`,
  });

  let alive = true;
  ws.on("pong", () => (alive = true));
  const heartbeat = setInterval(() => {
    if (!alive) {
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
    send({ type: "heartbeat", eventsSent: sent });
  }, options.heartbeatMs);

  ws.on("message", (data, isBinary) => {
    let msg: { type?: unknown; id?: unknown } | undefined;
    try {
      msg = JSON.parse(isBinary ? "" : data.toString()) as { type?: unknown; id?: unknown };
    } catch {
      msg = undefined;
    }
    if (msg?.type === "ping") send({ type: "pong", id: echoId(msg.id) });
    else send({ type: "error", code: "RUNNEL_BAD_REQUEST", message: 'a subscription only takes {"type":"ping"}', field: "type" });
  });
  ws.on("close", () => {
    clearInterval(heartbeat);
    stop.abort();
  });
  ws.on("error", () => ws.terminate());

  subscription
    .run(
      {
        async events(events) {
          let flushed: Promise<void> | undefined;
          for (const e of events) {
            if (ws.readyState !== ws.OPEN) return;
            flushed = new Promise<void>((resolve) => ws.send(liveEventJson(e), () => resolve()));
            sent++;
          }
          // Wait for the socket to take what is queued before reading more, once too much piled up.
          if (flushed && ws.bufferedAmount > options.maxBuffered) await flushed;
        },
        caughtUp(position) {
          send({ type: "caught-up", position });
        },
      },
      stop.signal,
    )
    .catch((error: unknown) => {
      const e = error instanceof RunnelError ? error : new RunnelError("RUNNEL_INTERNAL", "the subscription failed");
      send({ type: "error", code: e.code, message: e.message });
    })
    .finally(() => {
      if (ws.readyState === ws.OPEN) ws.close(1000, "subscription ended");
    });
}
