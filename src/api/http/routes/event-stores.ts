// /api/v1/eventstores/:setupId/:eventStoreName — seed 000 §4: append, corrections, queries, stats, aggregates.
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import {
  formatInstant,
  parseInstant,
  type EventFilter,
  type ExpectedVersion,
  type JsonValue,
  type NewEvent,
} from "../../../engine/event-store/index.js";
import type { PushOptions } from "../../push/options.js";
import type { HttpContext } from "../context.js";
import {
  eventJson,
  EventIdText,
  ExpectedVersionInput,
  instantOf,
  orderedJson,
  Reason,
  Text,
  TimeInput,
  Version,
} from "../event-store-schemas.js";
import { Name, SafeInteger } from "../schemas.js";
import { emptyBodyIsObject, shapeBy } from "../validation.js";
import { eventSourcingRoutes } from "./event-sourcing.js";
import { eventStoreStreamRoutes } from "./event-store-stream.js";

const Metadata = Type.Record(Type.String(), Type.Unknown());

const StoreParams = Type.Object({ setupId: Name, eventStoreName: Name });
const EventParams = Type.Object({ setupId: Name, eventStoreName: Name, eventId: EventIdText });
const AggregateParams = Type.Object({ setupId: Name, eventStoreName: Name, aggregateId: EventIdText });

const EventInput = Type.Object(
  {
    eventId: Type.Optional(EventIdText),
    aggregateId: Type.Optional(EventIdText),
    aggregateType: Type.Optional(Text),
    eventType: Text,
    eventData: Type.Unknown(),
    metadata: Type.Optional(Metadata),
    correlationId: Type.Optional(Type.Union([Text, Type.Null()])),
    causationId: Type.Optional(Type.Union([Text, Type.Null()])),
    validFrom: Type.Optional(TimeInput),
    validTo: Type.Optional(Type.Union([TimeInput, Type.Null()])),
    expectedVersion: Type.Optional(ExpectedVersionInput),
    correctionOf: Type.Optional(EventIdText),
    correctionReason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
type EventInputT = Static<typeof EventInput>;

const BatchBody = Type.Object(
  {
    events: Type.Array(EventInput, { minItems: 1, maxItems: 1000 }),
    expectedVersion: Type.Optional(ExpectedVersionInput),
  },
  { additionalProperties: false },
);

const CorrectionBody = Type.Object(
  {
    eventId: Type.Optional(EventIdText),
    eventType: Type.Optional(Text),
    eventData: Type.Unknown(),
    metadata: Type.Optional(Metadata),
    correlationId: Type.Optional(Type.Union([Text, Type.Null()])),
    causationId: Type.Optional(Type.Union([Text, Type.Null()])),
    validFrom: Type.Optional(TimeInput),
    validTo: Type.Optional(Type.Union([TimeInput, Type.Null()])),
    expectedVersion: Type.Optional(ExpectedVersionInput),
    correctionReason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
type CorrectionBodyT = Static<typeof CorrectionBody>;

const ConfigBody = Type.Object(
  { snapshotEvery: Type.Optional(Type.Union([SafeInteger(), Type.Null()])) },
  { additionalProperties: false },
);

const Limit = Type.Integer({ minimum: 1, maximum: 1000 });
const Offset = SafeInteger();
const QueryString = Type.Object(
  {
    eventType: Type.Optional(Text),
    fromTime: Type.Optional(Type.String()),
    toTime: Type.Optional(Type.String()),
    limit: Type.Optional(Limit),
    offset: Type.Optional(Offset),
    correlationId: Type.Optional(Text),
    causationId: Type.Optional(Text),
    aggregateId: Type.Optional(EventIdText),
    aggregateType: Type.Optional(Text),
    asOfTransactionTime: Type.Optional(Type.String()),
    validAt: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
type QueryStringT = Static<typeof QueryString>;

const HistoryQuery = Type.Object(
  {
    fromVersion: Type.Optional(SafeInteger(1)),
    limit: Type.Optional(Limit),
    asOfTransactionTime: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const StateQuery = Type.Object(
  {
    version: Type.Optional(Version),
    asOfTransactionTime: Type.Optional(Type.String()),
    validAt: Type.Optional(Type.String()),
    useSnapshots: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

type StoreP = { setupId: string; eventStoreName: string };

function sendJson(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.status(status).type("application/json; charset=utf-8").send(text);
}

function expectedOf(v: ExpectedVersion | null | undefined): ExpectedVersion | undefined {
  return v === null ? undefined : v;
}

/** An event body as the engine takes it; `field` prefixes error names (`events/2/`). */
function toNewEvent(body: EventInputT | (CorrectionBodyT & { aggregateId?: string }), field: string): NewEvent {
  const event: NewEvent = { eventData: (body.eventData ?? null) as JsonValue };
  if (body.eventId !== undefined) event.eventId = body.eventId;
  if ("aggregateId" in body && body.aggregateId !== undefined) event.aggregateId = body.aggregateId;
  if ("aggregateType" in body && body.aggregateType !== undefined) event.aggregateType = body.aggregateType;
  if (body.eventType !== undefined) event.eventType = body.eventType;
  if (body.metadata !== undefined) event.metadata = body.metadata as { [key: string]: JsonValue };
  if (body.correlationId !== undefined) event.correlationId = body.correlationId;
  if (body.causationId !== undefined) event.causationId = body.causationId;
  if (body.validFrom !== undefined) event.validFrom = parseInstant(body.validFrom, `${field}validFrom`);
  if (body.validTo !== undefined) event.validTo = body.validTo === null ? null : parseInstant(body.validTo, `${field}validTo`);
  const expected = expectedOf(body.expectedVersion);
  if (expected !== undefined) event.expectedVersion = expected;
  if ("correctionOf" in body && body.correctionOf !== undefined) event.correctionOf = body.correctionOf;
  if (body.correctionReason !== undefined) event.correctionReason = body.correctionReason;
  return event;
}

/** The query filters a request asked for, echoed as given (seed 000's `filters`). */
function filtersEcho(q: QueryStringT): Record<string, string> {
  const keys = [
    "eventType",
    "fromTime",
    "toTime",
    "correlationId",
    "causationId",
    "aggregateId",
    "aggregateType",
    "asOfTransactionTime",
    "validAt",
  ] as const;
  const echo: Record<string, string> = {};
  for (const k of keys) if (q[k] !== undefined) echo[k] = q[k]!;
  return echo;
}

function filterOf(q: QueryStringT): EventFilter {
  const filter: EventFilter = {};
  if (q.eventType !== undefined) filter.eventType = q.eventType;
  if (q.aggregateId !== undefined) filter.aggregateId = q.aggregateId;
  if (q.aggregateType !== undefined) filter.aggregateType = q.aggregateType;
  if (q.correlationId !== undefined) filter.correlationId = q.correlationId;
  if (q.causationId !== undefined) filter.causationId = q.causationId;
  const times = {
    fromTime: instantOf(q.fromTime, "fromTime"),
    toTime: instantOf(q.toTime, "toTime"),
    asOfTransactionTime: instantOf(q.asOfTransactionTime, "asOfTransactionTime"),
    validAt: instantOf(q.validAt, "validAt"),
  };
  for (const [k, v] of Object.entries(times)) if (v !== undefined) filter[k as keyof typeof times] = v;
  return filter;
}

/** Registers the seed 000 event store routes, the seed 003 event sourcing routes and the live SSE stream. */
export function eventStoreRoutes(app: FastifyInstance, ctx: HttpContext, push: PushOptions): void {
  const { engine } = ctx;
  const es = engine.eventStore;

  const configSchema = { schema: { params: StoreParams, body: ConfigBody }, preValidation: emptyBodyIsObject };
  app.put("/api/v1/eventstores/:setupId/:eventStoreName", configSchema, async (req, reply) => {
    const { setupId, eventStoreName } = req.params as StoreP;
    const body = (req.body ?? {}) as { snapshotEvery?: number | null };
    const { store, created } = await es.configure(setupId, eventStoreName, body);
    return reply.status(created ? 201 : 200).send({
      message: created ? "Event store created successfully" : "Event store configured successfully",
      eventStoreName,
      setupId,
      snapshotEvery: store.snapshotEvery,
      effectiveSnapshotEvery: store.snapshotEvery ?? es.defaults.snapshotEvery,
      created,
      timestamp: Date.now(),
    });
  });

  app.post(
    "/api/v1/eventstores/:setupId/:eventStoreName/events",
    { schema: { params: StoreParams, body: shapeBy("events", BatchBody, EventInput) } },
    async (req, reply) => {
      const { setupId, eventStoreName } = req.params as StoreP;
      const body = req.body as EventInputT | Static<typeof BatchBody>;
      if ("events" in body && Array.isArray(body.events)) {
        const events = body.events.map((e, i) => toNewEvent(e, `events/${i}/`));
        const expectedVersion = expectedOf(body.expectedVersion);
        const results = await es.append(setupId, eventStoreName, events, expectedVersion === undefined ? {} : { expectedVersion });
        return reply.status(201).send({
          message: "Events stored successfully",
          eventStoreName,
          setupId,
          eventCount: results.length,
          events: results.map((r) => ({ ...r, transactionTime: formatInstant(r.transactionTime) })),
          timestamp: Date.now(),
        });
      }
      const [r] = await es.append(setupId, eventStoreName, [toNewEvent(body as EventInputT, "")], { fieldPrefix: () => "" });
      return reply.status(201).send({
        message: "Event stored successfully",
        eventStoreName,
        setupId,
        ...r!,
        transactionTime: formatInstant(r!.transactionTime),
        timestamp: Date.now(),
      });
    },
  );

  const querySchema = { schema: { params: StoreParams, querystring: QueryString } };
  app.get("/api/v1/eventstores/:setupId/:eventStoreName/events", querySchema, async (req, reply) => {
    const { setupId, eventStoreName } = req.params as StoreP;
    const q = req.query as QueryStringT;
    const limit = q.limit ?? 100;
    const offset = q.offset ?? 0;
    const page = await es.query(setupId, eventStoreName, { ...filterOf(q), limit, offset });
    const text = orderedJson(
      [
        ["message", "Events retrieved successfully"],
        ["eventStoreName", eventStoreName],
        ["setupId", setupId],
        ["eventCount", page.events.length],
        ["limit", limit],
        ["offset", offset],
        ["hasMore", page.hasMore],
        ["filters", filtersEcho(q)],
        ["events", null],
        ["timestamp", Date.now()],
      ],
      { events: `[${page.events.map(eventJson).join(",")}]` },
    );
    return sendJson(reply, 200, text);
  });

  app.get("/api/v1/eventstores/:setupId/:eventStoreName/events/:eventId", { schema: { params: EventParams } }, async (req, reply) => {
    const { setupId, eventStoreName, eventId } = req.params as StoreP & { eventId: string };
    const event = await es.get(setupId, eventStoreName, eventId);
    const text = orderedJson(
      [
        ["message", "Event retrieved successfully"],
        ["eventStoreName", eventStoreName],
        ["setupId", setupId],
        ["eventId", eventId],
        ["event", null],
        ["timestamp", Date.now()],
      ],
      { event: eventJson(event) },
    );
    return sendJson(reply, 200, text);
  });

  app.post(
    "/api/v1/eventstores/:setupId/:eventStoreName/events/:eventId/corrections",
    { schema: { params: EventParams, body: CorrectionBody } },
    async (req, reply) => {
      const { setupId, eventStoreName, eventId } = req.params as StoreP & { eventId: string };
      const correction = toNewEvent(req.body as CorrectionBodyT, "");
      const r = await es.correct(setupId, eventStoreName, eventId, correction);
      return reply.status(201).send({
        message: "Correction stored successfully",
        eventStoreName,
        setupId,
        correctionOf: eventId,
        ...r,
        transactionTime: formatInstant(r.transactionTime),
        timestamp: Date.now(),
      });
    },
  );

  app.get("/api/v1/eventstores/:setupId/:eventStoreName/stats", { schema: { params: StoreParams } }, async (req) => {
    const { setupId, eventStoreName } = req.params as StoreP;
    const s = await es.stats(setupId, eventStoreName);
    const time = (ms: number | null) => (ms === null ? null : formatInstant(ms));
    return {
      message: "Event store statistics retrieved successfully",
      eventStoreName,
      setupId,
      stats: {
        eventStoreName,
        totalEvents: s.totalEvents,
        totalCorrections: s.totalCorrections,
        aggregateCount: s.aggregateCount,
        eventCountsByType: s.eventCountsByType,
        firstEventTime: time(s.firstTransactionTime),
        lastEventTime: time(s.lastTransactionTime),
        oldestValidFrom: time(s.oldestValidFrom),
        newestValidFrom: time(s.newestValidFrom),
        storageSizeBytes: s.storageSizeBytes,
        snapshotCount: s.snapshotCount,
        snapshotEvery: s.snapshotEvery,
        lastPosition: s.lastPosition,
      },
      timestamp: Date.now(),
    };
  });

  app.get(
    "/api/v1/eventstores/:setupId/:eventStoreName/aggregates/:aggregateId",
    { schema: { params: AggregateParams, querystring: HistoryQuery } },
    async (req, reply) => {
      const { setupId, eventStoreName, aggregateId } = req.params as StoreP & { aggregateId: string };
      const q = req.query as Static<typeof HistoryQuery>;
      const asOf = instantOf(q.asOfTransactionTime, "asOfTransactionTime");
      const fromVersion = q.fromVersion ?? 1;
      const limit = q.limit ?? 100;
      const h = await es.history(setupId, eventStoreName, aggregateId, {
        fromVersion,
        limit,
        ...(asOf === undefined ? {} : { asOfTransactionTime: asOf }),
      });
      const text = orderedJson(
        [
          ["message", "Aggregate history retrieved successfully"],
          ["eventStoreName", eventStoreName],
          ["setupId", setupId],
          ["aggregateId", aggregateId],
          ["aggregateType", h.aggregateType],
          ["currentVersion", h.currentVersion],
          ["eventCount", h.events.length],
          ["fromVersion", fromVersion],
          ["limit", limit],
          ["hasMore", h.hasMore],
          ["events", null],
          ["timestamp", Date.now()],
        ],
        { events: `[${h.events.map(eventJson).join(",")}]` },
      );
      return sendJson(reply, 200, text);
    },
  );

  app.get(
    "/api/v1/eventstores/:setupId/:eventStoreName/aggregates/:aggregateId/state",
    { schema: { params: AggregateParams, querystring: StateQuery } },
    async (req) => {
      const { setupId, eventStoreName, aggregateId } = req.params as StoreP & { aggregateId: string };
      const q = req.query as Static<typeof StateQuery>;
      const asOf = instantOf(q.asOfTransactionTime, "asOfTransactionTime");
      const at = instantOf(q.validAt, "validAt");
      const r = await es.reconstruct(setupId, eventStoreName, aggregateId, {
        ...(q.version === undefined ? {} : { toVersion: q.version }),
        ...(asOf === undefined ? {} : { asOfTransactionTime: asOf }),
        ...(at === undefined ? {} : { validAt: at }),
        ...(q.useSnapshots === undefined ? {} : { useSnapshots: q.useSnapshots }),
      });
      return {
        message: "Aggregate state reconstructed successfully",
        eventStoreName,
        setupId,
        aggregateId,
        aggregateType: r.aggregateType,
        currentVersion: r.version,
        state: r.state,
        lastEventTimestamp: r.lastEventTime === null ? null : formatInstant(r.lastEventTime),
        snapshotVersion: r.snapshotVersion,
        eventsReplayed: r.eventsReplayed,
        timestamp: Date.now(),
      };
    },
  );

  app.post(
    "/api/v1/eventstores/:setupId/:eventStoreName/aggregates/:aggregateId/snapshots",
    { schema: { params: AggregateParams } },
    async (req, reply) => {
      const { setupId, eventStoreName, aggregateId } = req.params as StoreP & { aggregateId: string };
      const s = await es.snapshot(setupId, eventStoreName, aggregateId);
      return reply.status(201).send({
        message: "Snapshot taken successfully",
        eventStoreName,
        setupId,
        aggregateId,
        aggregateType: s.aggregateType,
        version: s.version,
        createdAt: formatInstant(s.createdAt),
        timestamp: Date.now(),
      });
    },
  );

  eventStoreStreamRoutes(app, ctx, push);
  eventSourcingRoutes(app, ctx);
}
