// Broadcast channels (seed 001): the hub, its options, subscriptions, generators and the event shape.
export {
  ChannelHub,
  createChannelHub,
  resolveChannelHubOptions,
  DEFAULT_CHANNEL_HUB_OPTIONS,
  type ChannelHubOptions,
  type ResolvedChannelHubOptions,
} from "./channel-hub.js";
export type { ChannelSubscription, SubscriberListener } from "./subscriber.js";
export { DEFAULT_CHANNELS, type DefaultChannel, type Random } from "./sample-events.js";
export type { ChannelInfo, EventData, EventInput, GeneratorState, QueuedEvent, SubscriptionEndReason } from "./types.js";
