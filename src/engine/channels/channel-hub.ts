// Broadcast channels: named, in-memory, fire-and-forget fan-out to whoever is subscribed right now.
import { systemClock, type Clock } from "../../core/clock.js";
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from "../../core/errors.js";
import { checkName } from "../../core/names.js";
import { ChannelGenerator } from "./generator.js";
import { DEFAULT_CHANNELS, isDefaultChannel, sampleSource, type Random } from "./sample-events.js";
import { Subscriber, type ChannelSubscription, type SubscriberListener } from "./subscriber.js";
import type { ChannelInfo, EventData, EventInput, GeneratorState, QueuedEvent } from "./types.js";

export interface ChannelHubOptions {
  /** Events a subscriber may have waiting; one more and it is dropped as too slow. */
  queueSize?: number;
  /** Milliseconds between keep-alive ticks to every subscriber; 0 turns them off. */
  heartbeatMs?: number;
  /** Milliseconds between two events of a generator. */
  generatorIntervalMs?: number;
  /** Starts the default channels' sample generators at once (off for production servers). */
  demo?: boolean;
  clock?: Clock;
  /** Source of randomness for sample events. */
  random?: Random;
}

export interface ResolvedChannelHubOptions {
  queueSize: number;
  heartbeatMs: number;
  generatorIntervalMs: number;
  demo: boolean;
  clock: Clock;
  random: Random;
}

export const DEFAULT_CHANNEL_HUB_OPTIONS = {
  queueSize: 100,
  heartbeatMs: 15_000,
  generatorIntervalMs: 2_000,
  demo: false,
} as const;

function integer(value: number | undefined, fallback: number, field: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new BadRequestError(`${field} must be an integer of at least ${min}`, { field });
  return value;
}

export function resolveChannelHubOptions(options: ChannelHubOptions = {}): ResolvedChannelHubOptions {
  const d = DEFAULT_CHANNEL_HUB_OPTIONS;
  return {
    queueSize: integer(options.queueSize, d.queueSize, "queueSize", 1),
    heartbeatMs: integer(options.heartbeatMs, d.heartbeatMs, "heartbeatMs", 0),
    generatorIntervalMs: integer(options.generatorIntervalMs, d.generatorIntervalMs, "generatorIntervalMs", 1),
    demo: options.demo ?? d.demo,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
}

interface Channel {
  readonly id: string;
  readonly subscribers: Set<Subscriber>;
  generator: ChannelGenerator | undefined;
}

const IDLE: GeneratorState = { running: false, paused: false };

export class ChannelHub {
  readonly options: ResolvedChannelHubOptions;
  private readonly channels = new Map<string, Channel>();
  private readonly heartbeat: NodeJS.Timeout | undefined;
  private lastEventId = 0;
  private lastClientId = 0;
  private closed = false;

  constructor(options: ChannelHubOptions = {}) {
    this.options = resolveChannelHubOptions(options);
    for (const id of DEFAULT_CHANNELS) this.channel(id);
    if (this.options.heartbeatMs > 0) {
      this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
      this.heartbeat.unref();
    }
    if (this.options.demo) for (const id of DEFAULT_CHANNELS) this.start(id);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Now, in Unix seconds, by the hub's clock. */
  timestamp(): number {
    return Math.floor(this.options.clock.now() / 1000);
  }

  /**
   * Joins a channel, creating it if needed. A `connection` event is already waiting in the
   * subscription when this returns; the listener is told only of what arrives later.
   */
  subscribe(channelId: string, listener: SubscriberListener): ChannelSubscription {
    this.assertOpen();
    const channel = this.channel(checkName(channelId, "stream_id"));
    const sub = new Subscriber(`client_${++this.lastClientId}`, channel.id, this.options.queueSize, listener, {
      detach: (s) => this.detach(channel, s),
      slowNotice: (s) => this.slowNotice(s),
    });
    channel.subscribers.add(sub);
    sub.prime(
      this.queued(this.nextEventId(), channel.id, {
        type: "connection",
        message: `Connected to stream '${channel.id}'`,
        data: { client_id: sub.id },
      }),
    );
    return sub;
  }

  /** Sends an event to one channel's current subscribers; answers how many it reached. */
  broadcast(channelId: string, input: EventInput): number {
    this.assertOpen();
    checkName(channelId, "stream_id");
    const channel = this.channels.get(channelId);
    return channel ? this.fanOut(channel, this.queued(this.nextEventId(), channelId, input)) : 0;
  }

  /** Sends an event (one id) to every channel; answers how many subscribers it reached. */
  broadcastToAll(input: EventInput): number {
    this.assertOpen();
    const id = this.nextEventId();
    let reached = 0;
    for (const channel of [...this.channels.values()]) reached += this.fanOut(channel, this.queued(id, channel.id, input));
    return reached;
  }

  list(): ChannelInfo[] {
    return [...this.channels.values()].map((c) => this.describe(c));
  }

  info(channelId: string): ChannelInfo | undefined {
    const channel = this.channels.get(channelId);
    return channel ? this.describe(channel) : undefined;
  }

  /** Starts (or restarts) a channel's generator, creating the channel if needed. */
  start(channelId: string): GeneratorState {
    this.assertOpen();
    const channel = this.channel(checkName(channelId, "stream_id"));
    channel.generator ??= new ChannelGenerator(
      sampleSource(channel.id, this.options.random),
      (event) => {
        if (!this.closed) this.broadcast(channel.id, event);
      },
      this.options.generatorIntervalMs,
    );
    channel.generator.start();
    this.broadcast(channel.id, {
      type: "stream_started",
      message: `Stream '${channel.id}' started`,
      data: { interval_ms: this.options.generatorIntervalMs },
    });
    return channel.generator.state;
  }

  /** Stops and removes a channel's generator; a channel other than the defaults goes too once nobody listens. */
  stop(channelId: string): GeneratorState {
    const channel = this.withGenerator(channelId, "stop");
    channel.generator!.stop();
    channel.generator = undefined;
    this.dropIfUnused(channel);
    return IDLE;
  }

  pause(channelId: string): GeneratorState {
    const channel = this.withGenerator(channelId, "pause");
    channel.generator!.pause();
    return channel.generator!.state;
  }

  resume(channelId: string): GeneratorState {
    const channel = this.withGenerator(channelId, "resume");
    channel.generator!.resume();
    return channel.generator!.state;
  }

  /** Stops every generator and the heartbeat, and ends every subscription (`closed`). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const channel of this.channels.values()) {
      channel.generator?.stop();
      for (const sub of [...channel.subscribers]) sub.end("closed");
    }
    this.channels.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new UnavailableError("the broadcast channels are shut down");
  }

  private channel(id: string): Channel {
    let channel = this.channels.get(id);
    if (!channel) {
      channel = { id, subscribers: new Set(), generator: undefined };
      this.channels.set(id, channel);
    }
    return channel;
  }

  private withGenerator(channelId: string, action: string): Channel {
    this.assertOpen();
    const channel = this.channels.get(channelId);
    if (!channel) throw new NotFoundError(`no stream '${channelId}'`, { field: "stream_id" });
    if (!channel.generator) {
      throw new ConflictError(`stream '${channelId}' has no running generator to ${action}; start it first`, { field: "stream_id" });
    }
    return channel;
  }

  private nextEventId(): string {
    return `evt_${++this.lastEventId}`;
  }

  private queued(id: string, channelId: string, input: EventInput): QueuedEvent {
    const event: EventData = {
      id,
      type: input.type,
      message: input.message,
      ...(input.data === undefined ? {} : { data: input.data }),
      timestamp: this.timestamp(),
      stream_id: channelId,
    };
    return { event, json: JSON.stringify(event) };
  }

  private fanOut(channel: Channel, item: QueuedEvent): number {
    // A copy, since a subscriber dropped for being slow leaves the set mid-loop.
    const subscribers = [...channel.subscribers];
    for (const sub of subscribers) sub.offer(item);
    return subscribers.length;
  }

  private slowNotice(sub: Subscriber): QueuedEvent {
    return this.queued(this.nextEventId(), sub.channelId, {
      type: "error",
      message: `Disconnected: more than ${sub.capacity} events were waiting for this client on stream '${sub.channelId}'`,
      data: { code: "RUNNEL_SLOW_CONSUMER", client_id: sub.id, queue_size: sub.capacity },
    });
  }

  private beat(): void {
    for (const channel of this.channels.values()) for (const sub of channel.subscribers) sub.heartbeat();
  }

  private describe(channel: Channel): ChannelInfo {
    return {
      id: channel.id,
      clients: channel.subscribers.size,
      active: true,
      generator: channel.generator ? channel.generator.state : { ...IDLE },
    };
  }

  private detach(channel: Channel, sub: Subscriber): void {
    channel.subscribers.delete(sub);
    this.dropIfUnused(channel);
  }

  private dropIfUnused(channel: Channel): void {
    if (this.closed || isDefaultChannel(channel.id)) return;
    if (channel.subscribers.size === 0 && !channel.generator) this.channels.delete(channel.id);
  }
}

/** Makes the hub a server owns; call `close()` on shutdown. */
export function createChannelHub(options: ChannelHubOptions = {}): ChannelHub {
  return new ChannelHub(options);
}
