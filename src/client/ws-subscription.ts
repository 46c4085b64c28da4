// A push subscription over WebSocket (`/ws/queues/{setupId}/{queueName}`): subscribe, receive, ack, reconnect.
import { UnavailableError } from "../core/errors.js";
import type { WebSocketConstructor, WebSocketLike } from "./environment.js";
import { errorFromObject, unreachable } from "./errors.js";
import { BaseSubscription, type PushedEntry, type PushHandler, type PushTarget, type ResolvedSubscribeOptions } from "./subscription.js";

type Frame = Record<string, unknown> & { type?: unknown };

/** Replies to a client message, in the order the messages were sent (the server handles them one by one). */
const REPLIES = new Set(["pong", "subscribed", "configured", "unsubscribed", "acked", "nacked"]);

const OPEN = 1;

interface Request {
  id: string;
  resolve(reply: Frame): void;
  reject(error: unknown): void;
}

/** `http://host:8080/base` → `ws://host:8080/base/ws/queues/{setupId}/{queueName}`. */
export function webSocketUrl(baseUrl: string, target: PushTarget): string {
  const url = new URL(`${baseUrl}/ws/queues/${encodeURIComponent(target.setupId)}/${encodeURIComponent(target.queueName)}`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

const decoder = new TextDecoder();

function frameText(data: unknown): string | undefined {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer) return decoder.decode(data);
  if (ArrayBuffer.isView(data)) return decoder.decode(data as Uint8Array);
  return undefined;
}

export class WsSubscription<T> extends BaseSubscription<T> {
  private socket: WebSocketLike | undefined;
  private requests: Request[] = [];
  private seq = 0;

  constructor(
    private readonly WebSocketClass: WebSocketConstructor,
    private readonly baseUrl: string,
    target: PushTarget,
    options: ResolvedSubscribeOptions,
    onMessage: PushHandler<T>,
  ) {
    super(target, options, onMessage);
  }

  protected connect(): void {
    const url = webSocketUrl(this.baseUrl, this.target);
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(url);
    } catch (error) {
      this.lost(unreachable(url, error));
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket === socket) void this.subscribeOn(socket);
    });
    socket.addEventListener("message", (event) => {
      if (this.socket === socket) this.onFrame(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      const why = event.code === undefined ? "" : ` (${event.code}${event.reason ? ` ${event.reason}` : ""})`;
      this.lost(new UnavailableError(`the WebSocket to ${url} closed${why}`, { url }));
    });
    // A close event follows every error; that is where reconnecting starts.
    socket.addEventListener("error", () => undefined);
  }

  protected disconnect(): void {
    const socket = this.socket;
    this.socket = undefined;
    for (const r of this.requests.splice(0)) r.reject(new UnavailableError("the WebSocket closed before the server answered"));
    if (socket && socket.readyState <= OPEN) socket.close(1000, "client closed");
  }

  private async subscribeOn(socket: WebSocketLike): Promise<void> {
    const o = this.options;
    try {
      if (o.batchSize !== undefined || o.maxWaitTime !== undefined) {
        await this.request(socket, { type: "configure", batchSize: o.batchSize, maxWaitTime: o.maxWaitTime });
      }
      const reply = await this.request(socket, {
        type: "subscribe",
        consumerGroup: o.consumerGroup,
        filters: o.filters,
        startId: this.resumeId(),
        // Sent even when not given: the server's default for a group is `auto`, the SDK's is `manual`.
        ackMode: o.ackMode ?? (o.consumerGroup === undefined ? undefined : "manual"),
        maxInFlight: o.maxInFlight,
      });
      if (this.socket === socket) this.opened(reply.startId);
    } catch (error) {
      if (this.socket === socket) this.lost(error);
    }
  }

  /** Sends a message and answers the server's reply to it (an `error` reply rejects). */
  private request(socket: WebSocketLike, message: Record<string, unknown>): Promise<Frame> {
    const id = `c${++this.seq}`;
    return new Promise<Frame>((resolve, reject) => {
      this.requests.push({ id, resolve, reject });
      socket.send(JSON.stringify({ ...message, id }));
    });
  }

  private onFrame(data: unknown): void {
    let frame: Frame;
    try {
      frame = JSON.parse(frameText(data) ?? "") as Frame;
    } catch {
      return;
    }
    this.touch();
    const type = typeof frame.type === "string" ? frame.type : "";
    if (type === "data") this.receive(frame as PushedEntry);
    else if (type === "batch" && Array.isArray(frame.messages)) for (const m of frame.messages as PushedEntry[]) this.receive(m);
    else if (REPLIES.has(type)) this.requests.shift()?.resolve(frame);
    else if (type === "error") this.onError(frame);
  }

  private onError(frame: Frame): void {
    const error = errorFromObject(frame, "RUNNEL_INTERNAL", "the server reported an error");
    const i = frame.id === undefined ? -1 : this.requests.findIndex((r) => r.id === frame.id);
    // With the id of a request it answers that request; without, it is news (a slow-consumer notice, a failed read).
    if (i >= 0) this.requests.splice(i, 1)[0]!.reject(error);
    else this.report(error);
  }

  private receive(entry: PushedEntry): void {
    const manual = this.options.consumerGroup !== undefined && this.options.ackMode !== "auto";
    const settle = { ack: () => this.settle("ack", entry.id), nack: (delayMs = 0) => this.settle("nack", entry.id, delayMs) };
    this.received(entry, manual ? settle : undefined);
  }

  private async settle(type: "ack" | "nack", id: string, delayMs?: number): Promise<boolean> {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) {
      throw new UnavailableError("not connected: the entry went back to the group and will be delivered again");
    }
    const reply = await this.request(socket, { type, messageId: id, ...(type === "nack" ? { delayMs } : {}) });
    const count = type === "ack" ? reply.acked : reply.nacked;
    return typeof count === "number" && count > 0;
  }
}
