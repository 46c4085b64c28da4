// The platform pieces the SDK needs (fetch, WebSocket, EventSource), typed by shape so a browser's and Node's fit.

/**
 * A `fetch` the client calls for every HTTP request. The global `fetch` fits, and so does a wrapper.
 *
 * @example
 * ```ts
 * let calls = 0;
 * const counting: FetchFunction = (url, init) => { calls++; return fetch(url, init); };
 * const client = new RunnelClient({ url: "http://localhost:8080", fetch: counting });
 * ```
 */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** A method-typed callback, so a listener typed for a richer event (a browser's, `ws`'s) still fits. */
type Listener<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/**
 * What the SDK reads from a WebSocket `message` event.
 *
 * @example
 * ```ts
 * socket.addEventListener("message", (event: WebSocketMessageEventLike) => console.log(String(event.data)));
 * ```
 */
export interface WebSocketMessageEventLike {
  readonly data: unknown;
}

/**
 * What the SDK reads from a WebSocket `close` event.
 *
 * @example
 * ```ts
 * socket.addEventListener("close", (event: WebSocketCloseEventLike) => console.log(event.code, event.reason));
 * ```
 */
export interface WebSocketCloseEventLike {
  readonly code?: number;
  readonly reason?: string;
}

/**
 * The part of a WebSocket the SDK uses: the browser's `WebSocket`, Node 22's global one and the `ws`
 * package's class all have it.
 *
 * @example
 * ```ts
 * import WebSocket from "ws";
 * const socket: WebSocketLike = new WebSocket("ws://localhost:8080/ws/queues/default/orders");
 * ```
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "open", listener: Listener<unknown>): void;
  addEventListener(type: "message", listener: Listener<WebSocketMessageEventLike>): void;
  addEventListener(type: "close", listener: Listener<WebSocketCloseEventLike>): void;
  addEventListener(type: "error", listener: Listener<unknown>): void;
}

/**
 * A WebSocket class. In Node 20, pass the `ws` package's default export; browsers and Node 22 have a global one.
 *
 * @example
 * ```ts
 * import WebSocket from "ws";
 * const client = new RunnelClient({ url: "http://localhost:8080", WebSocket });
 * ```
 */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * The request an `EventSource` from the `eventsource` package hands to its `fetch` option.
 *
 * @example
 * ```ts
 * const viaProxy = (url: string | URL, init: EventSourceFetchInitLike) => fetch(String(url), init as RequestInit);
 * ```
 */
export interface EventSourceFetchInitLike {
  headers: Record<string, string>;
  signal?: unknown;
  mode?: "cors" | "no-cors" | "same-origin";
  credentials?: "include" | "omit" | "same-origin";
  cache?: "no-store";
  redirect?: "error" | "follow" | "manual";
}

/**
 * Options the SDK passes to an EventSource: `fetch` is understood by the `eventsource` package, ignored by browsers.
 *
 * @example
 * ```ts
 * const init: EventSourceInitLike = { fetch: (url, i) => fetch(String(url), { ...i, headers: { ...i.headers, authorization: "Bearer t" } } as RequestInit) };
 * ```
 */
export interface EventSourceInitLike {
  withCredentials?: boolean;
  fetch?: (url: string | URL, init: EventSourceFetchInitLike) => Promise<Response>;
}

/**
 * What the SDK reads from an EventSource event: server events carry `data`; a transport failure may carry `code`.
 *
 * @example
 * ```ts
 * es.addEventListener("error", (event: EventSourceEventLike) => console.log(event.code ?? "connection lost"));
 * ```
 */
export interface EventSourceEventLike {
  readonly data?: unknown;
  readonly lastEventId?: string;
  /** HTTP status of a failed connection (the `eventsource` package sets it). */
  readonly code?: number | undefined;
  readonly message?: string | undefined;
}

/**
 * The part of an EventSource the SDK uses; the browser's and the `eventsource` package's both have it.
 *
 * @example
 * ```ts
 * import { EventSource } from "eventsource";
 * const es: EventSourceLike = new EventSource("http://localhost:8080/api/v1/queues/default/orders/stream");
 * ```
 */
export interface EventSourceLike {
  readonly readyState: number;
  close(): void;
  addEventListener(type: string, listener: Listener<EventSourceEventLike>): void;
}

/**
 * An EventSource class. In Node 20, pass the `eventsource` package's `EventSource`; browsers have a global one.
 *
 * @example
 * ```ts
 * import { EventSource } from "eventsource";
 * const client = new RunnelClient({ url: "http://localhost:8080", EventSource });
 * ```
 */
export type EventSourceConstructor = new (url: string, init?: EventSourceInitLike) => EventSourceLike;

/** The global of that name when the platform has one. */
export function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

export function globalEventSource(): EventSourceConstructor | undefined {
  return (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
}

export function globalFetch(): FetchFunction | undefined {
  const f = (globalThis as { fetch?: FetchFunction }).fetch;
  // Unbound, a browser's fetch throws "Illegal invocation".
  return f === undefined ? undefined : (url, init) => f.call(globalThis, url, init);
}
