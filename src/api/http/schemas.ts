// Request schemas shared by routes, compiled once by Ajv at start-up.
import { Type, type Static } from "@sinclair/typebox";
import { MAX_TIME_MS } from "../../core/clock.js";
import { NAME_PATTERN } from "../../core/names.js";
import { PRIORITIES } from "../../core/types.js";
import { STREAM_CONFIG_LIMITS } from "../../engine/streams.js";

export const Name = Type.String({ pattern: NAME_PATTERN });
export const IdText = Type.String({ minLength: 1, maxLength: 64 });
export const Ids = Type.Array(IdText, { minItems: 1, maxItems: 10_000 });

export const StreamParams = Type.Object({ stream: Name });
export const GroupParams = Type.Object({ stream: Name, group: Name });
export const ConsumerParams = Type.Object({ stream: Name, group: Name, consumer: Name });

export const Count = Type.Integer({ minimum: 1, maximum: 10_000 });
export const Block = Type.Integer({ minimum: 0, maximum: 3_600_000 });
/** Epoch or duration milliseconds, at most the last moment a JavaScript Date can hold. */
export const MAX_MILLIS = MAX_TIME_MS;
export const Millis = Type.Integer({ minimum: 0, maximum: MAX_MILLIS });
/** A count, position or version from `minimum` up to the largest integer a JavaScript number holds exactly. */
export function SafeInteger(minimum = 0) {
  return Type.Integer({ minimum, maximum: Number.MAX_SAFE_INTEGER });
}

export const NO_NUL_PATTERN = "^[^\\u0000]*$";

/** A string stored as text of its own (not inside JSON): PostgreSQL's text cannot hold a NUL character. */
export function Text(options: { minLength?: number; maxLength: number }) {
  return Type.String({ ...options, pattern: NO_NUL_PATTERN });
}

/** CRITICAL, HIGH, NORMAL, LOW, or a number 0-10 (higher is more urgent; 5 is NORMAL). */
export const PriorityInput = Type.Union([
  Type.Union(PRIORITIES.map((p) => Type.Literal(p))),
  Type.Integer({ minimum: 0, maximum: 10 }),
]);

/** One entry as a JSON body: the Runnel names, with seed 000's `messageType` and `delaySeconds` accepted too. */
export const EntryInput = Type.Object(
  {
    payload: Type.Unknown(),
    id: Type.Optional(IdText),
    type: Type.Optional(Text({ maxLength: 200 })),
    messageType: Type.Optional(Text({ maxLength: 200 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    key: Type.Optional(Text({ maxLength: 1000 })),
    messageGroup: Type.Optional(Text({ maxLength: 1000 })),
    partition: Type.Optional(Type.Integer({ minimum: 0 })),
    priority: Type.Optional(PriorityInput),
    correlationId: Type.Optional(Text({ maxLength: 200 })),
    causationId: Type.Optional(Text({ maxLength: 200 })),
    messageId: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
    producerId: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
    delayMs: Type.Optional(Millis),
    delaySeconds: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_MILLIS / 1000 })),
    deliverAt: Type.Optional(Type.Union([Millis, Type.String({ minLength: 1, maxLength: 64 })])),
  },
  { additionalProperties: false, required: ["payload"] },
);
export type EntryInputT = Static<typeof EntryInput>;

/** A stream option within the engine's limits. */
function limited(option: keyof typeof STREAM_CONFIG_LIMITS) {
  const { min, max } = STREAM_CONFIG_LIMITS[option];
  return Type.Integer({ minimum: min, maximum: max });
}

export const StreamOptions = Type.Object(
  {
    partitions: Type.Optional(limited("partitions")),
    maxLen: Type.Optional(Type.Union([limited("maxLen"), Type.Null()])),
    maxAgeMs: Type.Optional(Type.Union([limited("maxAgeMs"), Type.Null()])),
    maxDeliveries: Type.Optional(Type.Union([limited("maxDeliveries"), Type.Null()])),
    deadLetterStream: Type.Optional(Type.Union([Name, Type.Null()])),
    dedupeWindowMs: Type.Optional(limited("dedupeWindowMs")),
  },
  { additionalProperties: false },
);
export type StreamOptionsT = Static<typeof StreamOptions>;
