// The shapes broadcast channels deal in: the event a subscriber receives and what describes a channel.

/** One event as subscribers receive it (seed 001's EventData). */
export interface EventData {
  /** `evt_<n>`; grows with every event the hub publishes. */
  id: string;
  type: string;
  message: string;
  /** Left out when the publisher sent none. */
  data?: Record<string, unknown>;
  /** Unix seconds. */
  timestamp: number;
  /** The channel the event was delivered on. */
  stream_id: string;
}

/** What a publisher supplies; the hub adds the id, the timestamp and the channel. */
export interface EventInput {
  type: string;
  message: string;
  data?: Record<string, unknown> | undefined;
}

/** An event with its JSON text, serialised once for every subscriber that gets it. */
export interface QueuedEvent {
  readonly event: EventData;
  readonly json: string;
}

export interface GeneratorState {
  running: boolean;
  paused: boolean;
}

export interface ChannelInfo {
  id: string;
  clients: number;
  /** True while the channel exists: the default channels always, others while they have a subscriber or a generator. */
  active: boolean;
  generator: GeneratorState;
}

/** Why a subscription ended: the client left, it fell too far behind, or the hub shut down. */
export type SubscriptionEndReason = "unsubscribed" | "slow" | "closed";
