// /api/v1/event-sourcing — seed 003: append to an aggregate with an expected version, reconstruct its state.
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { RunnelError } from "../../../core/errors.js";
import { formatInstant, parseInstant, type JsonValue, type NewEvent } from "../../../engine/event-store/index.js";
import type { HttpContext } from "../context.js";
import { EventIdText, ExpectedVersionInput, Text, TimeInput, Version } from "../event-store-schemas.js";
import { Name } from "../schemas.js";

const AppendBody = Type.Object(
  {
    aggregate_id: EventIdText,
    // The aggregate type names the event store the aggregate lives in, so it follows the name rules.
    aggregate_type: Name,
    event_type: Text,
    event_data: Type.Unknown(),
    expected_version: Type.Optional(ExpectedVersionInput),
    correlation_id: Type.Optional(Type.Union([Text, Type.Null()])),
    causation_id: Type.Optional(Type.Union([Text, Type.Null()])),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    event_id: Type.Optional(EventIdText),
    valid_from: Type.Optional(TimeInput),
    valid_to: Type.Optional(Type.Union([TimeInput, Type.Null()])),
  },
  { additionalProperties: false },
);
type AppendBodyT = Static<typeof AppendBody>;

const ReconstructBody = Type.Object(
  {
    aggregate_id: EventIdText,
    aggregate_type: Name,
    update_snapshots: Type.Optional(Type.Boolean()),
    use_snapshots: Type.Optional(Type.Boolean()),
    as_of_version: Type.Optional(Version),
    as_of_time: Type.Optional(TimeInput),
    valid_at: Type.Optional(TimeInput),
  },
  { additionalProperties: false },
);
type ReconstructBodyT = Static<typeof ReconstructBody>;

/** The engine names fields the seed 000 way; this surface answers with its own names. */
const FIELD_NAMES: Record<string, string> = {
  eventStoreName: "aggregate_type",
  aggregateType: "aggregate_type",
  aggregateId: "aggregate_id",
  eventId: "event_id",
  expectedVersion: "expected_version",
  updateSnapshots: "update_snapshots",
};

async function withSnakeFields<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RunnelError && error.field !== undefined && FIELD_NAMES[error.field] !== undefined) {
      throw new RunnelError(error.code, error.message, { ...error.details, field: FIELD_NAMES[error.field], cause: error });
    }
    throw error;
  }
}

function toNewEvent(body: AppendBodyT): NewEvent {
  const event: NewEvent = {
    aggregateId: body.aggregate_id,
    aggregateType: body.aggregate_type,
    eventType: body.event_type,
    eventData: (body.event_data ?? null) as JsonValue,
  };
  if (body.event_id !== undefined) event.eventId = body.event_id;
  if (body.expected_version !== undefined && body.expected_version !== null) event.expectedVersion = body.expected_version;
  if (body.correlation_id !== undefined) event.correlationId = body.correlation_id;
  if (body.causation_id !== undefined) event.causationId = body.causation_id;
  if (body.metadata !== undefined) event.metadata = body.metadata as { [key: string]: JsonValue };
  if (body.valid_from !== undefined) event.validFrom = parseInstant(body.valid_from, "valid_from");
  if (body.valid_to !== undefined) event.validTo = body.valid_to === null ? null : parseInstant(body.valid_to, "valid_to");
  return event;
}

/** Seed 003's routes act on the request's namespace; an aggregate type is the event store of its aggregates. */
export function eventSourcingRoutes(app: FastifyInstance, { engine, namespaceOf }: HttpContext): void {
  app.post("/api/v1/event-sourcing/append", { schema: { body: AppendBody } }, async (req, reply) => {
    const body = req.body as AppendBodyT;
    const event = toNewEvent(body);
    const [r] = await withSnakeFields(() =>
      engine.eventStore.append(namespaceOf(req), body.aggregate_type, [event], {
        fieldPrefix: () => "",
        expectedField: "expected_version",
      }),
    );
    return reply.status(201).send({
      event_id: r!.eventId,
      message: "Event appended successfully",
      aggregate_id: r!.aggregateId,
      version: r!.version,
      duplicate: r!.duplicate,
    });
  });

  app.post("/api/v1/event-sourcing/reconstruct", { schema: { body: ReconstructBody } }, async (req) => {
    const body = req.body as ReconstructBodyT;
    const asOf = body.as_of_time === undefined ? undefined : parseInstant(body.as_of_time, "as_of_time");
    const at = body.valid_at === undefined ? undefined : parseInstant(body.valid_at, "valid_at");
    const r = await withSnakeFields(() =>
      engine.eventStore.reconstruct(namespaceOf(req), body.aggregate_type, body.aggregate_id, {
        ...(body.as_of_version === undefined ? {} : { toVersion: body.as_of_version }),
        ...(asOf === undefined ? {} : { asOfTransactionTime: asOf }),
        ...(at === undefined ? {} : { validAt: at }),
        ...(body.use_snapshots === undefined ? {} : { useSnapshots: body.use_snapshots }),
        updateSnapshot: body.update_snapshots ?? false,
      }),
    );
    return {
      aggregate_id: r.aggregateId,
      aggregate_type: r.aggregateType ?? body.aggregate_type,
      current_version: r.version,
      state: r.state,
      last_event_timestamp: r.lastEventTime === null ? null : formatInstant(r.lastEventTime),
      snapshot_version: r.snapshotVersion,
      events_replayed: r.eventsReplayed,
    };
  });
}
