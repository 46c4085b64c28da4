// Stream entry ids `<ms>-<seq>`, as Redis Streams shapes them: parsing, ordering and generation.
import { IdTooSmallError, InvalidIdError } from "./errors.js";

export interface StreamId {
  ms: number;
  seq: number;
}

export const MIN_ID: StreamId = Object.freeze({ ms: 0, seq: 0 });
export const MAX_PART = Number.MAX_SAFE_INTEGER;
export const MAX_ID: StreamId = Object.freeze({ ms: MAX_PART, seq: MAX_PART });

/** What an append asks for: a new id, a new sequence in a given ms, or an exact id. */
export type AppendIdSpec = { kind: "auto" } | { kind: "seq"; ms: number } | { kind: "exact"; id: StreamId };

const PART = /^\d{1,16}$/;

function parsePart(text: string, field: string, whole: string): number {
  if (!PART.test(text)) throw new InvalidIdError(`invalid stream id '${whole}'`, { field });
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new InvalidIdError(`stream id part out of range in '${whole}'`, { field });
  return n;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function compareIds(a: StreamId, b: StreamId): number {
  return a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

/** Parses `<ms>-<seq>` or `<ms>` (the sequence then defaults to `missingSeq`). */
export function parseId(text: string, field = "id", missingSeq = 0): StreamId {
  if (typeof text !== "string" || text.length === 0) throw new InvalidIdError("stream id is required", { field });
  const dash = text.indexOf("-");
  if (dash === -1) return { ms: parsePart(text, field, text), seq: missingSeq };
  return { ms: parsePart(text.slice(0, dash), field, text), seq: parsePart(text.slice(dash + 1), field, text) };
}

export function parseAppendId(text: string | undefined, field = "id"): AppendIdSpec {
  if (text === undefined || text === "*") return { kind: "auto" };
  if (text.endsWith("-*")) return { kind: "seq", ms: parsePart(text.slice(0, -2), field, text) };
  const id = parseId(text, field);
  if (id.ms === 0 && id.seq === 0) throw new InvalidIdError("the id of an appended entry must be greater than 0-0", { field });
  return { kind: "exact", id };
}

/** A range bound: `-`/`+`, an id, a bare ms, or `(id` for an exclusive bound. */
export interface RangeBound {
  id: StreamId;
  exclusive: boolean;
}

/**
 * In a query string `+` is an encoded space, so `?end=+` arrives as " ". No id contains a space, so a lone
 * space is read as the `+` the user typed.
 */
function plusFromQuery(text: string | undefined): string | undefined {
  return text === " " ? "+" : text;
}

export function parseRangeStart(raw: string | undefined, field = "start"): RangeBound {
  const text = plusFromQuery(raw);
  if (text === undefined || text === "-") return { id: MIN_ID, exclusive: false };
  if (text === "+") return { id: MAX_ID, exclusive: false };
  if (text.startsWith("(")) return { id: parseId(text.slice(1), field, 0), exclusive: true };
  return { id: parseId(text, field, 0), exclusive: false };
}

export function parseRangeEnd(raw: string | undefined, field = "end"): RangeBound {
  const text = plusFromQuery(raw);
  if (text === undefined || text === "+") return { id: MAX_ID, exclusive: false };
  if (text === "-") return { id: MIN_ID, exclusive: false };
  if (text.startsWith("(")) return { id: parseId(text.slice(1), field, MAX_PART), exclusive: true };
  return { id: parseId(text, field, MAX_PART), exclusive: false };
}

/** Turns a range bound into an inclusive one, or undefined when the range is empty. */
export function inclusiveStart(bound: RangeBound): StreamId | undefined {
  if (!bound.exclusive) return bound.id;
  return nextOf(bound.id);
}

export function inclusiveEnd(bound: RangeBound): StreamId | undefined {
  if (!bound.exclusive) return bound.id;
  const { ms, seq } = bound.id;
  if (seq > 0) return { ms, seq: seq - 1 };
  if (ms > 0) return { ms: ms - 1, seq: MAX_PART };
  return undefined;
}

/** The id right after `id`, or undefined past the largest id. */
export function nextOf(id: StreamId): StreamId | undefined {
  if (id.seq < MAX_PART) return { ms: id.ms, seq: id.seq + 1 };
  if (id.ms < MAX_PART) return { ms: id.ms + 1, seq: 0 };
  return undefined;
}

/** The id a new entry gets, given the stream's top id and the time now. */
export function nextAppendId(top: StreamId, now: number, spec: AppendIdSpec, field = "id"): StreamId {
  switch (spec.kind) {
    case "auto": {
      if (now > top.ms) return { ms: now, seq: 0 };
      const next = nextOf(top);
      if (!next) throw new IdTooSmallError("the stream has reached its largest id", { field });
      return next;
    }
    case "seq": {
      if (spec.ms > top.ms) return { ms: spec.ms, seq: 0 };
      if (spec.ms === top.ms && top.seq < MAX_PART) return { ms: spec.ms, seq: top.seq + 1 };
      throw new IdTooSmallError(
        `the id must be greater than the stream's top id ${formatId(top)}`,
        { field, topId: formatId(top) },
      );
    }
    case "exact": {
      if (compareIds(spec.id, top) > 0) return spec.id;
      throw new IdTooSmallError(
        `the id ${formatId(spec.id)} is equal or smaller than the stream's top id ${formatId(top)}`,
        { field, topId: formatId(top) },
      );
    }
  }
}
