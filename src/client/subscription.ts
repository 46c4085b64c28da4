// Push subscriptions (WebSocket or SSE): their options and messages, and the reconnect-and-resume logic both share.
import { BadRequestError, UnavailableError } from "../core/errors.js";
import type { EntryFilter } from "../core/filters.js";
import { Backoff, resolveBackoffOptions, type BackoffOptions } from "./backoff.js";
import type { Priority } from "./entry.js";
import { isPermanent } from "./errors.js";

export type { EntryFilter } from "../core/filters.js";

/**
 * How a push subscription reaches the server: a WebSocket or Server-Sent Events.
 *
 * @example
 * ```ts
 * const transport: PushTransport = typeof WebSocket === "function" ? "ws" : "sse";
 * ```
 */
export type PushTransport = "ws" | "sse";

/**
 * Where a subscription is: connecting the first time, open, waiting to reconnect, or closed for good.
 *
 * @example
 * ```ts
 * client.subscribe("default", "orders", { onStateChange: (s: SubscriptionState) => console.log("push", s) }, onMessage);
 * ```
 */
export type SubscriptionState = "connecting" | "open" | "reconnecting" | "closed";

/**
 * What to subscribe to and how.
 *
 * @example
 * ```ts
 * const options: SubscribeOptions = {
 *   transport: "ws",
 *   consumerGroup: "order-processors",
 *   filters: { messageType: "OrderCreated", headers: { region: "US-WEST" } },
 *   batchSize: 10,
 *   maxWaitTime: 500,
 * };
 * ```
 */
export interface SubscribeOptions {
  /** Default `ws`. */
  transport?: PushTransport;
  /** Share entries with the group's other subscribers (each gets some) instead of seeing every entry. */
  consumerGroup?: string;
  /** Server-side filters: by type, header values, payload text. */
  filters?: EntryFilter;
  /** The server sends entries in batches of this many (default 1; SSE 1-100, WebSocket 1-1000). */
  batchSize?: number;
  /** ...or this many ms after the first of a batch (SSE 1000-60000, WebSocket 0-60000). */
  maxWaitTime?: number;
  /**
   * Without a group: `$` (now, the default), `0` (the beginning) or an id to continue after. With a group: where
   * the group starts if it does not exist yet. After a reconnect, a subscription without a group continues
   * right after the last entry it received, whatever this says.
   */
  startId?: string;
  /**
   * With a group: `manual` (default over WebSocket) keeps entries pending until `message.ack()`; `auto`
   * (default over SSE) acknowledges them once sent. Manual acks over SSE go through HTTP, so they need the
   * namespace `default`.
   */
  ackMode?: "manual" | "auto";
  /** WebSocket group subscriptions: most unacknowledged entries at once (server default 1000). */
  maxInFlight?: number;
  /** Backoff between reconnects; `false` ends the subscription when the connection is lost. */
  reconnect?: BackoffOptions | false;
  /** Reconnect when nothing (not even a heartbeat) arrived for this long, in ms (default 75000; 0: never). */
  idleTimeoutMs?: number;
  /** Problems the subscription rides out (lost connections, server `error` messages, a handler that threw) or ends on. */
  onError?: (error: unknown) => void;
  onStateChange?: (state: SubscriptionState) => void;
}

/**
 * One entry pushed to a subscriber (a WebSocket `data` message, an SSE `message` event, or one of a batch).
 *
 * @example
 * ```ts
 * client.subscribe<{ orderId: number }>("default", "orders", { consumerGroup: "g" }, async (m: PushMessage<{ orderId: number }>) => {
 *   console.log(m.id, m.messageType, m.payload.orderId);
 *   await m.ack?.();
 * });
 * ```
 */
export interface PushMessage<T = unknown> {
  /** The entry's id (`messageId` says the same, in seed 000's words). */
  id: string;
  messageId: string;
  payload: T;
  messageType: string | null;
  headers: Record<string, string>;
  priority: Priority;
  partition: number;
  offset: number;
  key: string | null;
  correlationId: string | null;
  causationId: string | null;
  timestamp: number;
  /** Group subscriptions: how often the entry has been delivered. */
  deliveryCount?: number;
  /** Group subscriptions with manual acks: acknowledges the entry; resolves true when it was pending. */
  ack?: () => Promise<boolean>;
  /**
   * Group subscriptions with manual acks: gives the entry back to the group, to be delivered again after
   * `delayMs` (default 0); resolves true when it was pending here. A handler that throws without settling its
   * message has it nacked this way at once.
   */
  nack?: (delayMs?: number) => Promise<boolean>;
}

/** How a manually acknowledged group delivery is settled. */
export interface Settle {
  ack(): Promise<boolean>;
  nack(delayMs?: number): Promise<boolean>;
}

/**
 * Receives pushed messages one at a time, in order: the next waits until the returned promise settles.
 *
 * @example
 * ```ts
 * const onMessage: PushHandler<unknown> = (m) => console.log(m.id, m.payload);
 * ```
 */
export type PushHandler<T> = (message: PushMessage<T>) => unknown;

/**
 * A live subscription; `client.subscribe(...)` answers one.
 *
 * @example
 * ```ts
 * const sub = client.subscribe("default", "orders", { transport: "sse" }, (m) => console.log(m.payload));
 * await sub.ready;       // the server has the subscription in place
 * // ...
 * await sub.close();
 * ```
 */
export interface Subscription {
  /** Resolves once the server confirmed the first subscription; rejects if it ends before. */
  readonly ready: Promise<void>;
  readonly state: SubscriptionState;
  /** Without a group: the id the subscription continues after (the last entry received). */
  readonly lastId: string | null;
  /** How many times it has connected again after losing the connection. */
  readonly reconnects: number;
  /**
   * Ends the subscription and waits for the handler to finish the message it is on. Messages received but not
   * yet handed to the handler are dropped; with manual acks they stay pending in the group.
   */
  close(): Promise<void>;
}

/**
 * What a subscription uses for the options not given (and `DEFAULT_BACKOFF` for reconnecting).
 *
 * @example
 * ```ts
 * client.subscribe("default", "orders", { idleTimeoutMs: DEFAULT_SUBSCRIBE_OPTIONS.idleTimeoutMs * 2 }, onMessage);
 * ```
 */
export const DEFAULT_SUBSCRIBE_OPTIONS = Object.freeze({ transport: "ws" as PushTransport, idleTimeoutMs: 75_000 });

export type ResolvedSubscribeOptions = SubscribeOptions & { transport: PushTransport; idleTimeoutMs: number };

function checkInteger(value: number | undefined, field: string, min: number): void {
  if (value !== undefined && (!Number.isInteger(value) || value < min)) {
    throw new BadRequestError(`${field} must be an integer of at least ${min}`, { field });
  }
}

export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  const transport = options.transport ?? DEFAULT_SUBSCRIBE_OPTIONS.transport;
  if (transport !== "ws" && transport !== "sse") throw new BadRequestError("transport must be ws or sse", { field: "transport" });
  if (options.ackMode !== undefined && options.ackMode !== "manual" && options.ackMode !== "auto") {
    throw new BadRequestError("ackMode must be manual or auto", { field: "ackMode" });
  }
  checkInteger(options.batchSize, "batchSize", 1);
  checkInteger(options.maxWaitTime, "maxWaitTime", 0);
  checkInteger(options.maxInFlight, "maxInFlight", 1);
  checkInteger(options.idleTimeoutMs, "idleTimeoutMs", 0);
  if (options.reconnect !== undefined && options.reconnect !== false) resolveBackoffOptions(options.reconnect);
  return { ...options, transport, idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_SUBSCRIBE_OPTIONS.idleTimeoutMs };
}

/** A pushed entry as the server sends it. */
export type PushedEntry = Record<string, unknown> & { id: string };

/** Where the subscription points: a stream (queue) of a namespace (setup). */
export interface PushTarget {
  setupId: string;
  queueName: string;
}

/** Reconnection, resume and in-order delivery; a transport opens and closes the connection. */
export abstract class BaseSubscription<T> implements Subscription {
  readonly ready: Promise<void>;
  private current: SubscriptionState = "connecting";
  private cursor: string | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly backoff: Backoff | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private settleReady: { resolve(): void; reject(error: unknown): void } | undefined;
  private opens = 0;
  private ended = false;

  constructor(
    protected readonly target: PushTarget,
    protected readonly options: ResolvedSubscribeOptions,
    private readonly onMessage: PushHandler<T>,
  ) {
    this.backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect ?? {});
    this.ready = new Promise<void>((resolve, reject) => (this.settleReady = { resolve, reject }));
    // Awaiting `ready` is optional: an unobserved rejection must not crash the process.
    this.ready.catch(() => undefined);
  }

  get state(): SubscriptionState {
    return this.current;
  }

  get lastId(): string | null {
    return this.cursor;
  }

  get reconnects(): number {
    return Math.max(0, this.opens - 1);
  }

  protected get closed(): boolean {
    return this.ended;
  }

  protected get isBroadcast(): boolean {
    return this.options.consumerGroup === undefined;
  }

  /** Opens the first connection; called once the transport is fully built. */
  start(): this {
    this.connect();
    return this;
  }

  /** Opens a connection and subscribes on it; reports with `opened`, `received` and `lost`. */
  protected abstract connect(): void;

  /** Closes the current connection, if any, without reconnecting. */
  protected abstract disconnect(): void;

  /** Where the next subscription starts: right after the last entry received, for a broadcast subscription. */
  protected resumeId(): string | undefined {
    return this.isBroadcast ? (this.cursor ?? this.options.startId) : this.options.startId;
  }

  /** The server confirmed the subscription; `startId` is the cursor it resolved (`$` turned into an id). */
  protected opened(startId: unknown): void {
    if (this.ended) return;
    if (this.isBroadcast && this.cursor === null && typeof startId === "string") this.cursor = startId;
    this.opens++;
    this.backoff?.reset();
    this.setState("open");
    this.touch();
    this.settleReady?.resolve();
    this.settleReady = undefined;
  }

  /** An entry arrived: it is handed to the handler after the ones before it. */
  protected received(raw: PushedEntry, settle: Settle | undefined): void {
    if (this.ended) return;
    this.touch();
    const { type: _type, connectionId: _connection, ...fields } = raw;
    let settled = false;
    const marked = async (done: Promise<boolean>) => {
      const pending = await done;
      settled = true;
      return pending;
    };
    const settling = settle && { ack: () => marked(settle.ack()), nack: (delayMs?: number) => marked(settle.nack(delayMs)) };
    const message = { ...fields, messageId: raw.id, ...settling } as unknown as PushMessage<T>;
    if (this.isBroadcast) this.cursor = raw.id;
    this.chain = this.chain.then(async () => {
      // close() waits only for the message in hand: once closed, the queued ones are dropped.
      if (this.ended) return;
      try {
        await this.onMessage(message);
      } catch (error) {
        this.report(error);
        // Left pending, the entry would wait for this connection to end; give it back to the group now.
        if (settle && !settled) await settle.nack().catch((e: unknown) => this.report(e));
      }
    });
  }

  /** Something arrived (a heartbeat, a reply): the connection is alive. */
  protected touch(): void {
    const idle = this.options.idleTimeoutMs;
    if (idle <= 0 || this.ended) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.lost(new UnavailableError(`nothing arrived for ${idle} ms; reconnecting`)), idle);
  }

  /** The connection is gone (or must go): reconnect after a backoff, or end on a permanent error. */
  protected lost(error: unknown): void {
    if (this.ended) return;
    this.disconnect();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.report(error);
    if (isPermanent(error) || !this.backoff) {
      this.fail(error);
      return;
    }
    if (this.retryTimer) return;
    this.setState("reconnecting");
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.ended) this.connect();
    }, this.backoff.next());
  }

  /** Ends the subscription because of `error`. */
  protected fail(error: unknown): void {
    this.settleReady?.reject(error);
    this.settleReady = undefined;
    void this.close();
  }

  protected report(error: unknown): void {
    try {
      this.options.onError?.(error);
    } catch {
      // A failing error listener must not break the subscription.
    }
  }

  async close(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.settleReady?.reject(new UnavailableError("the subscription was closed before it was in place"));
      this.settleReady = undefined;
      this.setState("closed");
    }
    await this.chain;
    // Only now: the handler of the message in hand may still ack it over this connection.
    this.disconnect();
  }

  private setState(state: SubscriptionState): void {
    if (this.current === state) return;
    this.current = state;
    try {
      this.options.onStateChange?.(state);
    } catch {
      // as above
    }
  }
}
