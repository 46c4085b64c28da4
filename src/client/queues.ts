// Seed 000's queue surface over HTTP: send one message or a batch, and queue information (`/api/v1/queues/...`).
import type { PriorityInput } from "./entry.js";
import { path, type HttpTransport } from "./http.js";

/**
 * A message in seed 000's words. `setupId` is the namespace, `queueName` the stream.
 *
 * @example
 * ```ts
 * const m: QueueMessage = { payload: { orderId: "12345" }, messageType: "OrderCreated", headers: { region: "US-WEST" }, priority: "HIGH" };
 * ```
 */
export interface QueueMessage<T = unknown> {
  payload: T;
  messageType?: string;
  headers?: Record<string, string>;
  priority?: PriorityInput;
  delaySeconds?: number;
  correlationId?: string;
  causationId?: string;
  /** Messages of one group go to one partition, in order (the entry's key). */
  messageGroup?: string;
  /** Idempotency key. */
  messageId?: string;
}

/**
 * What sending one message answers.
 *
 * @example
 * ```ts
 * const sent: SendResult = await client.queues.send("my-setup", "orders", { payload: { orderId: 1 } });
 * console.log(sent.messageId);
 * ```
 */
export interface SendResult {
  message: string;
  queueName: string;
  setupId: string;
  /** The entry's id in the stream. */
  messageId: string;
  partition: number;
  offset: number;
  duplicate: boolean;
  timestamp: number;
}

/**
 * What sending a batch answers.
 *
 * @example
 * ```ts
 * const r: BatchSendResult = await client.queues.sendBatch("my-setup", "orders", [{ payload: 1 }, { payload: 2 }]);
 * console.log(r.successfulMessages, r.messageIds);
 * ```
 */
export interface BatchSendResult {
  message: string;
  queueName: string;
  setupId: string;
  totalMessages: number;
  successfulMessages: number;
  failedMessages: number;
  messageIds: string[];
  duplicates: number;
  timestamp: number;
}

/**
 * A queue's counts, partitions and consumer groups.
 *
 * @example
 * ```ts
 * const info: QueueInfo = await client.queues.info("my-setup", "orders");
 * console.log(info.messageCount, info.consumerGroups.map((g) => g.groupName));
 * ```
 */
export interface QueueInfo {
  message: string;
  setupId: string;
  queueName: string;
  messageCount: number;
  partitions: number;
  entriesAdded: number;
  lastMessageId: string;
  firstMessageId: string | null;
  consumerGroups: { groupName: string; consumers: number; pending: number; lag: number; lastDeliveredId: string }[];
  config: {
    partitions: number;
    maxLen: number | null;
    maxAgeMs: number | null;
    maxDeliveries: number | null;
    deadLetterStream: string | null;
    dedupeWindowMs: number;
  };
  createdAt: number;
  timestamp: number;
}

/**
 * The queue operations; reach them as `client.queues`.
 *
 * @example
 * ```ts
 * await client.queues.send("my-setup", "orders", { payload: { orderId: "12345", amount: 99.99 }, messageType: "OrderCreated" });
 * const { messageCount } = await client.queues.info("my-setup", "orders");
 * ```
 */
export class QueuesApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * Sends one message.
   *
   * @example
   * ```ts
   * const { messageId } = await client.queues.send("my-setup", "orders", { payload: { orderId: 7 }, priority: "HIGH" });
   * ```
   */
  send(setupId: string, queueName: string, message: QueueMessage): Promise<SendResult> {
    return this.http.request("POST", path`/api/v1/queues/${setupId}/${queueName}/messages`, { body: message });
  }

  /**
   * Sends several messages atomically.
   *
   * @example
   * ```ts
   * const { messageIds } = await client.queues.sendBatch("my-setup", "orders", [{ payload: 1 }, { payload: 2 }]);
   * ```
   */
  sendBatch(setupId: string, queueName: string, messages: readonly QueueMessage[]): Promise<BatchSendResult> {
    return this.http.request("POST", path`/api/v1/queues/${setupId}/${queueName}/messages/batch`, { body: { messages } });
  }

  /**
   * The queue's counts, partitions and consumer groups; a `NotFoundError` when it does not exist.
   *
   * @example
   * ```ts
   * const info = await client.queues.info("my-setup", "orders");
   * ```
   */
  info(setupId: string, queueName: string): Promise<QueueInfo> {
    return this.http.request("GET", path`/api/v1/queues/${setupId}/${queueName}`);
  }
}
