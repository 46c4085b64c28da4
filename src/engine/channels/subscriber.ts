// One subscriber of a channel: a bounded queue of events that waits for its connection to take them.
import type { QueuedEvent, SubscriptionEndReason } from "./types.js";

/** How the hub reaches a subscriber's transport. Called synchronously; must not throw. */
export interface SubscriberListener {
  /** Events are waiting: `take()` them. Never called from within `subscribe()` itself. */
  onEvents(): void;
  /** The heartbeat interval passed: a transport may show the connection is alive. */
  onHeartbeat(): void;
  /**
   * Called once when the subscription ends; the queue is already emptied. For `slow`, `notice`
   * is an `error` event telling the client why it was dropped, to send before closing.
   */
  onEnd(reason: SubscriptionEndReason, notice?: QueuedEvent): void;
}

/** A subscription as its holder sees it. */
export interface ChannelSubscription {
  /** `client_<n>` */
  readonly id: string;
  readonly channelId: string;
  /** The most events that may wait before the subscriber counts as too slow. */
  readonly capacity: number;
  /** Events waiting to be taken. */
  readonly pending: number;
  /** Set once the subscription ended. */
  readonly ended: SubscriptionEndReason | undefined;
  /** Takes the oldest waiting event, if any. */
  take(): QueuedEvent | undefined;
  /** Leaves the channel; waiting events are discarded. Safe to call more than once. */
  unsubscribe(): void;
}

/** What a subscriber needs from its hub. */
export interface SubscriberHooks {
  /** Removes the subscriber from its channel. */
  detach(subscriber: Subscriber): void;
  /** The `error` event for a subscriber dropped for being too slow. */
  slowNotice(subscriber: Subscriber): QueuedEvent;
}

export class Subscriber implements ChannelSubscription {
  private queue: QueuedEvent[] = [];
  private endReason: SubscriptionEndReason | undefined;

  constructor(
    readonly id: string,
    readonly channelId: string,
    readonly capacity: number,
    private readonly listener: SubscriberListener,
    private readonly hooks: SubscriberHooks,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  get ended(): SubscriptionEndReason | undefined {
    return this.endReason;
  }

  take(): QueuedEvent | undefined {
    return this.queue.shift();
  }

  unsubscribe(): void {
    this.end("unsubscribed");
  }

  /** Queues an event without telling the listener (for what must be waiting before the transport is ready). */
  prime(item: QueuedEvent): void {
    if (this.endReason === undefined) this.queue.push(item);
  }

  /** Queues an event; a subscriber whose queue is already full is dropped instead, so memory stays bounded. */
  offer(item: QueuedEvent): void {
    if (this.endReason !== undefined) return;
    if (this.queue.length >= this.capacity) {
      this.end("slow");
      return;
    }
    this.queue.push(item);
    this.listener.onEvents();
  }

  heartbeat(): void {
    if (this.endReason === undefined) this.listener.onHeartbeat();
  }

  end(reason: SubscriptionEndReason): void {
    if (this.endReason !== undefined) return;
    this.endReason = reason;
    this.queue = [];
    this.hooks.detach(this);
    this.listener.onEnd(reason, reason === "slow" ? this.hooks.slowNotice(this) : undefined);
  }
}
