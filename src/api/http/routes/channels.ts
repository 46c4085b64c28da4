// Seed 001's broadcast channels over HTTP: SSE subscriptions, broadcasts, the channel listing and generator controls.
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import { NAME_PATTERN } from "../../../core/names.js";
import type { ChannelHub, EventInput, GeneratorState, QueuedEvent, SubscriptionEndReason } from "../../../engine/channels/index.js";
import { DEFAULT_SSE_MAX_BUFFERED, SseWriter } from "../../sse/writer.js";
import type { HttpContext } from "../context.js";
import { Name } from "../schemas.js";

export interface ChannelRouteOptions {
  hub: ChannelHub;
  /** Where the routes live: `/api/v1/events` (seed 001's Service G) unless given. */
  prefix?: string;
  /** Passed on to the SSE writer. */
  maxBufferedBytes?: number;
  /** How long an ended stream may take to flush to a client that is not reading before its socket is destroyed. */
  endGraceMs?: number;
}

export const DEFAULT_CHANNEL_END_GRACE_MS = 5_000;

const ChannelParams = Type.Object({ stream_id: Name });

const BroadcastBody = Type.Object(
  {
    stream_id: Type.Optional(Type.String({ pattern: `^$|${NAME_PATTERN}` })),
    type: Type.String({ minLength: 1, maxLength: 200 }),
    message: Type.String({ minLength: 1 }),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
type BroadcastBodyT = Static<typeof BroadcastBody>;

/** The generator controls: what each does and the word its answer uses. */
const GENERATOR_ACTIONS: Record<string, { run(hub: ChannelHub, id: string): GeneratorState; done: string }> = {
  start: { run: (hub, id) => hub.start(id), done: "started" },
  stop: { run: (hub, id) => hub.stop(id), done: "stopped and removed" },
  pause: { run: (hub, id) => hub.pause(id), done: "paused" },
  resume: { run: (hub, id) => hub.resume(id), done: "resumed" },
};

/** The reply's headers so far (CORS, set by the plugin) as strings, for a response written by hand. */
function streamHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  if (headers["access-control-allow-origin"] !== undefined) {
    headers["access-control-allow-headers"] ??= "Cache-Control, Last-Event-ID";
  }
  return headers;
}

/** Holds the response open as an SSE stream fed by one subscription, until either side ends it. */
function openStream(hub: ChannelHub, channelId: string, reply: FastifyReply, options: ChannelRouteOptions): void {
  const raw = reply.raw;
  let writer: SseWriter | undefined;
  let waitingForDrain = false;

  const send = (item: QueuedEvent, event?: string): void => {
    writer!.send(item.json, event, item.event.id);
  };
  const pump = (): void => {
    if (!writer || waitingForDrain) return;
    for (let item = sub.take(); item; item = sub.take()) {
      send(item);
      // Past the socket's high-water mark, events wait in the bounded queue instead of in memory here.
      if (raw.writableNeedDrain) {
        waitingForDrain = true;
        raw.once("drain", () => {
          waitingForDrain = false;
          pump();
        });
        return;
      }
    }
  };
  const end = (reason: SubscriptionEndReason, notice?: QueuedEvent): void => {
    if (!writer || writer.isClosed) return;
    if (notice) send(notice, notice.event.type);
    writer.close();
    if (reason === "unsubscribed" || raw.writableFinished) return;
    // A client that stopped reading would hold the socket open for ever.
    const timer = setTimeout(() => raw.destroy(), options.endGraceMs ?? DEFAULT_CHANNEL_END_GRACE_MS);
    timer.unref();
    raw.once("close", () => clearTimeout(timer));
  };

  const sub = hub.subscribe(channelId, {
    onEvents: pump,
    onHeartbeat: () => {
      if (!waitingForDrain) writer?.comment("heartbeat");
    },
    onEnd: end,
  });
  reply.hijack();
  writer = new SseWriter(raw, { maxBuffered: options.maxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED, headers: streamHeaders(reply) });
  writer.onClose(() => sub.unsubscribe());
  pump();
}

export function channelRoutes(app: FastifyInstance, _ctx: HttpContext, options: ChannelRouteOptions): void {
  const { hub } = options;
  const prefix = options.prefix ?? "/api/v1/events";
  // Open streams would otherwise keep app.close() waiting.
  app.addHook("preClose", async () => hub.close());

  // A HEAD would subscribe and hold the connection open for nothing.
  app.get(`${prefix}/stream/:stream_id`, { schema: { params: ChannelParams }, exposeHeadRoute: false }, (req, reply) => {
    const { stream_id } = req.params as { stream_id: string };
    openStream(hub, stream_id, reply, options);
  });

  app.post(`${prefix}/broadcast`, { schema: { body: BroadcastBody } }, async (req) => {
    const body = req.body as BroadcastBodyT;
    const input: EventInput = { type: body.type, message: body.message, data: body.data };
    let message: string;
    if (body.stream_id) {
      hub.broadcast(body.stream_id, input);
      message = `Event broadcasted to stream: ${body.stream_id}`;
    } else {
      hub.broadcastToAll(input);
      message = "Event broadcasted to all streams";
    }
    return { success: true, message, timestamp: hub.timestamp() };
  });

  app.get(`${prefix}/streams`, async () => {
    // fromEntries, so a channel named __proto__ stays an ordinary key.
    const data = Object.fromEntries(
      hub.list().map((c) => [c.id, { clients: c.clients, active: c.active, generator: c.generator }]),
    );
    return { success: true, data, timestamp: hub.timestamp() };
  });

  for (const [action, { run, done }] of Object.entries(GENERATOR_ACTIONS)) {
    app.post(`${prefix}/stream/:stream_id/${action}`, { schema: { params: ChannelParams } }, async (req) => {
      const { stream_id } = req.params as { stream_id: string };
      run(hub, stream_id);
      return { success: true, message: `Stream '${stream_id}' ${done}`, timestamp: hub.timestamp() };
    });
  }
}
