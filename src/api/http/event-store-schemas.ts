// Shared by the event store transports: request schemas, time parsing for queries, and events as JSON text.
import { Type } from "@sinclair/typebox";
import { BadRequestError } from "../../core/errors.js";
import { formatInstant, parseInstant, type EventSubscription, type StoredEvent } from "../../engine/event-store/index.js";
import type { Engine } from "../../engine/index.js";
import { SafeInteger, Text as TextOf } from "./schemas.js";

/** A type, correlation or causation id: 1-200 characters. */
export const Text = TextOf({ minLength: 1, maxLength: 200 });
/** An event or aggregate id: 1-200 characters of any kind (encode it in a URL path). */
export const EventIdText = TextOf({ minLength: 1, maxLength: 200 });
/** Why a correction was made: free text, up to 1000 characters. */
export const Reason = TextOf({ maxLength: 1000 });
/** An ISO 8601 time, or ms since the epoch; `parseInstant` checks either form, and says what it takes. */
export const TimeInput = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer()]);
/** An event's version in its aggregate, or its position in the store. */
export const Version = SafeInteger();
/** An exact version, `any`, `no_stream`, `stream_exists`, or null (the same as `any`). */
export const ExpectedVersionInput = Type.Union([
  Version,
  Type.Literal("any"),
  Type.Literal("no_stream"),
  Type.Literal("stream_exists"),
  Type.Null(),
]);

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

/** One event as JSON: seed 000's fields first, then the aggregate, the position and the correction link. */
export function eventJson(e: StoredEvent): string {
  return (
    `{"id":${JSON.stringify(e.eventId)},"eventType":${JSON.stringify(e.eventType)},"eventData":${e.eventData},` +
    `"validFrom":"${formatInstant(e.validFrom)}","validTo":${e.validTo === null ? "null" : `"${formatInstant(e.validTo)}"`},` +
    `"transactionTime":"${formatInstant(e.transactionTime)}","correlationId":${str(e.correlationId)},` +
    `"causationId":${str(e.causationId)},"version":${e.version},"metadata":${e.metadata},` +
    `"aggregateId":${JSON.stringify(e.aggregateId)},"aggregateType":${str(e.aggregateType)},"position":${e.position},` +
    `"correctionOf":${str(e.correctionOf)},"correctionReason":${str(e.correctionReason)}}`
  );
}

/** A JSON object from ordered fields; values in `raw` are JSON text already. */
export function orderedJson(fields: [string, unknown][], raw: Record<string, string> = {}): string {
  const parts = fields.map(([k, v]) => `${JSON.stringify(k)}:${k in raw ? raw[k] : JSON.stringify(v)}`);
  return `{${parts.join(",")}}`;
}

/** Parses an optional ISO 8601 query value, naming the field when it is not one. */
export function instantOf(value: string | undefined, field: string): number | undefined {
  return value === undefined ? undefined : parseInstant(value, field);
}

/** One delivered event as the live transports send it. */
export function liveEventJson(e: StoredEvent): string {
  return `{"type":"event","position":${e.position},"event":${eventJson(e)}}`;
}

/**
 * Where a subscription starts: after the position a reconnecting client saw last (`Last-Event-ID`), at
 * `fromPosition` (inclusive; 0 and 1 both mean the beginning), or, with neither, after the current end.
 */
export function startAfter(fromPosition: number | undefined, lastEventId: string | undefined): number | undefined {
  if (lastEventId !== undefined && lastEventId !== "") {
    if (!/^\d{1,15}$/.test(lastEventId)) throw new BadRequestError("Last-Event-ID must be an event position", { field: "Last-Event-ID" });
    return Number(lastEventId);
  }
  return fromPosition === undefined ? undefined : Math.max(0, fromPosition - 1);
}

/** Opens the subscription named by a request; 404 for an unknown store, before anything is streamed. */
export function openSubscription(
  engine: Engine,
  setupId: string,
  eventStoreName: string,
  after: number | undefined,
  filter: { eventType?: string | undefined; aggregateId?: string | undefined },
): Promise<EventSubscription> {
  return engine.eventStore.subscribe(setupId, eventStoreName, after, {
    ...(filter.eventType === undefined ? {} : { eventType: filter.eventType }),
    ...(filter.aggregateId === undefined ? {} : { aggregateId: filter.aggregateId }),
  });
}
