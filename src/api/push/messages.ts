// The JSON messages push clients receive (seed 000): `data` and `batch` built around the stored payload text.
import { formatId, type StreamId } from "../../core/ids.js";
import { priorityName, type Entry } from "../../core/types.js";
import type { PushItem } from "../../engine/push/index.js";

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

/**
 * The fields of an entry as message text, built once per entry: a broadcast hands the same entry object to
 * every subscriber, and each of them then only adds its own connection id around it.
 */
const bodies = new WeakMap<Entry, string>();

function bodyOf(e: Entry): string {
  let body = bodies.get(e);
  if (body === undefined) {
    const id = `${e.id.ms}-${e.id.seq}`;
    body =
      `"messageId":"${id}","id":"${id}","payload":${e.payload},"messageType":${str(e.type)},"headers":${e.headers},` +
      `"priority":"${priorityName(e.priority)}","partition":${e.partition},"offset":${e.offset},"key":${str(e.key)},` +
      `"correlationId":${str(e.correlationId)},"causationId":${str(e.causationId)},"timestamp":${e.timestamp}`;
    bodies.set(e, body);
  }
  return body;
}

/** One entry as a `data` message; inside a batch the same object without the connection id. */
export function dataJson(item: PushItem, connectionId: string | null): string {
  return (
    `{"type":"data",${connectionId === null ? "" : `"connectionId":${JSON.stringify(connectionId)},`}` +
    bodyOf(item.entry) +
    `${item.deliveryCount === undefined ? "" : `,"deliveryCount":${item.deliveryCount}`}}`
  );
}

export function batchJson(items: PushItem[], connectionId: string, now: number): string {
  return (
    `{"type":"batch","connectionId":${JSON.stringify(connectionId)},"messageCount":${items.length},` +
    `"messages":[${items.map((i) => dataJson(i, null)).join(",")}],"timestamp":${now}}`
  );
}

export function idOrNull(id: StreamId | null): string | null {
  return id === null ? null : formatId(id);
}
