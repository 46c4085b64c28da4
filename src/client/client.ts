// RunnelClient: the SDK's entry point, holding the HTTP operation groups and starting producers, consumers and subscriptions.
import { BadRequestError } from "../core/errors.js";
import { ChannelsApi } from "./channels.js";
import { consume, type ConsumeOptions } from "./consume.js";
import { DeadLettersApi } from "./dead-letters.js";
import { EventStoresApi } from "./event-stores.js";
import { EventsApi } from "./events.js";
import { GroupsApi } from "./groups.js";
import { HttpTransport } from "./http.js";
import { MembershipApi } from "./membership.js";
import type { Message } from "./message.js";
import { resolveClientOptions, type RunnelClientOptions } from "./options.js";
import { Producer, type ProducerOptions } from "./producer.js";
import { QueuesApi } from "./queues.js";
import { SseSubscription } from "./sse-subscription.js";
import { StreamsApi } from "./streams.js";
import { resolveSubscribeOptions, type PushHandler, type SubscribeOptions, type Subscription } from "./subscription.js";
import { Worker, type MessageHandler, type WorkerOptions } from "./worker.js";
import { WsSubscription } from "./ws-subscription.js";
import { attachWindowClient, type StreamBuilder, type StreamConsumer, type WindowClient, type WindowStreamInfo } from "./windows/index.js";

/**
 * What `GET /health` answers.
 *
 * @example
 * ```ts
 * const h: Health = await client.health();
 * console.log(h.status, h.store, h.version);
 * ```
 */
export interface Health {
  status: "ok";
  store: "sqlite" | "postgres";
  version: string;
  uptimeMs: number;
}

/**
 * A client for one Runnel server. Runs in Node (20+) and in browsers: it uses `fetch`, and a WebSocket or an
 * EventSource for push (globals, or classes passed in the options).
 *
 * @example
 * ```ts
 * import { RunnelClient } from "runnel/client";
 * import WebSocket from "ws";
 *
 * const client = new RunnelClient({ url: "http://localhost:8080", WebSocket });
 * await client.streams.append("orders", { orderId: 42 }, { type: "OrderCreated" });
 *
 * const worker = client.worker<{ orderId: number }>("orders", "billing", "w1", async (m) => {
 *   console.log("bill", m.payload.orderId);
 * }, { concurrency: 4, startId: "0" });
 * ```
 */
export class RunnelClient {
  /** Append, read, inspect and trim streams. */
  readonly streams: StreamsApi;
  /** Consumer groups: read, ack, nack, pending, claim. */
  readonly groups: GroupsApi;
  /** List and reprocess dead letters. */
  readonly deadLetters: DeadLettersApi;
  /** Seed 000's queue routes. */
  readonly queues: QueuesApi;
  /** Seed 001's broadcast channels. */
  readonly channels: ChannelsApi;
  /** Kafka-style group membership: join, heartbeat, leave, lag, rebalance. */
  readonly membership: MembershipApi;
  /** The bi-temporal event store with event sourcing. */
  readonly eventStores: EventStoresApi;
  /** Seed 003's event publishing. */
  readonly events: EventsApi;
  private readonly http: HttpTransport;
  private readonly windowClient: WindowClient;

  constructor(options: RunnelClientOptions) {
    const resolved = resolveClientOptions(options);
    this.http = new HttpTransport(resolved);
    this.windowClient = attachWindowClient({
      url: resolved.url,
      fetch: resolved.fetch as typeof fetch,
      headers: resolved.headers,
    });
    this.streams = new StreamsApi(this.http);
    this.groups = new GroupsApi(this.http);
    this.deadLetters = new DeadLettersApi(this.http);
    this.queues = new QueuesApi(this.http);
    this.channels = new ChannelsApi(this.http);
    this.membership = new MembershipApi(this.http);
    this.eventStores = new EventStoresApi(this.http);
    this.events = new EventsApi(this.http);
  }

  /**
   * A builder for a windowed stream (seed 002) over source queues in `namespace` (default `default`).
   *
   * @example
   * ```ts
   * await client.stream("chat-per-minute").sources(["chat-messages"]).partitioned().tumblingTime(60).gracePeriod(30).define();
   * ```
   */
  stream(name: string, namespace?: string): StreamBuilder {
    return this.windowClient.stream(name, namespace);
  }

  /**
   * A consumer of a windowed stream in group `group`: leases, renews and acknowledges windows.
   *
   * @example
   * ```ts
   * await client.consumer("chat-per-minute", "analytics").process(async (window) => {
   *   console.log(window.key, window.aggregate({ count: true }));
   * });
   * ```
   */
  consumer(streamName: string, group: string): StreamConsumer {
    return this.windowClient.consumer(streamName, group);
  }

  /**
   * A windowed stream's definition, how many entries it took in and how many came late, its watermarks and groups.
   *
   * @example
   * ```ts
   * const { ingested, late, watermarks } = await client.windowStreamInfo("chat-per-minute");
   * ```
   */
  windowStreamInfo(name: string): Promise<WindowStreamInfo> {
    return this.windowClient.info(name);
  }

  /**
   * The server's base URL, without a trailing slash.
   *
   * @example
   * ```ts
   * console.log(`talking to ${client.url}`);
   * ```
   */
  get url(): string {
    return this.http.baseUrl;
  }

  /**
   * Whether the server and its store answer; an `UnavailableError` when they do not.
   *
   * @example
   * ```ts
   * const { status, store } = await client.health();
   * ```
   */
  health(): Promise<Health> {
    return this.http.request("GET", "/health");
  }

  /**
   * A producer for one stream that batches publishes into few requests.
   *
   * @example
   * ```ts
   * const producer = client.producer("clicks", { lingerMs: 5, maxBatch: 200 });
   * const { id } = await producer.publish({ page: "/home" });
   * await producer.close();
   * ```
   */
  producer(stream: string, options: ProducerOptions = {}): Producer {
    return new Producer(this.http, stream, options);
  }

  /**
   * Reads a group as `consumer`, as an async iterator of messages with `ack()` and `nack()`. The group (and
   * stream) is created when missing, at `startId` (default `$`).
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * for await (const m of client.consume<{ orderId: number }>("orders", "billing", "w1", { signal: controller.signal })) {
   *   await bill(m.payload.orderId);
   *   await m.ack();
   * }
   * ```
   */
  consume<T = unknown>(stream: string, group: string, consumer: string, options: ConsumeOptions = {}): AsyncIterableIterator<Message<T>> {
    return consume<T>(this.groups, stream, group, consumer, options);
  }

  /**
   * Starts a worker: runs `handler` for the group's entries, at most `concurrency` at once; acks when it
   * resolves, nacks when it throws; with `autoClaimIdleMs`, takes over entries other consumers left pending
   * that long. `stop()` lets running handlers finish.
   *
   * @example
   * ```ts
   * const worker = client.worker("emails", "senders", `sender-${process.pid}`, async (m) => send(m.payload), {
   *   concurrency: 8,
   *   autoClaimIdleMs: 60_000,
   * });
   * process.on("SIGTERM", () => void worker.stop());
   * ```
   */
  worker<T = unknown>(
    stream: string,
    group: string,
    consumer: string,
    handler: MessageHandler<T>,
    options: WorkerOptions = {},
  ): Worker<T> {
    return new Worker<T>(this.groups, stream, group, consumer, handler, options);
  }

  /**
   * Subscribes to a stream's pushed entries (`setupId` is the namespace, `default` for `/stream/...` streams)
   * over WebSocket or SSE. Reconnects with backoff; without a group it continues right after the last entry
   * it received, so nothing is skipped or repeated. With a group over WebSocket, each message has `ack()`.
   *
   * @example
   * ```ts
   * import WebSocket from "ws";
   * const client = new RunnelClient({ url: "http://localhost:8080", WebSocket });
   * const sub = client.subscribe<{ orderId: number }>("default", "orders", { transport: "ws", filters: { messageType: "OrderCreated" } },
   *   (m) => console.log(m.id, m.payload.orderId));
   * await sub.ready;
   * // later
   * await sub.close();
   * ```
   */
  subscribe<T = unknown>(setupId: string, queueName: string, options: SubscribeOptions, onMessage: PushHandler<T>): Subscription {
    const target = { setupId, queueName };
    const resolved = resolveSubscribeOptions(options);
    if (resolved.transport === "ws") {
      const WebSocketClass = this.http.options.WebSocket;
      if (!WebSocketClass) {
        throw new BadRequestError("no WebSocket here: pass one in the client options (in Node 20, the ws package's)", { field: "WebSocket" });
      }
      return new WsSubscription<T>(WebSocketClass, this.http.baseUrl, target, resolved, onMessage).start();
    }
    const EventSourceClass = this.http.options.EventSource;
    if (!EventSourceClass) {
      throw new BadRequestError("no EventSource here: pass one in the client options (in Node, the eventsource package's)", {
        field: "EventSource",
      });
    }
    if (options.consumerGroup !== undefined && options.ackMode === "manual" && setupId !== "default") {
      throw new BadRequestError("manual acks over SSE go through /stream/... and need the namespace default; use ws", {
        field: "ackMode",
      });
    }
    return new SseSubscription<T>(EventSourceClass, this.http, this.groups, target, resolved, onMessage).start();
  }
}
