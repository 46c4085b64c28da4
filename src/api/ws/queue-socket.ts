// WebSocket push at /ws/queues/{setupId}/{queueName} (seed 000 §1): subscribe, configure, ack, ping.
import { randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import { BadRequestError, RunnelError } from "../../core/errors.js";
import { checkFilter } from "../../core/filters.js";
import { checkName } from "../../core/names.js";
import type { Engine } from "../../engine/index.js";
import type { PushItem, PushSession, SubscribeOptions } from "../../engine/push/index.js";
import { batchJson, dataJson } from "../push/messages.js";
import type { PushOptions } from "../push/options.js";
import { closeAll, echoId, pathSegment, rejectUpgrade, type WsEndpoint } from "./endpoints.js";
import { MAX_TIME_MS } from "../../core/clock.js";

const PATH = /^\/ws\/queues\/([^/]+)\/([^/]+)\/?$/;
export const WS_BATCH_LIMITS = { batchSize: { min: 1, max: 1000 }, maxWaitTime: { min: 0, max: 60_000 } };

type ClientMessage = Record<string, unknown> & { type?: unknown };

function intField(msg: ClientMessage, field: string, min: number, max: number): number | undefined {
  const v = msg[field];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new BadRequestError(`${field} must be an integer from ${min} to ${max}`, { field });
  }
  return v;
}

function stringField(msg: ClientMessage, field: string): string | undefined {
  const v = msg[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new BadRequestError(`${field} must be a string`, { field });
  return v;
}

/** The WebSocket endpoint for queue push; `routeUpgrades` hands it the upgrades on its path. */
export function queueSocketEndpoint(engine: Engine, options: PushOptions & { maxPayload: number }): WsEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });
  return {
    path: PATH,
    accept(req, socket, head, match) {
      let setupId: string;
      let queueName: string;
      try {
        setupId = checkName(pathSegment(match[1]!, "setupId"), "setupId");
        queueName = checkName(pathSegment(match[2]!, "queueName"), "queueName");
      } catch (error) {
        rejectUpgrade(socket, error);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws, engine, setupId, queueName, options));
    },
    close: () => closeAll(wss),
  };
}

function serveSocket(ws: WebSocket, engine: Engine, setupId: string, queueName: string, options: PushOptions): void {
  const connectionId = `ws-${randomUUID().slice(0, 12)}`;
  const send = (obj: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ ...obj, connectionId, timestamp: Date.now() }));
  };
  const session: PushSession = engine.push.open(
    setupId,
    queueName,
    connectionId,
    {
      send(items: PushItem[], batch: boolean) {
        if (ws.readyState !== ws.OPEN) return;
        ws.send(batch ? batchJson(items, connectionId, Date.now()) : dataJson(items[0]!, connectionId));
      },
      buffered: () => ws.bufferedAmount,
      fail(code, message, fatal) {
        send({ type: "error", code, message });
        if (fatal) ws.close(1008, code);
      },
    },
    { maxBuffered: options.maxBuffered },
  );

  send({
    type: "welcome",
    setupId,
    queueName,
    message: `Connected to Runnel WebSocket stream ${setupId}/${queueName}`,
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
    send({ type: "heartbeat", messagesReceived: session.stats.received, messagesSent: session.stats.sent });
  }, options.heartbeatMs);

  // Client messages are handled one after another so a subscribe is in place before a following ack.
  let queue: Promise<void> = Promise.resolve();
  ws.on("message", (data, isBinary) => {
    session.stats.received++;
    // handle() answers every failure itself; should even that fail, this connection ends, not the server.
    queue = queue.then(() => handle(isBinary ? "" : data.toString())).catch(() => ws.terminate());
  });

  async function handle(text: string): Promise<void> {
    let msg: ClientMessage;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      msg = parsed as ClientMessage;
    } catch {
      send({ type: "error", code: "RUNNEL_BAD_REQUEST", message: "a message must be a JSON object with a type" });
      return;
    }
    const requestId = msg.id === undefined ? undefined : echoId(msg.id);
    try {
      switch (msg.type) {
        case "ping":
          send({ type: "pong", id: requestId ?? null });
          return;
        case "subscribe": {
          const sub: SubscribeOptions = {
            consumerGroup: stringField(msg, "consumerGroup"),
            filters: checkFilter(msg.filters),
            startId: stringField(msg, "startId") ?? stringField(msg, "fromId"),
            ackMode: ackModeOf(stringField(msg, "ackMode")),
            maxInFlight: intField(msg, "maxInFlight", 1, 100_000),
            memberId: stringField(msg, "memberId"),
          };
          if (sub.consumerGroup !== undefined) checkName(sub.consumerGroup, "consumerGroup");
          if (sub.memberId !== undefined) checkName(sub.memberId, "memberId");
          const info = await session.subscribe(sub);
          send({ type: "subscribed", ...info, ...session.batchOptionsForClient() });
          return;
        }
        case "configure": {
          const batchSize = intField(msg, "batchSize", WS_BATCH_LIMITS.batchSize.min, WS_BATCH_LIMITS.batchSize.max);
          const maxWaitTime = intField(msg, "maxWaitTime", WS_BATCH_LIMITS.maxWaitTime.min, WS_BATCH_LIMITS.maxWaitTime.max);
          const applied = session.configure({
            ...(batchSize === undefined ? {} : { batchSize }),
            ...(maxWaitTime === undefined ? {} : { maxWaitMs: maxWaitTime }),
          });
          send({ type: "configured", batchSize: applied.batchSize, maxWaitTime: applied.maxWaitMs });
          return;
        }
        case "unsubscribe":
          send({ type: "unsubscribed", wasSubscribed: await session.unsubscribe() });
          return;
        case "ack": {
          const ids = idsOf(msg);
          send({ type: "acked", messageIds: ids, acked: await session.ack(ids) });
          return;
        }
        case "nack": {
          const ids = idsOf(msg);
          const delayMs = intField(msg, "delayMs", 0, MAX_TIME_MS) ?? 0;
          send({ type: "nacked", messageIds: ids, nacked: await session.nack(ids, delayMs) });
          return;
        }
        default:
          throw new BadRequestError(
            `unknown message type ${typeof msg.type === "string" ? JSON.stringify(msg.type) : `(${typeof msg.type})`}; use ping, subscribe, configure, unsubscribe, ack or nack`,
            { field: "type" },
          );
      }
    } catch (error) {
      const e = error instanceof RunnelError ? error : new RunnelError("RUNNEL_INTERNAL", "internal error");
      send({ type: "error", code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}), ...(requestId === undefined ? {} : { id: requestId }) });
    }
  }

  ws.on("close", () => {
    clearInterval(heartbeat);
    void queue.then(() => engine.push.release(session));
  });
  ws.on("error", () => ws.terminate());
}

function ackModeOf(v: string | undefined): SubscribeOptions["ackMode"] {
  if (v === undefined || v === "manual" || v === "auto") return v;
  throw new BadRequestError("ackMode must be manual or auto", { field: "ackMode" });
}

function idsOf(msg: ClientMessage): string[] {
  if (typeof msg.messageId === "string") return [msg.messageId];
  if (Array.isArray(msg.messageIds) && msg.messageIds.length > 0 && msg.messageIds.every((x) => typeof x === "string")) {
    return msg.messageIds as string[];
  }
  throw new BadRequestError(`${String(msg.type)} needs messageId (a string) or messageIds (strings)`, { field: "messageId" });
}
