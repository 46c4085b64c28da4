// Bi-temporal time: parsing ISO 8601 instants, and which version of an event line counts (corrections applied).
import { MAX_TIME_MS } from "../../core/clock.js";
import { BadRequestError } from "../../core/errors.js";
import type { StoredEvent } from "../../storage/queries/event-store.js";

/** The latest moment a JavaScript Date can hold: a later instant could be stored but never written as ISO 8601. */

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Parses an ISO 8601 instant (`2025-07-19`, `2025-07-19T10:00:00Z`, `…T10:00:00.123+02:00`) or a number of ms since
 * the epoch into ms. A date or time without an offset is read as UTC, so the answer never depends on the server's
 * time zone. Throws a 400 naming `field` otherwise.
 */
export function parseInstant(value: string | number, field: string): number {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value <= MAX_TIME_MS) return value;
    throw new BadRequestError(`${field} must be an ISO 8601 time or ms since the epoch, from 0 to ${MAX_TIME_MS}`, { field });
  }
  const m = ISO_8601.exec(value.trim());
  const bad = () => new BadRequestError(`${field} must be an ISO 8601 time such as 2025-07-19T10:00:00Z, got '${value}'`, { field });
  if (!m) throw bad();
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  let offset = zone.toUpperCase() === "Z" ? "Z" : zone;
  if (offset.length === 3) offset = `${offset}:00`;
  else if (offset.length === 5) offset = `${offset.slice(0, 3)}:${offset.slice(3)}`;
  const ms = frac === "" ? "" : `.${frac.padEnd(3, "0").slice(0, 3)}`;
  const parsed = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${offset}`);
  // Date.parse rolls 2025-02-30 over into March; a calendar date that does not exist is an error here.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    Number.isNaN(parsed) ||
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw bad();
  }
  return parsed;
}

/** An instant as ISO 8601 in UTC with milliseconds, the way every event store response writes time. */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}

/** True when the event is valid (in business time) at `at`. */
export function validAt(event: Pick<StoredEvent, "validFrom" | "validTo">, at: number): boolean {
  return event.validFrom <= at && (event.validTo === null || event.validTo > at);
}

/**
 * For events of one aggregate in version order: each original paired with what counts for it, its newest
 * correction among `events` or itself. Corrections whose original is not among `events` stand for themselves.
 */
export function effectiveEvents(events: readonly StoredEvent[]): StoredEvent[] {
  const latest = new Map<string, StoredEvent>();
  const originals = new Set<string>();
  for (const e of events) {
    if (e.correctionOf === null) originals.add(e.eventId);
    else latest.set(e.correctionOf, e);
  }
  const out: StoredEvent[] = [];
  for (const e of events) {
    if (e.correctionOf === null) out.push(latest.get(e.eventId) ?? e);
    else if (!originals.has(e.correctionOf) && latest.get(e.correctionOf) === e) out.push(e);
  }
  return out;
}
