// runnel/client: the TypeScript SDK for Runnel servers (Node 20+ and browsers). Everything public is named here.
export { RunnelClient, type Health } from "./client.js";
export type { RunnelClientOptions } from "./options.js";
export type {
  FetchFunction,
  WebSocketConstructor,
  WebSocketLike,
  WebSocketMessageEventLike,
  WebSocketCloseEventLike,
  EventSourceConstructor,
  EventSourceLike,
  EventSourceEventLike,
  EventSourceInitLike,
  EventSourceFetchInitLike,
} from "./environment.js";

export type { StreamEntry, GroupEntry, AppendOptions, EntryInput, AppendResult, Priority, PriorityInput } from "./entry.js";
export { RawJson } from "./entry.js";
export {
  StreamsApi,
  type StreamOptions,
  type StreamDescription,
  type StreamInfo,
  type GroupSummary,
  type RangeOptions,
  type ReadOptions,
  type TrimOptions,
} from "./streams.js";
export {
  GroupsApi,
  type CreateGroupOptions,
  type GroupCreated,
  type GroupInfo,
  type ConsumerInfo,
  type GroupReadOptions,
  type GroupReadResult,
  type PendingSummary,
  type PendingEntriesOptions,
  type PendingEntry,
  type ClaimOptions,
  type AutoClaimOptions,
  type AutoClaimResult,
} from "./groups.js";
export { DeadLettersApi, type DeadLetterList, type DeadLetterListOptions, type ReprocessResult } from "./dead-letters.js";
export {
  MembershipApi,
  type AssignmentStrategy,
  type MemberGroupOptions,
  type GroupMember,
  type MemberGroup,
  type JoinResult,
  type HeartbeatResult,
  type BusGroupOptions,
  type GroupLag,
} from "./membership.js";
export {
  EventStoresApi,
  type ExpectedVersion,
  type Instant,
  type NewStoredEvent,
  type StoredEvent,
  type AppendedEvent,
  type EventQuery,
  type EventPage,
  type AggregateState,
  type EventSubscribeOptions,
  type EventSubscription,
} from "./event-stores.js";
export { EventsApi, type BusEvent, type PublishedEvent } from "./events.js";
export { QueuesApi, type QueueMessage, type SendResult, type BatchSendResult, type QueueInfo } from "./queues.js";
export { ChannelsApi, type BroadcastEvent, type ChannelEvent, type ChannelReply, type ChannelInfo } from "./channels.js";

export { Producer, DEFAULT_PRODUCER_OPTIONS, type ProducerOptions } from "./producer.js";
export type { Message } from "./message.js";
export { DEFAULT_CONSUME_OPTIONS, type ConsumeOptions } from "./consume.js";
export { DEFAULT_GROUP_READING, type GroupReadingOptions } from "./group-reader.js";
export { Worker, DEFAULT_WORKER_OPTIONS, type WorkerOptions, type MessageHandler } from "./worker.js";
export { DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
export {
  DEFAULT_SUBSCRIBE_OPTIONS,
  type Subscription,
  type SubscribeOptions,
  type SubscriptionState,
  type PushTransport,
  type PushMessage,
  type PushHandler,
  type EntryFilter,
} from "./subscription.js";

// The server's error classes: every error the client throws is one of them, chosen by the server's `code`.
export {
  RunnelError,
  BadRequestError,
  InvalidIdError,
  IdTooSmallError,
  NotFoundError,
  ConflictError,
  UnprocessableError,
  UnavailableError,
  HTTP_STATUS,
  type ErrorCode,
  type ErrorDetails,
} from "../core/errors.js";
export * from "./windows/index.js";
