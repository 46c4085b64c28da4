// Entries over RESP: XADD's field/value pairs become a JSON object payload, and a payload becomes field/value pairs.
import { formatId, type StreamId } from "../../core/ids.js";
import type { Entry } from "../../core/types.js";
import type { Delivery } from "../../engine/index.js";
import { NULL_ARRAY, type Reply } from "./protocol.js";
import { members, OPEN_BRACE, QUOTE, skipSpace, unquote } from "../../core/json-text.js";

/**
 * `field value field value …` as the JSON object text `{"field":"value",…}`, values as strings. A field given
 * twice keeps its first place and its last value (a JSON object holds a key once).
 */
export function payloadOf(pairs: readonly string[]): string {
  if (hasRepeatedField(pairs)) {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(pairs[i]!, pairs[i + 1]!);
    pairs = [...fields].flat();
  }
  let text = "{";
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    text += `${i === 0 ? "" : ","}${quoted(pairs[i]!)}:${quoted(pairs[i + 1]!)}`;
  }
  return `${text}}`;
}

/** What JSON.stringify would escape in a string: quotes, backslashes, control characters and surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON text; most field names and values need no escape, and then JSON.stringify is skipped. */
function quoted(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function hasRepeatedField(pairs: readonly string[]): boolean {
  const fields = Math.floor(pairs.length / 2);
  const names = new Set<string>();
  for (let i = 0; i < fields * 2; i += 2) names.add(pairs[i]!);
  return names.size < fields;
}

/**
 * A stored JSON object's members in the order they were written (JSON.parse would move integer-like keys first),
 * each value as a string: string values as they are, others as their JSON text. Undefined when the payload is not
 * an object. The payload was validated when it was appended, so this only walks it.
 */
function objectFields(payload: string): string[] | undefined {
  const start = skipSpace(payload, 0);
  if (payload.charCodeAt(start) !== OPEN_BRACE) return undefined;
  const out: string[] = [];
  members(payload, start, (key, from, to) => {
    out.push(key, payload.charCodeAt(from) === QUOTE ? unquote(payload, from, to) : payload.slice(from, to));
  });
  return out;
}

/** An entry's fields: the members of an object payload, else `["payload", <json text>]`. */
export function fieldsOf(entry: Entry): string[] {
  return objectFields(entry.payload) ?? ["payload", entry.payload.trim()];
}

/** `[id, [field, value, …]]`, the shape XRANGE, XREAD and XREADGROUP answer each entry in. */
export function entryReply(entry: Entry): Reply {
  return [formatId(entry.id), fieldsOf(entry)];
}

/** A delivery; an entry deleted while pending is `[id, nil array]`, as Redis answers it. */
export function deliveryReply(d: Delivery): Reply {
  return d.entry ? entryReply(d.entry) : [formatId(d.id), NULL_ARRAY];
}

export function idReply(id: StreamId | null): string | null {
  return id === null ? null : formatId(id);
}
