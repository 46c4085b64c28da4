// Seed 003's event publishing: POST /api/v1/events appends one event to a stream, with its type, priority,
// aggregate and retry limit, in the seed's snake_case.
import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { BadRequestError } from "../../../core/errors.js";
import { formatId } from "../../../core/ids.js";
import { MAX_DELIVERIES_HEADER, PRIORITIES, type NewEntry } from "../../../core/types.js";
import type { HttpContext } from "../context.js";
import { rawPayloads } from "../raw-payloads.js";
import { Name } from "../schemas.js";
import { DEFAULT_BUS_STREAM } from "./consumer-groups.js";

const Text = Type.String({ minLength: 1, maxLength: 500 });

const PublishBody = Type.Object(
  {
    event_type: Type.String({ minLength: 1, maxLength: 200 }),
    payload: Type.Unknown(),
    source_capability: Type.Optional(Text),
    aggregate_id: Type.Optional(Text),
    aggregate_type: Type.Optional(Text),
    priority: Type.Optional(Type.Union(PRIORITIES.map((p) => Type.Literal(p)))),
    // Runnel stores the JSON as sent: these two may only name that.
    compression_type: Type.Optional(Type.Literal("NONE")),
    serialization_format: Type.Optional(Type.Literal("JSON")),
    max_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 999_999_998 })),
    stream_id: Type.Optional(Name),
    stream: Type.Optional(Name),
    correlation_id: Type.Optional(Text),
    causation_id: Type.Optional(Text),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
type PublishBodyT = Static<typeof PublishBody>;

/** The entry an event becomes: its aggregate is the key (one aggregate's events stay in order), the rest headers. */
function toEntry(b: PublishBodyT, payloadText: string | undefined): NewEntry {
  const headers: Record<string, string> = { ...b.headers };
  if (b.source_capability !== undefined) headers.source_capability = b.source_capability;
  if (b.aggregate_type !== undefined) headers.aggregate_type = b.aggregate_type;
  // max_retries counts the deliveries after the first.
  if (b.max_retries !== undefined) headers[MAX_DELIVERIES_HEADER] = String(b.max_retries + 1);
  return {
    payload: payloadText ?? JSON.stringify(b.payload),
    type: b.event_type,
    key: b.aggregate_id ?? null,
    headers,
    priority: b.priority ?? "NORMAL",
    correlationId: b.correlation_id ?? null,
    causationId: b.causation_id ?? null,
  };
}

export function busEventRoutes(app: FastifyInstance, { engine, namespaceOf }: HttpContext): void {
  app.post("/api/v1/events", { schema: { body: PublishBody } }, async (req, reply) => {
    const b = req.body as PublishBodyT;
    if (b.stream !== undefined && b.stream_id !== undefined && b.stream !== b.stream_id) {
      throw new BadRequestError("stream and stream_id name different streams; give one", { field: "stream_id" });
    }
    if (b.max_retries !== undefined && b.headers?.[MAX_DELIVERIES_HEADER] !== undefined) {
      throw new BadRequestError(`max_retries and the ${MAX_DELIVERIES_HEADER} header both set the limit; give one`, {
        field: "max_retries",
      });
    }
    const stream = b.stream_id ?? b.stream ?? DEFAULT_BUS_STREAM;
    const text = req.rawBody === undefined ? undefined : rawPayloads(req.rawBody, false)?.[0];
    const [r] = await engine.streams.append(namespaceOf(req), stream, [toEntry(b, text)], "");
    return reply.status(201).send({
      event_id: formatId(r!.id),
      message: "Event published successfully",
      stream_id: stream,
      partition: r!.partition,
      offset: r!.offset,
      priority: b.priority ?? "NORMAL",
    });
  });
}
