// Moving entries that failed too often to the dead-letter stream, and bringing them back.
import { formatId } from "../core/ids.js";
import { MAX_DELIVERIES_HEADER, priorityName, type Entry, type NewEntry } from "../core/types.js";
import type { DeliveryHistoryItem, StreamRecord, Tx } from "../storage/index.js";
import { appendInTx } from "./append.js";

export const DEAD_PREFIX = "runnel-dead-";
export const DEAD_HEADERS = {
  reason: `${DEAD_PREFIX}reason`,
  stream: `${DEAD_PREFIX}stream`,
  id: `${DEAD_PREFIX}id`,
  group: `${DEAD_PREFIX}group`,
  deliveries: `${DEAD_PREFIX}deliveries`,
  history: `${DEAD_PREFIX}history`,
  at: `${DEAD_PREFIX}at`,
  /** The entry's own delivery limit, kept aside so it does not bind readers of the dead-letter stream. */
  maxDeliveries: `${DEAD_PREFIX}max-deliveries`,
} as const;

/** How many deliveries `entry` may have before it is dead-lettered: its stream's limit, or its own when lower. */
export function deliveryLimit(stream: StreamRecord, entry: Entry): number | null {
  const streamLimit = stream.config.maxDeliveries;
  if (!entry.headers.includes(MAX_DELIVERIES_HEADER)) return streamLimit;
  const own = Number((JSON.parse(entry.headers) as Record<string, string>)[MAX_DELIVERIES_HEADER]);
  if (!Number.isInteger(own) || own < 1) return streamLimit;
  return streamLimit === null ? own : Math.min(streamLimit, own);
}

export function deadLetterStreamOf(stream: StreamRecord): string {
  const named = stream.config.deadLetterStream;
  // A stream set up before naming itself was refused goes to the default rather than feeding its dead letters back.
  return named !== null && named !== stream.name ? named : `${stream.name}:dlq`;
}

/** Appends a copy of `entry` to the dead-letter stream, its headers telling why and what happened to it. */
export async function deadLetter(
  tx: Tx,
  stream: StreamRecord,
  group: string,
  entry: Entry,
  history: DeliveryHistoryItem[],
  reason: string,
  now: number,
): Promise<string> {
  const { [MAX_DELIVERIES_HEADER]: limit, ...own } = JSON.parse(entry.headers) as Record<string, string>;
  const headers: Record<string, string> = {
    ...own,
    ...(limit === undefined ? {} : { [DEAD_HEADERS.maxDeliveries]: limit }),
    [DEAD_HEADERS.reason]: reason,
    [DEAD_HEADERS.stream]: stream.name,
    [DEAD_HEADERS.id]: formatId(entry.id),
    [DEAD_HEADERS.group]: group,
    [DEAD_HEADERS.deliveries]: String(history.length),
    [DEAD_HEADERS.history]: JSON.stringify(history),
    [DEAD_HEADERS.at]: String(now),
  };
  const target = deadLetterStreamOf(stream);
  await appendInTx(tx, stream.namespace, target, [copyOf(entry, headers)], now);
  return target;
}

export function copyOf(entry: Entry, headers: Record<string, string>): NewEntry {
  return {
    payload: entry.payload,
    type: entry.type,
    headers,
    key: entry.key,
    priority: priorityName(entry.priority),
    correlationId: entry.correlationId,
    causationId: entry.causationId,
  };
}

/** The original headers of a dead letter, without the ones Runnel added. */
export function originalHeaders(entry: Entry): Record<string, string> {
  const all = JSON.parse(entry.headers) as Record<string, string>;
  const original = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith(DEAD_PREFIX)));
  const limit = all[DEAD_HEADERS.maxDeliveries];
  return limit === undefined ? original : { ...original, [MAX_DELIVERIES_HEADER]: limit };
}
