// /api/v1/stream/* — windowed streams as seed 002 describes them: define, poll (long poll), ack/nack, renew-lease, seek.
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { WINDOW_TYPES } from "../../../core/windows.js";
import { parseInstant } from "../../../engine/event-store/index.js";
import type { LeasedWindow, WindowStreamOptions, WindowStreamRecord } from "../../../engine/windows/index.js";
import type { HttpContext } from "../context.js";
import { entryJson, objectJson } from "../serialize.js";
import { Name, Text } from "../schemas.js";
import { abortOnClose } from "./streams.js";

const WindowMillis = Type.Integer({ minimum: 0, maximum: 3_153_600_000_000 });

const DefineBody = Type.Object(
  {
    name: Name,
    namespace: Type.Optional(Name),
    source_queue_names: Type.Array(Name, { minItems: 1, maxItems: 64 }),
    partitioned: Type.Optional(Type.Boolean()),
    window_type: Type.Optional(Type.Union(WINDOW_TYPES.map((t) => Type.Literal(t)))),
    window_duration_ms: Type.Optional(WindowMillis),
    window_grace_period_ms: Type.Optional(WindowMillis),
    window_lease_timeout_ms: Type.Optional(WindowMillis),
    /** Hopping windows: the distance between starts. */
    window_hop_ms: Type.Optional(WindowMillis),
    /** Session windows: the silence that closes a session. */
    window_gap_ms: Type.Optional(WindowMillis),
    /** A payload path holding the event time (epoch ms or ISO); default: the entry's timestamp. */
    event_time_field: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
  },
  { additionalProperties: false },
);
type DefineBodyT = {
  name: string;
  namespace?: string;
  source_queue_names: string[];
  partitioned?: boolean;
  window_type?: WindowStreamOptions["type"];
  window_duration_ms?: number;
  window_grace_period_ms?: number;
  window_lease_timeout_ms?: number;
  window_hop_ms?: number;
  window_gap_ms?: number;
  event_time_field?: string | null;
};

/** The body field each engine option came from, so errors name what the user sent. */
const BODY_FIELDS: Record<keyof WindowStreamOptions, string> = {
  name: "name",
  namespace: "namespace",
  sources: "source_queue_names",
  partitioned: "partitioned",
  type: "window_type",
  durationMs: "window_duration_ms",
  hopMs: "window_hop_ms",
  gapMs: "window_gap_ms",
  graceMs: "window_grace_period_ms",
  leaseMs: "window_lease_timeout_ms",
  eventTimeField: "event_time_field",
};

const PollBody = Type.Object(
  { streamName: Name, consumerGroup: Name, timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })) },
  { additionalProperties: false },
);
const AckBody = Type.Object(
  { windowId: Text({ minLength: 1, maxLength: 1000 }), leaseId: Text({ minLength: 1, maxLength: 100 }), success: Type.Boolean() },
  { additionalProperties: false },
);
const RenewBody = Type.Object(
  { leaseId: Text({ minLength: 1, maxLength: 100 }), extend_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400_000 })) },
  { additionalProperties: false },
);
const SeekBody = Type.Object(
  // parseTimestamp checks the number form too, with a message that names both forms.
  { streamName: Name, consumerGroup: Name, timestamp: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer()]) },
  { additionalProperties: false },
);

/** How long a poll that names no timeout waits (the engine caps it with maxBlockMs). */
const DEFAULT_POLL_TIMEOUT_MS = 30_000;

const iso = (ms: number): string => new Date(ms).toISOString();

function definitionJson(d: WindowStreamRecord) {
  return {
    name: d.name,
    namespace: d.namespace,
    source_queue_names: d.sources,
    partitioned: d.partitioned,
    window_type: d.type,
    window_duration_ms: d.durationMs,
    ...(d.type === "hopping" ? { window_hop_ms: d.hopMs } : {}),
    ...(d.type === "session" ? { window_gap_ms: d.gapMs } : {}),
    window_grace_period_ms: d.graceMs,
    window_lease_timeout_ms: d.leaseMs,
    event_time_field: d.eventTimeField,
    createdAt: iso(d.createdAt),
  };
}

/** A window as JSON text; message payloads go out as stored, with the source stream and event time added. */
function windowJson(w: LeasedWindow): string {
  const messages = w.messages
    .map((m) => entryJson(m.entry, `,"queue":${JSON.stringify(m.source)},"eventTime":${m.eventTime},"createdAt":"${iso(m.entry.timestamp)}"`))
    .join(",");
  return objectJson(
    {
      id: w.id,
      leaseId: w.leaseId,
      streamName: w.streamName,
      consumerGroup: w.consumerGroup,
      key: w.key,
      start: iso(w.start),
      end: iso(w.end),
      leaseExpiresAt: iso(w.leaseExpiresAt),
      leaseTimeoutMs: w.leaseTimeoutMs,
      attempt: w.attempt,
    },
    { messages: `[${messages}]` },
  );
}

/**
 * Epoch ms as a number or as digits, or an ISO 8601 date-time. Other text is refused, not guessed at (`Date.parse`
 * reads "+5" as 1 May 2001). The engine checks the range, the same for every form.
 */
function parseTimestamp(value: string | number): number {
  return parseInstant(typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value, "timestamp");
}

export function windowRoutes(app: FastifyInstance, { engine }: HttpContext): void {
  app.post("/api/v1/stream/define", { schema: { body: DefineBody } }, async (req, reply) => {
    const b = req.body as DefineBodyT;
    const { stream, created } = await engine.windows.define(
      {
        name: b.name,
        namespace: b.namespace,
        sources: b.source_queue_names,
        partitioned: b.partitioned,
        type: b.window_type,
        durationMs: b.window_duration_ms,
        hopMs: b.window_hop_ms,
        gapMs: b.window_gap_ms,
        graceMs: b.window_grace_period_ms,
        leaseMs: b.window_lease_timeout_ms,
        eventTimeField: b.event_time_field,
      },
      (option) => BODY_FIELDS[option],
    );
    return reply.status(created ? 201 : 200).send({ success: true, created, stream: definitionJson(stream) });
  });

  app.get("/api/v1/stream/:name", { schema: { params: Type.Object({ name: Name }) } }, async (req) => {
    const info = await engine.windows.info((req.params as { name: string }).name);
    return {
      stream: definitionJson(info.definition),
      ingested: info.definition.ingested,
      late: info.definition.late,
      lateStream: info.lateStream,
      watermarks: Object.fromEntries(Object.entries(info.watermarks).map(([k, t]) => [k, iso(t)])),
      consumerGroups: info.groups,
    };
  });

  app.post("/api/v1/stream/poll", { schema: { body: PollBody } }, async (req, reply) => {
    const b = req.body as { streamName: string; consumerGroup: string; timeout?: number };
    const gone = abortOnClose(reply.raw);
    const window = await engine.windows.poll(b.streamName, b.consumerGroup, {
      timeoutMs: b.timeout ?? DEFAULT_POLL_TIMEOUT_MS,
      signal: gone,
    });
    // The client gave up while the window was being leased: hand it straight back instead of holding it for
    // nobody until the lease runs out.
    if (window && (gone.aborted || reply.raw.destroyed)) {
      await engine.windows.ack(window.id, window.leaseId, false).catch(() => undefined);
      return reply;
    }
    return reply.type("application/json; charset=utf-8").send(window ? `{"window":${windowJson(window)}}` : `{"window":null}`);
  });

  app.post("/api/v1/stream/ack", { schema: { body: AckBody } }, async (req) => {
    const b = req.body as { windowId: string; leaseId: string; success: boolean };
    await engine.windows.ack(b.windowId, b.leaseId, b.success);
    return { success: true, windowId: b.windowId, action: b.success ? "ack" : "nack" };
  });

  app.post("/api/v1/stream/renew-lease", { schema: { body: RenewBody } }, async (req) => {
    const b = req.body as { leaseId: string; extend_ms?: number };
    const renewed = await engine.windows.renew(b.leaseId, b.extend_ms);
    return { success: true, leaseId: renewed.leaseId, expiresAt: iso(renewed.expiresAt) };
  });

  app.post("/api/v1/stream/seek", { schema: { body: SeekBody } }, async (req) => {
    const b = req.body as { streamName: string; consumerGroup: string; timestamp: string | number };
    const t = parseTimestamp(b.timestamp);
    const { from } = await engine.windows.seek(b.streamName, b.consumerGroup, t);
    return { success: true, streamName: b.streamName, consumerGroup: b.consumerGroup, timestamp: iso(t), from: iso(from) };
  });
}
