// The shapes every layer speaks: entries, priorities, stream and group descriptions.
import { BadRequestError } from "./errors.js";
import type { StreamId } from "./ids.js";

export const PRIORITIES = ["LOW", "NORMAL", "HIGH", "CRITICAL"] as const;
export type Priority = (typeof PRIORITIES)[number];
/** Stored as a number so that a larger number sorts first. */
export type PriorityLevel = 0 | 1 | 2 | 3;
export const DEFAULT_PRIORITY: Priority = "NORMAL";

/** A header by which one entry sets its own delivery limit (a positive integer), below its stream's maxDeliveries. */
export const MAX_DELIVERIES_HEADER = "runnel-max-deliveries";

/** Refuses a delivery-limit header value that is not a whole number from 1 up, blaming `field`. */
export function checkDeliveryLimit(value: string, field: string): void {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) {
    throw new BadRequestError(`the ${MAX_DELIVERIES_HEADER} header must be a whole number from 1 to 999999999`, { field });
  }
}

export function priorityLevel(p: Priority): PriorityLevel {
  return PRIORITIES.indexOf(p) as PriorityLevel;
}

export function priorityName(level: number): Priority {
  return PRIORITIES[level] ?? DEFAULT_PRIORITY;
}

/** An entry as stored and served; `payload` and `headers` stay as JSON text. */
export interface Entry {
  id: StreamId;
  partition: number;
  offset: number;
  key: string | null;
  type: string | null;
  /** JSON object text. */
  headers: string;
  /** JSON text exactly as it was appended. */
  payload: string;
  priority: PriorityLevel;
  correlationId: string | null;
  causationId: string | null;
  messageId: string | null;
  timestamp: number;
  deliverAt: number | null;
}

/** What a producer hands in for one entry. */
export interface NewEntry {
  /** `*`, `<ms>-*` or an exact id; default `*`. */
  id?: string;
  /** Any JSON value, as text. */
  payload: string;
  type?: string | null;
  headers?: Record<string, string>;
  key?: string | null;
  partition?: number;
  priority?: Priority;
  correlationId?: string | null;
  causationId?: string | null;
  /** Idempotency: an entry whose producerId+messageId was seen inside the dedupe window is not stored again. */
  messageId?: string | null;
  producerId?: string | null;
  /** Absolute time (ms) before which no group delivers the entry. */
  deliverAt?: number | null;
}

export interface StreamConfig {
  partitions: number;
  maxLen: number | null;
  maxAgeMs: number | null;
  maxDeliveries: number | null;
  deadLetterStream: string | null;
  dedupeWindowMs: number;
}

export const DEFAULT_STREAM_CONFIG: StreamConfig = Object.freeze({
  partitions: 1,
  maxLen: null,
  maxAgeMs: null,
  maxDeliveries: null,
  deadLetterStream: null,
  dedupeWindowMs: 120_000,
});

export interface AppendResult {
  id: StreamId;
  partition: number;
  offset: number;
  /** True when the entry was a duplicate and `id` is the original's. */
  duplicate: boolean;
}

/** An entry handed to a group consumer, with how many times it has been delivered. */
export interface Delivery {
  entry: Entry;
  deliveryCount: number;
}

export interface PendingSummary {
  count: number;
  smallest: StreamId | null;
  largest: StreamId | null;
  consumers: { name: string; pending: number }[];
}

export interface PendingDetail {
  id: StreamId;
  consumer: string;
  idleMs: number;
  deliveryCount: number;
  partition: number;
}
