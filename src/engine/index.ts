// The broker: one object that owns the services over a store, the wake-up hub and the background sweep.
import { systemClock, type Clock } from "../core/clock.js";
import type { Store } from "../storage/index.js";
import { DEFAULT_ENGINE_OPTIONS, type EngineContext, type EngineOptions } from "./context.js";
import { DeadLettersService } from "./dead-letter-service.js";
import { EventStoreService } from "./event-store/index.js";
import { GroupsService } from "./groups.js";
import { Hub } from "./hub.js";
import { MembershipService } from "./membership/index.js";
import { PushService } from "./push/index.js";
import { StreamsService } from "./streams.js";
import { WindowsService } from "./windows/index.js";

export type { EngineOptions } from "./context.js";
export type { Delivery } from "./delivery.js";
export type { GroupInfo, GroupReadOptions, AutoClaimResult } from "./groups.js";
export type { StreamInfo, GroupSummary, AppendOptions, TrimBy } from "./streams.js";
export { DEAD_HEADERS } from "./dead-letters.js";

export class Engine {
  readonly streams: StreamsService;
  readonly groups: GroupsService;
  readonly membership: MembershipService;
  readonly deadLetters: DeadLettersService;
  readonly eventStore: EventStoreService;
  readonly push: PushService;
  readonly windows: WindowsService;
  readonly hub = new Hub();
  readonly clock: Clock;
  private readonly closer = new AbortController();
  private readonly sweeper: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    readonly store: Store,
    options: EngineOptions = {},
  ) {
    const hub = this.hub;
    this.clock = options.clock ?? systemClock;
    const ctx: EngineContext = {
      store,
      hub,
      clock: this.clock,
      maxBlockMs: options.maxBlockMs ?? DEFAULT_ENGINE_OPTIONS.maxBlockMs,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_ENGINE_OPTIONS.pollIntervalMs,
      closing: this.closer.signal,
      changed(namespace, stream) {
        const key = Hub.key(namespace, stream);
        hub.notify(key);
        store.announce([key]);
      },
    };
    this.streams = new StreamsService(ctx);
    this.groups = new GroupsService(ctx, (block) => this.streams.blockFor(block));
    this.membership = new MembershipService(ctx);
    this.deadLetters = new DeadLettersService(ctx);
    this.eventStore = new EventStoreService(ctx);
    this.push = new PushService(this.streams, this.groups, this.membership, this.clock);
    this.windows = new WindowsService(ctx);
    // "*" follows a reconnect of the wake-up channel: anything may have changed.
    this.unsubscribe = store.onAnnounce((key) => (key === "*" ? hub.wakeAll() : hub.notify(key)));
    this.sweeper = setInterval(() => {
      this.streams.sweep().catch(() => undefined);
    }, options.sweepIntervalMs ?? DEFAULT_ENGINE_OPTIONS.sweepIntervalMs);
    this.sweeper.unref();
  }

  /** Ends blocked reads now (they answer with what they have); the store stays open. */
  interrupt(): void {
    if (this.closer.signal.aborted) return;
    this.closer.abort();
    clearInterval(this.sweeper);
    this.unsubscribe();
    this.hub.wakeAll();
  }

  /** Ends push sessions and blocked reads, stops the sweep and closes the store once in-flight writes are committed. */
  async close(): Promise<void> {
    this.interrupt();
    await this.push.close();
    await this.store.close();
  }
}
