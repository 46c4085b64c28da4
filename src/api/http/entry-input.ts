// Turns an entry as a client sends it (JSON body or query string) into what the engine appends.
import { BadRequestError } from "../../core/errors.js";
import { PRIORITIES, type NewEntry, type Priority } from "../../core/types.js";
import type { EntryInputT } from "./schemas.js";

/** Numeric priorities (0-10, as seed 000's clients send them) fold into the four levels. */
export function toPriority(p: Priority | number | undefined): Priority | undefined {
  if (p === undefined || typeof p === "string") return p;
  if (p >= 9) return "CRITICAL";
  if (p >= 7) return "HIGH";
  if (p >= 4) return "NORMAL";
  return "LOW";
}

export function isPriority(value: string): value is Priority {
  return (PRIORITIES as readonly string[]).includes(value);
}

/** The absolute delivery time from deliverAt, delayMs or delaySeconds (at most one may be given). */
export function deliverAtOf(
  input: { deliverAt?: number | string | undefined; delayMs?: number | undefined; delaySeconds?: number | undefined },
  now: number,
  field: string,
): number | null {
  const given = [input.deliverAt, input.delayMs, input.delaySeconds].filter((v) => v !== undefined).length;
  if (given > 1) throw new BadRequestError("give only one of deliverAt, delayMs and delaySeconds", { field: `${field}deliverAt` });
  if (input.delayMs !== undefined) return input.delayMs > 0 ? now + input.delayMs : null;
  if (input.delaySeconds !== undefined) return input.delaySeconds > 0 ? now + Math.round(input.delaySeconds * 1000) : null;
  if (typeof input.deliverAt === "number") return input.deliverAt;
  if (typeof input.deliverAt === "string") {
    const t = Date.parse(input.deliverAt);
    if (Number.isNaN(t)) throw new BadRequestError("deliverAt is not a valid date-time", { field: `${field}deliverAt` });
    return t;
  }
  return null;
}

/** `payloadText`, when given, is the payload exactly as it appears in the request body (see raw-payloads.ts). */
export function toNewEntry(input: EntryInputT, now: number, field = "", payloadText?: string): NewEntry {
  if (input.payload === undefined) throw new BadRequestError("payload is required", { field: `${field}payload` });
  if (input.type !== undefined && input.messageType !== undefined && input.type !== input.messageType) {
    throw new BadRequestError("type and messageType disagree; give one", { field: `${field}type` });
  }
  return {
    id: input.id,
    payload: payloadText ?? JSON.stringify(input.payload),
    type: input.type ?? input.messageType ?? null,
    headers: input.headers ?? {},
    key: input.key ?? input.messageGroup ?? null,
    partition: input.partition,
    priority: toPriority(input.priority as Priority | number | undefined),
    correlationId: input.correlationId ?? null,
    causationId: input.causationId ?? null,
    messageId: input.messageId ?? null,
    producerId: input.producerId ?? null,
    deliverAt: deliverAtOf(input, now, field),
  };
}
