// Live subscriptions to an event store: catch up from a position, then follow new events, with no gap between.
import type { EventStoreRecord, StoredEvent } from "../../storage/queries/event-store.js";
import { waitForChange, type EngineContext } from "../context.js";
import { Hub } from "../hub.js";

/** Events one read of a subscription fetches. */
const SUBSCRIPTION_BATCH = 500;

/** The hub key of an event store; `@` cannot start a stream name, so it never meets a stream's key. */
export function eventStoreKey(namespace: string, name: string): string {
  return Hub.key(namespace, eventStoreTopic(name));
}

/** What `EngineContext.changed` is told when an event store grew. */
export function eventStoreTopic(name: string): string {
  return `@eventstore/${name}`;
}

export interface SubscriptionFilter {
  eventType?: string;
  aggregateId?: string;
}

/** Where a subscription's events go. Each call is awaited before the next read, which is the back-pressure. */
export interface EventSink {
  /** A batch of events in position order (only those matching the filter; never empty). */
  events(events: StoredEvent[]): Promise<void> | void;
  /** Called once, when the catch-up reached the end of the log: what follows is live. */
  caughtUp(position: number): Promise<void> | void;
}

export class EventSubscription {
  constructor(
    private readonly ctx: EngineContext,
    readonly store: EventStoreRecord,
    /** The position after which events are delivered. */
    readonly startAfter: number,
    private readonly filter: SubscriptionFilter = {},
  ) {}

  private matches(e: StoredEvent): boolean {
    return (
      (this.filter.eventType === undefined || e.eventType === this.filter.eventType) &&
      (this.filter.aggregateId === undefined || e.aggregateId === this.filter.aggregateId)
    );
  }

  /**
   * Delivers events until `signal` aborts or the engine closes. Positions are dense and become visible in order
   * (appends to a store hold its row lock until commit), so reading "after the last position seen" never skips
   * one; the hub version is noted before each read, so an append committed during a read still wakes the wait.
   */
  async run(sink: EventSink, signal: AbortSignal): Promise<void> {
    const key = eventStoreKey(this.store.namespace, this.store.name);
    let cursor = this.startAfter;
    let live = false;
    while (!signal.aborted && !this.ctx.closing.aborted) {
      const since = this.ctx.hub.version(key);
      const batch = await this.ctx.store.read((tx) => tx.events.after(this.store.id, cursor, SUBSCRIPTION_BATCH));
      if (batch.length > 0) {
        cursor = batch[batch.length - 1]!.position;
        const wanted = batch.filter((e) => this.matches(e));
        if (wanted.length > 0) await sink.events(wanted);
        continue;
      }
      if (!live) {
        live = true;
        await sink.caughtUp(cursor);
      }
      await waitForChange(this.ctx, key, Date.now() + this.ctx.maxBlockMs, null, since, signal);
    }
  }
}
