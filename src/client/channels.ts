// Broadcast channels over HTTP (seed 001): broadcast an event, list the channels, control their generators.
import { openEventSource } from "./event-source.js";
import { path, type HttpTransport } from "./http.js";

/**
 * An event to broadcast. Without `stream_id` (or with an empty one) it goes to every channel.
 *
 * @example
 * ```ts
 * const event: BroadcastEvent = { stream_id: "notifications", type: "deploy", message: "Deploy finished", data: { version: "1.4.2" } };
 * ```
 */
export interface BroadcastEvent {
  stream_id?: string;
  type: string;
  message: string;
  data?: Record<string, unknown>;
}

/**
 * What a broadcast or a generator control answers.
 *
 * @example
 * ```ts
 * const r: ChannelReply = await client.channels.broadcast({ type: "ping", message: "hello" });
 * console.log(r.message);
 * ```
 */
export interface ChannelReply {
  success: boolean;
  message: string;
  /** Unix seconds. */
  timestamp: number;
}

/**
 * One channel in the listing.
 *
 * @example
 * ```ts
 * const channels = await client.channels.list();
 * const c: ChannelInfo | undefined = channels["notifications"];
 * console.log(c?.clients, c?.generator.running);
 * ```
 */
export interface ChannelInfo {
  clients: number;
  active: boolean;
  generator: { running: boolean; paused: boolean };
}

/**
 * One event a channel subscriber receives (the first is `connection`); `timestamp` is in Unix seconds.
 *
 * @example
 * ```ts
 * const seen: ChannelEvent[] = [];
 * client.channels.subscribe("system", (e) => seen.push(e));
 * ```
 */
export interface ChannelEvent {
  id: string;
  type: string;
  message: string;
  data?: Record<string, unknown>;
  timestamp: number;
  stream_id: string;
}

/**
 * The broadcast channel operations; reach them as `client.channels`.
 *
 * @example
 * ```ts
 * await client.channels.broadcast({ stream_id: "notifications", type: "custom_event", message: "Deploy finished" });
 * const channels = await client.channels.list();
 * ```
 */
export class ChannelsApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * Sends an event to one channel, or to all of them when `stream_id` is left out.
   *
   * @example
   * ```ts
   * await client.channels.broadcast({ stream_id: "system", type: "maintenance", message: "at 02:00" });
   * ```
   */
  broadcast(event: BroadcastEvent): Promise<ChannelReply> {
    return this.http.request("POST", "/api/v1/events/broadcast", { body: event });
  }

  /**
   * Every channel by id, with its subscriber count and generator state.
   *
   * @example
   * ```ts
   * for (const [id, c] of Object.entries(await client.channels.list())) console.log(id, c.clients);
   * ```
   */
  async list(): Promise<Record<string, ChannelInfo>> {
    return (await this.http.request<{ data: Record<string, ChannelInfo> }>("GET", "/api/v1/events/streams")).data;
  }

  /**
   * Controls a channel's sample-event generator: `start` (or restart), `stop`, `pause`, `resume`.
   * The last three answer a `ConflictError` when the channel has no generator.
   *
   * @example
   * ```ts
   * await client.channels.generator("notifications", "pause");
   * ```
   */
  generator(streamId: string, action: "start" | "stop" | "pause" | "resume"): Promise<ChannelReply> {
    return this.http.request("POST", `${path`/api/v1/events/stream/${streamId}`}/${action}`);
  }

  /**
   * Receives a channel's events while subscribed (channels keep nothing: what is broadcast meanwhile is all).
   * Needs `EventSource` in the client options (Node: the `eventsource` package) or a global one; the
   * EventSource reconnects by itself.
   *
   * @example
   * ```ts
   * const sub = client.channels.subscribe("notifications", (e) => console.log(e.type, e.message, e.data));
   * // later
   * sub.close();
   * ```
   */
  subscribe(channel: string, handler: (event: ChannelEvent) => void): { close(): void } {
    const source = openEventSource(this.http, this.http.urlOf(path`/api/v1/events/stream/${channel}`));
    source.addEventListener("message", (e) => {
      if (typeof e.data === "string") handler(JSON.parse(e.data) as ChannelEvent);
    });
    return { close: () => source.close() };
  }
}

