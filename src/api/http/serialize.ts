// Entries go out as JSON text built around the stored payload and headers text: no parse, no re-stringify.
import { formatId, type StreamId } from "../../core/ids.js";
import { priorityName, type Entry } from "../../core/types.js";
import type { Delivery } from "../../engine/index.js";

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

/** One entry as a JSON object; `extra` is inserted before the closing brace (`,"deliveryCount":2`). */
export function entryJson(e: Entry, extra = ""): string {
  return (
    `{"id":"${e.id.ms}-${e.id.seq}","partition":${e.partition},"offset":${e.offset},"key":${str(e.key)},` +
    `"type":${str(e.type)},"headers":${e.headers},"payload":${e.payload},"priority":"${priorityName(e.priority)}",` +
    `"correlationId":${str(e.correlationId)},"causationId":${str(e.causationId)},"messageId":${str(e.messageId)},` +
    `"timestamp":${e.timestamp},"deliverAt":${e.deliverAt === null ? "null" : e.deliverAt}${extra}}`
  );
}

export function entriesJson(entries: readonly Entry[]): string {
  return `[${entries.map((e) => entryJson(e)).join(",")}]`;
}

/** A group delivery; an entry deleted while pending shows as `{id, deleted: true}`. */
export function deliveryJson(d: Delivery): string {
  if (!d.entry) return `{"id":"${formatId(d.id)}","deleted":true,"deliveryCount":${d.deliveryCount}}`;
  return entryJson(d.entry, `,"deliveryCount":${d.deliveryCount}`);
}

export function deliveriesJson(deliveries: readonly Delivery[]): string {
  return `[${deliveries.map(deliveryJson).join(",")}]`;
}

/** Wraps pre-serialised JSON fragments into an object: `objectJson({a: 1}, {entries: "[...]"})`. */
export function objectJson(plain: Record<string, unknown>, raw: Record<string, string> = {}): string {
  const head = JSON.stringify(plain);
  const tail = Object.entries(raw)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(",");
  if (!tail) return head;
  return head === "{}" ? `{${tail}}` : `${head.slice(0, -1)},${tail}}`;
}

export function idJson(id: StreamId | null): string | null {
  return id === null ? null : formatId(id);
}
