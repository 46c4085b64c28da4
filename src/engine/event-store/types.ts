// The shapes the event store speaks: inputs to append, results, queries, statistics and options.
import type { EventFilter, EventStoreStatsRecord, StoredEvent } from "../../storage/queries/event-store.js";
import type { JsonValue } from "./reducer.js";

/** An exact version (0 = no events yet), or a condition on the aggregate's existence. */
export type ExpectedVersion = number | "any" | "no_stream" | "stream_exists";

/** One event as a producer hands it in; times are ms since the epoch. */
export interface NewEvent {
  /** Idempotency: an event whose id is already stored is not stored again. Generated when missing. */
  eventId?: string;
  /** The aggregate (the event stream) it belongs to; an event without one is its own aggregate. */
  aggregateId?: string;
  aggregateType?: string;
  /** Defaults to the original's type for a correction. */
  eventType?: string;
  eventData: JsonValue;
  metadata?: { [key: string]: JsonValue };
  correlationId?: string | null;
  causationId?: string | null;
  /** Business time the event became true; default the transaction time (or the original's for a correction). */
  validFrom?: number;
  validTo?: number | null;
  expectedVersion?: ExpectedVersion;
  /** The id of an earlier event this one corrects. */
  correctionOf?: string;
  correctionReason?: string;
}

export interface AppendedEvent {
  eventId: string;
  aggregateId: string;
  version: number;
  position: number;
  transactionTime: number;
  /** True when the event id was already stored, so nothing was written. */
  duplicate: boolean;
}

export interface EventQuery extends EventFilter {
  limit: number;
  offset: number;
}

export interface EventPage {
  events: StoredEvent[];
  hasMore: boolean;
}

export interface AggregateHistory {
  aggregateId: string;
  aggregateType: string | null;
  currentVersion: number;
  events: StoredEvent[];
  hasMore: boolean;
}

export interface EventStoreStats extends EventStoreStatsRecord {
  eventStoreName: string;
  lastPosition: number;
  /** The snapshot interval in effect for this store. */
  snapshotEvery: number;
}

export interface EventStoreOptions {
  /** Snapshot an aggregate every this many events, for stores that set none; 0 turns automatic snapshots off. */
  snapshotEvery: number;
}

export const DEFAULT_EVENT_STORE_OPTIONS: EventStoreOptions = { snapshotEvery: 100 };
