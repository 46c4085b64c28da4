// The client's options, their defaults and the one place that checks them.
import { BadRequestError } from "../core/errors.js";
import {
  globalEventSource,
  globalFetch,
  globalWebSocket,
  type EventSourceConstructor,
  type FetchFunction,
  type WebSocketConstructor,
} from "./environment.js";

/**
 * How a {@link RunnelClient} reaches a server.
 *
 * @example
 * ```ts
 * import WebSocket from "ws";
 * import { EventSource } from "eventsource";
 * const options: RunnelClientOptions = {
 *   url: "http://localhost:8080",
 *   token: process.env.RUNNEL_TOKEN,
 *   WebSocket,   // Node 20 has no global WebSocket
 *   EventSource, // nor a global EventSource
 * };
 * ```
 */
export interface RunnelClientOptions {
  /** The server's base URL, `http://host:port` (a path prefix is kept: `https://host/runnel`). */
  url: string;
  /** Used for every HTTP request; the global `fetch` by default. */
  fetch?: FetchFunction;
  /** Used by `subscribe(…, { transport: "ws" })`; the global `WebSocket` by default. */
  WebSocket?: WebSocketConstructor;
  /** Used by `subscribe(…, { transport: "sse" })`; the global `EventSource` by default. */
  EventSource?: EventSourceConstructor;
  /** Sent with every HTTP request (and with SSE connections made through the `eventsource` package). */
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

/** The options with every default filled in. */
export interface ResolvedClientOptions {
  /** Without a trailing slash. */
  url: string;
  fetch: FetchFunction;
  WebSocket: WebSocketConstructor | undefined;
  EventSource: EventSourceConstructor | undefined;
  /** `headers` plus the bearer token. */
  headers: Record<string, string>;
}

export function resolveClientOptions(options: RunnelClientOptions): ResolvedClientOptions {
  if (typeof options?.url !== "string" || options.url === "") {
    throw new BadRequestError("url is required, e.g. http://localhost:8080", { field: "url" });
  }
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch (cause) {
    throw new BadRequestError(`url is not a valid URL: ${options.url}`, { field: "url", cause });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new BadRequestError(`url must be http:// or https://, not ${parsed.protocol}`, { field: "url" });
  }
  const fetch = options.fetch ?? globalFetch();
  if (!fetch) throw new BadRequestError("this platform has no global fetch: pass one in options.fetch", { field: "fetch" });
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return {
    url: options.url.replace(/\/+$/, ""),
    fetch,
    WebSocket: options.WebSocket ?? globalWebSocket(),
    EventSource: options.EventSource ?? globalEventSource(),
    headers,
  };
}
