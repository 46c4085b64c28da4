// The bi-temporal event store over HTTP: seed 000's /api/v1/eventstores/{setupId}/{eventStoreName} routes
// (append, corrections, queries, aggregates, snapshots, stats) and seed 003's /api/v1/event-sourcing routes.
import { errorFromObject } from "./errors.js";
import { openEventSource } from "./event-source.js";
import { path, type HttpTransport, type Query } from "./http.js";

/**
 * The version an append expects its aggregate to be at: a number, `any`, `no_stream` (new aggregate) or
 * `stream_exists`. A mismatch is a 409 (`ConflictError`) carrying `currentVersion`.
 *
 * @example
 * ```ts
 * const expected: ExpectedVersion = "no_stream";
 * ```
 */
export type ExpectedVersion = number | "any" | "no_stream" | "stream_exists";

/**
 * An instant: ISO 8601 text or milliseconds since the epoch.
 *
 * @example
 * ```ts
 * const validFrom: Instant = "2026-01-15T09:00:00Z";
 * ```
 */
export type Instant = string | number;

/**
 * One event to append.
 *
 * @example
 * ```ts
 * const e: NewStoredEvent = { aggregateId: "order-1", aggregateType: "Order", eventType: "OrderPlaced", eventData: { total: 42 } };
 * ```
 */
export interface NewStoredEvent<T = unknown> {
  eventType: string;
  eventData: T;
  eventId?: string;
  aggregateId?: string;
  aggregateType?: string;
  metadata?: Record<string, unknown>;
  correlationId?: string | null;
  causationId?: string | null;
  /** When the fact became true (valid time); default: now. */
  validFrom?: Instant;
  validTo?: Instant | null;
  expectedVersion?: ExpectedVersion;
}

/**
 * A stored event.
 *
 * @example
 * ```ts
 * const [first]: StoredEvent[] = (await client.eventStores.query("shop", "orders", { aggregateId: "order-1" })).events;
 * console.log(first?.version, first?.validFrom, first?.transactionTime);
 * ```
 */
export interface StoredEvent<T = unknown> {
  id: string;
  eventType: string;
  eventData: T;
  validFrom: string;
  validTo: string | null;
  /** When Runnel recorded it (transaction time). */
  transactionTime: string;
  correlationId: string | null;
  causationId: string | null;
  version: number;
  metadata: Record<string, unknown>;
  aggregateId: string;
  aggregateType: string | null;
  position: number;
  correctionOf: string | null;
  correctionReason: string | null;
}

/**
 * Where an appended event landed.
 *
 * @example
 * ```ts
 * const { eventId, version }: AppendedEvent = await client.eventStores.append("shop", "orders", event);
 * ```
 */
export interface AppendedEvent {
  eventId: string;
  aggregateId: string;
  version: number;
  position: number;
  transactionTime: string;
  /** True when the event id was already stored, so nothing was written. */
  duplicate: boolean;
}

/**
 * Filters of an event query (seed 000's query parameters).
 *
 * @example
 * ```ts
 * const filter: EventQuery = { eventType: "OrderPlaced", fromTime: "2026-01-01T00:00:00Z", limit: 50, validAt: "2026-02-01T00:00:00Z" };
 * ```
 */
export interface EventQuery {
  eventType?: string;
  fromTime?: string;
  toTime?: string;
  limit?: number;
  offset?: number;
  correlationId?: string;
  causationId?: string;
  aggregateId?: string;
  aggregateType?: string;
  /** What was known then (transaction time). */
  asOfTransactionTime?: string;
  /** What was true then (valid time), corrections applied. */
  validAt?: string;
}

/**
 * A page of events.
 *
 * @example
 * ```ts
 * const page: EventPage = await client.eventStores.query("shop", "orders", { limit: 100 });
 * if (page.hasMore) console.log("next page at offset", page.offset + page.eventCount);
 * ```
 */
export interface EventPage<T = unknown> {
  eventCount: number;
  limit: number;
  offset: number;
  hasMore: boolean;
  filters: Record<string, unknown>;
  events: StoredEvent<T>[];
}

/**
 * An aggregate's state folded from its events (deep merge of each event's data; `null` deletes a key).
 *
 * @example
 * ```ts
 * const { state, currentVersion }: AggregateState = await client.eventStores.state("shop", "orders", "order-1");
 * ```
 */
export interface AggregateState<T = unknown> {
  aggregateId: string;
  aggregateType: string | null;
  currentVersion: number;
  state: T;
  lastEventTimestamp: string | null;
  snapshotVersion: number | null;
  eventsReplayed: number;
}

type Envelope<T> = T & { message: string; eventStoreName: string; setupId: string; timestamp: number };

/**
 * Where a live subscription starts and what it keeps.
 *
 * @example
 * ```ts
 * const options: EventSubscribeOptions = { fromPosition: 1, aggregateId: "order-1", onError: (e) => console.warn(e.message) };
 * ```
 */
export interface EventSubscribeOptions {
  /** The first position to deliver (1 or 0: from the beginning); by default only events appended from now on. */
  fromPosition?: number;
  eventType?: string;
  aggregateId?: string;
  /** Errors the server reports on the stream, and lost connections (the EventSource then retries by itself). */
  onError?: (error: Error) => void;
}

/**
 * A live subscription to an event store.
 *
 * @example
 * ```ts
 * const sub: EventSubscription = client.eventStores.subscribe("shop", "orders", (e) => console.log(e.eventType));
 * sub.close();
 * ```
 */
export interface EventSubscription {
  /** The position of the last event delivered (0 before any). */
  readonly position: number;
  close(): void;
}

/**
 * The event store; reach it as `client.eventStores`. `setupId` is the namespace, `store` the event store's name.
 *
 * @example
 * ```ts
 * await client.eventStores.append("shop", "orders", { aggregateId: "order-1", eventType: "OrderPlaced", eventData: { total: 42 }, expectedVersion: "no_stream" });
 * const { state } = await client.eventStores.state("shop", "orders", "order-1");
 * ```
 */
export class EventStoresApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  private base(setupId: string, store: string): string {
    return path`/api/v1/eventstores/${setupId}/${store}`;
  }

  /**
   * Creates the event store or changes its settings: take a snapshot every `snapshotEvery` events (null: the
   * server's default).
   *
   * @example
   * ```ts
   * await client.eventStores.configure("shop", "orders", { snapshotEvery: 100 });
   * ```
   */
  configure(
    setupId: string,
    store: string,
    settings: { snapshotEvery?: number | null } = {},
  ): Promise<Envelope<{ snapshotEvery: number | null; effectiveSnapshotEvery: number; created: boolean }>> {
    return this.http.request("PUT", this.base(setupId, store), { body: settings });
  }

  /**
   * Appends one event.
   *
   * @example
   * ```ts
   * const { version } = await client.eventStores.append("shop", "orders", { aggregateId: "order-1", eventType: "OrderPaid", eventData: {}, expectedVersion: 1 });
   * ```
   */
  append(setupId: string, store: string, event: NewStoredEvent): Promise<Envelope<AppendedEvent>> {
    return this.http.request("POST", `${this.base(setupId, store)}/events`, { body: event });
  }

  /**
   * Appends several events as one unit, optionally checking the version of their (single) aggregate first.
   *
   * @example
   * ```ts
   * const { events } = await client.eventStores.appendBatch("shop", "orders", [placed, paid], { expectedVersion: "no_stream" });
   * ```
   */
  appendBatch(
    setupId: string,
    store: string,
    events: readonly NewStoredEvent[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<Envelope<{ eventCount: number; events: AppendedEvent[] }>> {
    return this.http.request("POST", `${this.base(setupId, store)}/events`, { body: { events, ...options } });
  }

  /**
   * Events matching the filters, oldest first.
   *
   * @example
   * ```ts
   * const { events } = await client.eventStores.query("shop", "orders", { aggregateId: "order-1" });
   * ```
   */
  query<T = unknown>(setupId: string, store: string, filter: EventQuery = {}): Promise<Envelope<EventPage<T>>> {
    return this.http.request("GET", `${this.base(setupId, store)}/events`, { query: filter as Query });
  }

  /**
   * One event by id.
   *
   * @example
   * ```ts
   * const { event } = await client.eventStores.get("shop", "orders", eventId);
   * ```
   */
  get<T = unknown>(setupId: string, store: string, eventId: string): Promise<Envelope<{ eventId: string; event: StoredEvent<T> }>> {
    return this.http.request("GET", `${this.base(setupId, store)}/events/${encodeURIComponent(eventId)}`);
  }

  /**
   * Records a correction of an event: a new event that takes its place for valid-time queries from now on.
   *
   * @example
   * ```ts
   * await client.eventStores.correct("shop", "orders", eventId, { eventData: { total: 40 }, correctionReason: "discount missed" });
   * ```
   */
  correct(
    setupId: string,
    store: string,
    eventId: string,
    correction: Omit<NewStoredEvent, "eventType" | "aggregateId" | "aggregateType"> & { eventType?: string; correctionReason?: string },
  ): Promise<Envelope<AppendedEvent & { correctionOf: string }>> {
    return this.http.request("POST", `${this.base(setupId, store)}/events/${encodeURIComponent(eventId)}/corrections`, { body: correction });
  }

  /**
   * Counts, time ranges and sizes of the event store.
   *
   * @example
   * ```ts
   * const { stats } = await client.eventStores.stats("shop", "orders");
   * console.log(stats.totalEvents, stats.aggregateCount);
   * ```
   */
  stats(setupId: string, store: string): Promise<Envelope<{ stats: Record<string, unknown> & { totalEvents: number; aggregateCount: number } }>> {
    return this.http.request("GET", `${this.base(setupId, store)}/stats`);
  }

  /**
   * An aggregate's events in version order.
   *
   * @example
   * ```ts
   * const { events, currentVersion } = await client.eventStores.history("shop", "orders", "order-1", { fromVersion: 2 });
   * ```
   */
  history<T = unknown>(
    setupId: string,
    store: string,
    aggregateId: string,
    options: { fromVersion?: number; limit?: number; asOfTransactionTime?: string } = {},
  ): Promise<Envelope<{ aggregateId: string; aggregateType: string | null; currentVersion: number; hasMore: boolean; events: StoredEvent<T>[] }>> {
    return this.http.request("GET", `${this.base(setupId, store)}/aggregates/${encodeURIComponent(aggregateId)}`, { query: options });
  }

  /**
   * An aggregate's state, at its latest version or as of a version, a transaction time or a valid time.
   *
   * @example
   * ```ts
   * const { state } = await client.eventStores.state<{ total: number }>("shop", "orders", "order-1", { version: 1 });
   * ```
   */
  state<T = unknown>(
    setupId: string,
    store: string,
    aggregateId: string,
    options: { version?: number; asOfTransactionTime?: string; validAt?: string; useSnapshots?: boolean } = {},
  ): Promise<Envelope<AggregateState<T>>> {
    return this.http.request("GET", `${this.base(setupId, store)}/aggregates/${encodeURIComponent(aggregateId)}/state`, { query: options });
  }

  /**
   * Takes a snapshot of the aggregate's current state, so later reconstructions start from it.
   *
   * @example
   * ```ts
   * const { version } = await client.eventStores.snapshot("shop", "orders", "order-1");
   * ```
   */
  snapshot(
    setupId: string,
    store: string,
    aggregateId: string,
  ): Promise<Envelope<{ aggregateId: string; aggregateType: string | null; version: number; createdAt: string }>> {
    return this.http.request("POST", `${this.base(setupId, store)}/aggregates/${encodeURIComponent(aggregateId)}/snapshots`);
  }

  /**
   * Follows the event store over Server-Sent Events: past events from `fromPosition`, then each new one as it is
   * appended. A dropped connection is retried by the EventSource itself, which resumes after the last position
   * delivered (`Last-Event-ID`), so nothing is skipped or repeated. Needs `EventSource` in the client options
   * (Node: the `eventsource` package) or a global one.
   *
   * @example
   * ```ts
   * const sub = client.eventStores.subscribe<{ total: number }>("shop", "orders", (event, position) => {
   *   console.log(position, event.eventType, event.eventData.total);
   * }, { fromPosition: 1 });
   * // later
   * sub.close();
   * ```
   */
  subscribe<T = unknown>(
    setupId: string,
    store: string,
    handler: (event: StoredEvent<T>, position: number) => void,
    options: EventSubscribeOptions = {},
  ): EventSubscription {
    const { onError, ...filters } = options;
    const source = openEventSource(this.http, this.http.urlOf(`${this.base(setupId, store)}/stream`, filters));
    let position = 0;
    source.addEventListener("message", (e) => {
      const data = typeof e.data === "string" ? (JSON.parse(e.data) as { type?: string; position: number; event: StoredEvent<T> }) : undefined;
      if (data?.type !== "event") return;
      position = data.position;
      handler(data.event, data.position);
    });
    source.addEventListener("error", (e) => {
      if (!onError) return;
      if (typeof e.data === "string") onError(errorFromObject(JSON.parse(e.data), "RUNNEL_INTERNAL", "the server reported an error"));
      else onError(new Error(`the event store stream of ${setupId}/${store} was interrupted${e.message ? `: ${e.message}` : ""}`));
    });
    return {
      get position() {
        return position;
      },
      close: () => source.close(),
    };
  }

  /**
   * Seed 003: appends an event to an aggregate (its type names the event store, namespace `default`).
   *
   * @example
   * ```ts
   * const { version } = await client.eventStores.appendToAggregate({ aggregate_id: "user-1", aggregate_type: "User", event_type: "UserCreated", event_data: { name: "Ada" }, expected_version: 0 });
   * ```
   */
  appendToAggregate(event: {
    aggregate_id: string;
    aggregate_type: string;
    event_type: string;
    event_data: unknown;
    expected_version?: ExpectedVersion | null;
    correlation_id?: string | null;
    causation_id?: string | null;
    metadata?: Record<string, unknown>;
    event_id?: string;
    valid_from?: Instant;
    valid_to?: Instant | null;
  }): Promise<{ event_id: string; message: string; aggregate_id: string; version: number; duplicate: boolean }> {
    return this.http.request("POST", "/api/v1/event-sourcing/append", { body: event });
  }

  /**
   * Seed 003: an aggregate's state, optionally as of a version or time.
   *
   * @example
   * ```ts
   * const { state, current_version } = await client.eventStores.reconstruct({ aggregate_id: "user-1", aggregate_type: "User" });
   * ```
   */
  reconstruct<T = unknown>(request: {
    aggregate_id: string;
    aggregate_type: string;
    update_snapshots?: boolean;
    use_snapshots?: boolean;
    as_of_version?: number;
    as_of_time?: Instant;
    valid_at?: Instant;
  }): Promise<{
    aggregate_id: string;
    aggregate_type: string;
    current_version: number;
    state: T;
    last_event_timestamp: string | null;
    snapshot_version: number | null;
    events_replayed: number;
  }> {
    return this.http.request("POST", "/api/v1/event-sourcing/reconstruct", { body: request });
  }
}
