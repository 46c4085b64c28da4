// The JSON messages push clients receive (seed 000): `data` and `batch` built around the stored payload text.
import { formatId, type StreamId } from "../../core/ids.js";
import { priorityName } from "../../core/types.js";
import type { PushItem } from "../../engine/push/index.js";

const str = (v: string | null): string => (v === null ? "null" : JSON.stringify(v));

/** One entry as a `data` message; inside a batch the same object without the connection id. */
export function dataJson(item: PushItem, connectionId: string | null): string {
  const e = item.entry;
  const id = `${e.id.ms}-${e.id.seq}`;
  return (
    `{"type":"data",${connectionId === null ? "" : `"connectionId":${JSON.stringify(connectionId)},`}` +
    `"messageId":"${id}","id":"${id}","payload":${e.payload},"messageType":${str(e.type)},"headers":${e.headers},` +
    `"priority":"${priorityName(e.priority)}","partition":${e.partition},"offset":${e.offset},"key":${str(e.key)},` +
    `"correlationId":${str(e.correlationId)},"causationId":${str(e.causationId)},"timestamp":${e.timestamp}` +
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
