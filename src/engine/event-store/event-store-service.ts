// Event stores: append with expected versions, corrections, bi-temporal queries, reconstruction, snapshots, subscriptions.
import { BadRequestError, NotFoundError } from "../../core/errors.js";
import { checkName } from "../../core/names.js";
import type { Tx } from "../../storage/index.js";
import type { EventStoreRecord, SnapshotRecord, StoredEvent } from "../../storage/queries/event-store.js";
import type { EngineContext } from "../context.js";
import { appendInTx, type AppendInput } from "./append.js";
import { reconstructInTx, takeSnapshotInTx, type Reconstruction, type ReplayOptions } from "./snapshots.js";
import { EventSubscription, eventStoreTopic, type SubscriptionFilter } from "./subscription.js";
import {
  DEFAULT_EVENT_STORE_OPTIONS,
  type AggregateHistory,
  type AppendedEvent,
  type EventPage,
  type EventQuery,
  type EventStoreOptions,
  type EventStoreStats,
  type ExpectedVersion,
  type NewEvent,
} from "./types.js";

/** The most events one append may carry. */
export const MAX_APPEND_BATCH = 1000;

export interface AppendOptions {
  /** Applies to the first event of each aggregate that names no expected version of its own. */
  expectedVersion?: ExpectedVersion;
  /** How the request names its events for errors: `events/3/` for a batch; `` for a single event. */
  fieldPrefix?: (index: number) => string;
  /** How the request names the expected version (`expectedVersion`, `expected_version`). */
  expectedField?: string;
}

export interface ReconstructOptions extends ReplayOptions {
  /** Reconstruct as of a transaction time: only events recorded by then. */
  asOfTransactionTime?: number;
  /** Store the result as a snapshot (only for the current state). */
  updateSnapshot?: boolean;
}

export interface HistoryOptions {
  fromVersion: number;
  limit: number;
  asOfTransactionTime?: number;
}

export interface StoreConfig {
  /** Snapshot every this many events; null follows the server-wide default, 0 turns snapshots off. */
  snapshotEvery?: number | null;
}

/** Validates options and fills defaults. */
export function resolveEventStoreOptions(input: Partial<EventStoreOptions> = {}): EventStoreOptions {
  const options = { ...DEFAULT_EVENT_STORE_OPTIONS, ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) };
  if (!Number.isSafeInteger(options.snapshotEvery) || options.snapshotEvery < 0) {
    throw new BadRequestError("snapshotEvery must be an integer of at least 0", { field: "snapshotEvery" });
  }
  return options;
}

/** SQLite and PostgreSQL both say "unique" when a constraint refused a duplicate key. */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}

async function requireStore(tx: Tx, namespace: string, name: string): Promise<EventStoreRecord> {
  const store = await tx.events.getStore(namespace, name);
  if (!store) throw new NotFoundError(`event store '${name}' does not exist`, { field: "eventStoreName" });
  return store;
}

export class EventStoreService {
  private options: EventStoreOptions = DEFAULT_EVENT_STORE_OPTIONS;

  constructor(private readonly ctx: EngineContext) {}

  /** Server-wide defaults (the snapshot interval of stores that set none). */
  get defaults(): EventStoreOptions {
    return this.options;
  }

  /** Changes the server-wide defaults; validated like every option bag. */
  setDefaults(options: Partial<EventStoreOptions>): EventStoreOptions {
    this.options = resolveEventStoreOptions({ ...this.options, ...options });
    return this.options;
  }

  /** Creates a store (or changes an existing one's settings); answers it and whether it was new. */
  async configure(namespace: string, name: string, config: StoreConfig): Promise<{ store: EventStoreRecord; created: boolean }> {
    checkName(name, "eventStoreName");
    const every = config.snapshotEvery;
    if (every !== undefined && every !== null && (!Number.isSafeInteger(every) || every < 0)) {
      throw new BadRequestError("snapshotEvery must be an integer of at least 0, or null", { field: "snapshotEvery" });
    }
    return this.ctx.store.write(async (tx) => {
      const existing = await tx.events.getStore(namespace, name, true);
      // Another node may create it between the look and the insert: then it is configured here like an existing one.
      const made = existing ? undefined : await tx.events.createStore(namespace, name, every ?? null, this.ctx.clock.now());
      const store = existing ?? made!.store;
      const created = made?.inserted ?? false;
      if (!created && every !== undefined) {
        await tx.events.setSnapshotEvery(store.id, every);
        store.snapshotEvery = every;
      }
      return { store, created };
    });
  }

  /**
   * Appends events as one atomic unit (the store is created when missing). Each event's expected version is
   * checked against its aggregate as it stands, earlier events of the batch included; a mismatch is a 409 that
   * carries `currentVersion`. An event id that is already stored answers the stored event with `duplicate`.
   */
  async append(namespace: string, name: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<AppendedEvent[]> {
    checkName(name, "eventStoreName");
    if (events.length === 0) throw new BadRequestError("at least one event is required", { field: "events" });
    if (events.length > MAX_APPEND_BATCH) {
      throw new BadRequestError(`at most ${MAX_APPEND_BATCH} events per append`, { field: "events" });
    }
    const input = (): AppendInput => ({
      namespace,
      name,
      events,
      ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
      now: this.ctx.clock.now(),
      defaultSnapshotEvery: this.options.snapshotEvery,
      fieldPrefix: options.fieldPrefix ?? ((i) => `events/${i}/`),
      ...(options.expectedField === undefined ? {} : { expectedField: options.expectedField }),
    });
    let outcome;
    try {
      outcome = await this.ctx.store.write((tx) => appendInTx(tx, input()));
    } catch (error) {
      // The store row lock makes this rare; if a unique key still refused a version or an event id, run the append
      // once more against what committed: it then answers a 409 or a duplicate, as a serial run would have.
      if (!isUniqueViolation(error)) throw error;
      outcome = await this.ctx.store.write((tx) => appendInTx(tx, input()));
    }
    if (outcome.stored > 0) this.ctx.changed(namespace, eventStoreTopic(name));
    return outcome.results;
  }

  /** Appends a correction of `eventId`: a new version of its aggregate that supersedes it in valid-time reads. */
  async correct(
    namespace: string,
    name: string,
    eventId: string,
    correction: Omit<NewEvent, "correctionOf" | "aggregateId">,
  ): Promise<AppendedEvent> {
    await this.store(namespace, name);
    const [result] = await this.append(namespace, name, [{ ...correction, correctionOf: eventId }], {
      fieldPrefix: () => "",
    });
    return result!;
  }

  /** The store's record; 404 when it does not exist. */
  async store(namespace: string, name: string): Promise<EventStoreRecord> {
    return this.ctx.store.read((tx) => requireStore(tx, namespace, name));
  }

  /** Events matching the query in position order, with whether more follow the page. */
  async query(namespace: string, name: string, query: EventQuery): Promise<EventPage> {
    const { limit, offset, ...filter } = query;
    if (filter.fromTime !== undefined && filter.toTime !== undefined && filter.fromTime > filter.toTime) {
      throw new BadRequestError("fromTime must not be later than toTime", { field: "fromTime" });
    }
    return this.ctx.store.read(async (tx) => {
      const store = await requireStore(tx, namespace, name);
      const rows = await tx.events.query(store.id, filter, limit + 1, offset);
      return { events: rows.slice(0, limit), hasMore: rows.length > limit };
    });
  }

  async get(namespace: string, name: string, eventId: string): Promise<StoredEvent> {
    return this.ctx.store.read(async (tx) => {
      const store = await requireStore(tx, namespace, name);
      const event = await tx.events.findEvent(store.id, eventId);
      if (!event) throw new NotFoundError(`event '${eventId}' does not exist in '${name}'`, { field: "eventId" });
      return event;
    });
  }

  async stats(namespace: string, name: string): Promise<EventStoreStats> {
    return this.ctx.store.read(async (tx) => {
      const store = await requireStore(tx, namespace, name);
      return {
        eventStoreName: name,
        ...(await tx.events.stats(store.id)),
        lastPosition: store.lastPosition,
        snapshotEvery: store.snapshotEvery ?? this.options.snapshotEvery,
      };
    });
  }

  /** An aggregate's events in version order from `fromVersion`; 404 when it has none. */
  async history(namespace: string, name: string, aggregateId: string, options: HistoryOptions): Promise<AggregateHistory> {
    return this.ctx.store.read(async (tx) => {
      const store = await requireStore(tx, namespace, name);
      const head = await tx.events.head(store.id, aggregateId);
      if (!head) throw new NotFoundError(`aggregate '${aggregateId}' has no events in '${name}'`, { field: "aggregateId" });
      const current =
        options.asOfTransactionTime === undefined
          ? head.version
          : await tx.events.versionAt(store.id, aggregateId, options.asOfTransactionTime);
      const rows = await tx.events.aggregateEvents(store.id, aggregateId, options.fromVersion, current, options.limit + 1);
      return {
        aggregateId,
        aggregateType: head.aggregateType,
        currentVersion: current,
        events: rows.slice(0, options.limit),
        hasMore: rows.length > options.limit,
      };
    });
  }

  /**
   * An aggregate's state: the newest snapshot at or below the version asked for plus the events after it, or a
   * full replay. As of a version, as of a transaction time (what had been recorded), or valid at a business time.
   */
  async reconstruct(namespace: string, name: string, aggregateId: string, options: ReconstructOptions = {}): Promise<Reconstruction> {
    const historical =
      options.toVersion !== undefined || options.asOfTransactionTime !== undefined || options.validAt !== undefined;
    if (options.updateSnapshot && historical) {
      throw new BadRequestError("snapshots are only taken of the current state", { field: "updateSnapshots" });
    }
    const work = async (tx: Tx) => {
      const store = await requireStore(tx, namespace, name);
      let toVersion = options.toVersion;
      if (options.asOfTransactionTime !== undefined) {
        const known = await tx.events.versionAt(store.id, aggregateId, options.asOfTransactionTime);
        toVersion = toVersion === undefined ? known : Math.min(toVersion, known);
      }
      const result = await reconstructInTx(tx, store.id, aggregateId, { ...options, ...(toVersion === undefined ? {} : { toVersion }) });
      if (!result) throw new NotFoundError(`aggregate '${aggregateId}' has no events in '${name}'`, { field: "aggregateId" });
      if (options.updateSnapshot && result.version > 0 && result.snapshotVersion !== result.version) {
        await takeSnapshotInTx(tx, store.id, aggregateId, this.ctx.clock.now());
      }
      return result;
    };
    return options.updateSnapshot ? this.ctx.store.write(work) : this.ctx.store.read(work);
  }

  /** Takes a snapshot of the aggregate's current state now. */
  async snapshot(namespace: string, name: string, aggregateId: string): Promise<SnapshotRecord> {
    return this.ctx.store.write(async (tx) => {
      const store = await requireStore(tx, namespace, name);
      const snapshot = await takeSnapshotInTx(tx, store.id, aggregateId, this.ctx.clock.now());
      if (!snapshot) throw new NotFoundError(`aggregate '${aggregateId}' has no events in '${name}'`, { field: "aggregateId" });
      return snapshot;
    });
  }

  /**
   * Opens a subscription: events after `afterPosition` (default: the current end, so only new ones), then live.
   * 404 when the store does not exist. Run it with `subscription.run(sink, signal)`.
   */
  async subscribe(namespace: string, name: string, afterPosition?: number, filter: SubscriptionFilter = {}): Promise<EventSubscription> {
    const store = await this.store(namespace, name);
    return new EventSubscription(this.ctx, store, afterPosition ?? store.lastPosition, filter);
  }
}
