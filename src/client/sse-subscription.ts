// A push subscription over Server-Sent Events (`/api/v1/queues/{setupId}/{queueName}/stream`), resumed by startId.
import { UnavailableError, type RunnelError } from "../core/errors.js";
import type { EventSourceConstructor, EventSourceEventLike, EventSourceFetchInitLike, EventSourceLike } from "./environment.js";
import { errorFromObject, errorFromResponse, isPermanent } from "./errors.js";
import type { GroupsApi } from "./groups.js";
import { path, type HttpTransport, type Query } from "./http.js";
import { BaseSubscription, type PushedEntry, type PushHandler, type PushTarget, type ResolvedSubscribeOptions } from "./subscription.js";

const EVENTS = ["connection", "configured", "message", "batch", "heartbeat"] as const;

export class SseSubscription<T> extends BaseSubscription<T> {
  private source: EventSourceLike | undefined;
  /** Why the last connection attempt was refused, read from the HTTP answer (the `eventsource` package only). */
  private refused: RunnelError | undefined;
  /** The group consumer the current connection reads as (from its `connection` event). */
  private consumer: string | undefined;
  /** The current connection's subscription was confirmed (`configured` arrived). */
  private confirmed = false;

  constructor(
    private readonly EventSourceClass: EventSourceConstructor,
    private readonly http: HttpTransport,
    private readonly groups: GroupsApi,
    target: PushTarget,
    options: ResolvedSubscribeOptions,
    onMessage: PushHandler<T>,
  ) {
    super(target, options, onMessage);
  }

  private query(): Query {
    const o = this.options;
    const query: Query = {
      consumerGroup: o.consumerGroup,
      batchSize: o.batchSize,
      maxWait: o.maxWaitTime,
      messageType: o.filters?.messageType,
      payloadContains: o.filters?.payloadContains,
      startId: this.resumeId(),
      ackMode: o.consumerGroup === undefined ? undefined : o.ackMode,
    };
    for (const [name, value] of Object.entries(o.filters?.headers ?? {})) query[`header.${name}`] = value;
    return query;
  }

  protected connect(): void {
    const url = this.http.urlOf(path`/api/v1/queues/${this.target.setupId}/${this.target.queueName}/stream`, this.query());
    this.refused = undefined;
    this.confirmed = false;
    let source: EventSourceLike;
    try {
      source = new this.EventSourceClass(url, { fetch: (u, init) => this.fetchStream(u, init) });
    } catch (error) {
      this.lost(new UnavailableError(`cannot open an EventSource on ${url}: ${String(error)}`, { cause: error, url }));
      return;
    }
    this.source = source;
    for (const type of EVENTS) {
      source.addEventListener(type, (event) => {
        if (this.source === source) this.onEvent(type, event);
      });
    }
    source.addEventListener("error", (event) => {
      if (this.source !== source) return;
      // A server `error` event carries data; a failed or dropped connection does not.
      if (typeof event.data === "string") {
        const error = errorFromObject(parse(event.data), "RUNNEL_INTERNAL", "the server reported an error");
        // Refused before it was in place for a reason that would recur: end rather than retry for ever.
        if (!this.confirmed && isPermanent(error)) this.lost(error);
        else this.report(error);
        return;
      }
      const status = event.code === undefined ? "" : ` (HTTP ${event.code})`;
      const detail = event.message ? `: ${event.message}` : "";
      this.lost(this.refused ?? new UnavailableError(`the SSE connection to ${url} failed${status}${detail}`, { url }));
    });
  }

  protected disconnect(): void {
    const source = this.source;
    this.source = undefined;
    // Reconnecting is ours (with backoff and startId), not the EventSource's.
    source?.close();
  }

  /** Used by the `eventsource` package (browsers ignore it): adds the client's headers, notes a refusal's reason. */
  private async fetchStream(url: string | URL, init: EventSourceFetchInitLike): Promise<Response> {
    const { fetch, headers } = this.http.options;
    const res = await fetch(String(url), { ...init, headers: { ...init.headers, ...headers } } as RequestInit);
    if (!res.ok) {
      const text = await res.clone().text().catch(() => "");
      this.refused = errorFromResponse("GET", String(url), res.status, text);
    }
    return res;
  }

  private onEvent(type: (typeof EVENTS)[number], event: EventSourceEventLike): void {
    this.touch();
    const data = typeof event.data === "string" ? parse(event.data) : undefined;
    if (!data) return;
    if (type === "connection" && typeof data.consumer === "string") this.consumer = data.consumer;
    else if (type === "configured") {
      this.confirmed = true;
      this.opened(data.startId);
    }
    else if (type === "message") this.receive(data as PushedEntry);
    else if (type === "batch" && Array.isArray(data.messages)) for (const m of data.messages as PushedEntry[]) this.receive(m);
  }

  private receive(entry: PushedEntry): void {
    const group = this.options.consumerGroup;
    if (group === undefined || this.options.ackMode !== "manual") return this.received(entry, undefined);
    const stream = this.target.queueName;
    this.received(entry, {
      ack: async () => (await this.groups.ack(stream, group, [entry.id])) > 0,
      nack: async (delayMs = 0) => {
        // Only if this connection still holds it: after a reconnect it may be another consumer's.
        const consumer = this.consumer;
        return (await this.groups.nack(stream, group, [entry.id], { delayMs, ...(consumer ? { consumer } : {}) })) > 0;
      },
    });
  }
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
