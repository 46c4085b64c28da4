// Entries as the SDK hands them out and takes them in: the served JSON shape, typed, with a generic payload.
import type { Priority } from "../core/types.js";

export type { Priority } from "../core/types.js";

/**
 * A priority by name, or a number 0-10 (9-10 critical, 7-8 high, 4-6 normal, 0-3 low).
 *
 * @example
 * ```ts
 * const urgent: PriorityInput = "HIGH";
 * const seedStyle: PriorityInput = 8; // HIGH as well
 * ```
 */
export type PriorityInput = Priority | number;

/**
 * One entry of a stream, as the server serves it.
 *
 * @example
 * ```ts
 * const [first] = await client.streams.range<{ orderId: number }>("orders", { count: 1 });
 * console.log(first?.id, first?.payload.orderId, first?.headers.region);
 * ```
 */
export interface StreamEntry<T = unknown> {
  /** `<ms>-<seq>`; grows within the stream. */
  id: string;
  partition: number;
  /** Position within the partition. */
  offset: number;
  key: string | null;
  type: string | null;
  headers: Record<string, string>;
  /** The JSON payload as appended. */
  payload: T;
  priority: Priority;
  correlationId: string | null;
  causationId: string | null;
  messageId: string | null;
  /** When it was appended (ms since the epoch). */
  timestamp: number;
  /** Before this time (ms) no group delivers it; null when not delayed. */
  deliverAt: number | null;
}

/**
 * An entry handed to a consumer of a group: the entry plus how often it has been delivered.
 *
 * @example
 * ```ts
 * const { entries } = await client.groups.read("orders", "billing", "w1");
 * for (const e of entries) if (e.deliveryCount > 3) console.warn("retried often", e.id);
 * ```
 */
export interface GroupEntry<T = unknown> extends StreamEntry<T> {
  deliveryCount: number;
}

/**
 * Everything about an entry to append except its payload.
 *
 * @example
 * ```ts
 * const options: AppendOptions = { type: "OrderCreated", headers: { region: "EU" }, priority: "HIGH", delayMs: 5000 };
 * await client.streams.append("orders", { orderId: 42 }, options);
 * ```
 */
export interface AppendOptions {
  /** `*` (default), `<ms>-*` or an exact id greater than the stream's top id. */
  id?: string;
  type?: string;
  headers?: Record<string, string>;
  /** Entries with the same key land in the same partition. */
  key?: string;
  /** An explicit partition (instead of one chosen by key). */
  partition?: number;
  priority?: PriorityInput;
  correlationId?: string;
  causationId?: string;
  /** Idempotency: a second append with the same messageId (and producerId) inside the dedupe window is not stored. */
  messageId?: string;
  producerId?: string;
  /** Deliver to groups no earlier than this many ms from now. */
  delayMs?: number;
  /** Deliver to groups no earlier than this time (ms since the epoch, a Date, or an ISO date-time). */
  deliverAt?: number | Date | string;
}

/**
 * One entry of a batch append: a payload and its options.
 *
 * @example
 * ```ts
 * const batch: EntryInput[] = [{ payload: { n: 1 } }, { payload: { n: 2 }, type: "tick", key: "a" }];
 * await client.streams.appendBatch("ticks", batch);
 * ```
 */
export interface EntryInput<T = unknown> extends AppendOptions {
  payload: T;
}

/**
 * What an append answers for each entry.
 *
 * @example
 * ```ts
 * const r: AppendResult = await client.streams.append("orders", { orderId: 42 }, { messageId: "order-42" });
 * if (r.duplicate) console.log("already stored as", r.id);
 * ```
 */
export interface AppendResult {
  id: string;
  partition: number;
  offset: number;
  /** True when the entry was a duplicate and `id` is the original's. */
  duplicate: boolean;
}

/**
 * A payload given as JSON text, sent exactly as written: the server stores and serves that text, so a number
 * such as `12345678901234567890` keeps all its digits (a parsed JavaScript number would not). The text is
 * checked to be JSON when the value is made. Nested inside another payload it is sent parsed.
 *
 * @example
 * ```ts
 * await client.streams.append("orders", new RawJson('{"orderId":12345678901234567890}'));
 * const producer = client.producer("orders");
 * await producer.publish(new RawJson(line));
 * ```
 */
export class RawJson {
  constructor(readonly text: string) {
    JSON.parse(text);
  }

  /** Used only when a RawJson sits inside another value: the parsed value, as JSON.stringify would see it. */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}

/** The JSON text of one entry (`POST /stream/:s/entries`); a RawJson payload goes in as its own text. */
export function entryText(payload: unknown, options: AppendOptions = {}): string {
  const { deliverAt, ...rest } = options;
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rest)) if (v !== undefined) body[k] = v;
  if (deliverAt !== undefined) body.deliverAt = deliverAt instanceof Date ? deliverAt.getTime() : deliverAt;
  const others = JSON.stringify(body);
  // JSON.stringify answers undefined for undefined (and functions): the entry then has no payload, as before.
  const text = payload instanceof RawJson ? payload.text : (JSON.stringify(payload) as string | undefined);
  if (text === undefined) return others;
  return others === "{}" ? `{"payload":${text}}` : `{"payload":${text},${others.slice(1)}`;
}

/** The JSON text of a batch of entry texts. */
export function batchText(entries: readonly string[]): string {
  return `{"entries":[${entries.join(",")}]}`;
}
