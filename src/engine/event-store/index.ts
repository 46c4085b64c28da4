// The event store's public surface: the service, its options and the shapes it speaks.
export { EventStoreService, MAX_APPEND_BATCH, resolveEventStoreOptions } from "./event-store-service.js";
export type { AppendOptions, HistoryOptions, ReconstructOptions, StoreConfig } from "./event-store-service.js";
export { deepMerge, defaultReducer, isJsonObject } from "./reducer.js";
export type { JsonObject, JsonValue, Reducer, ReducedEvent } from "./reducer.js";
export { formatInstant, parseInstant } from "./bitemporal.js";
export type { Reconstruction, ReplayOptions } from "./snapshots.js";
export { EventSubscription, eventStoreKey } from "./subscription.js";
export type { EventSink, SubscriptionFilter } from "./subscription.js";
export { DEFAULT_EVENT_STORE_OPTIONS } from "./types.js";
export type {
  AggregateHistory,
  AppendedEvent,
  EventPage,
  EventQuery,
  EventStoreOptions,
  EventStoreStats,
  ExpectedVersion,
  NewEvent,
} from "./types.js";
export type { EventFilter, EventStoreRecord, SnapshotRecord, StoredEvent } from "../../storage/queries/event-store.js";
