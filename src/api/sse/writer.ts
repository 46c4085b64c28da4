// Writes a Server-Sent Events stream on a raw HTTP response, with a bound on what may pile up unsent.
import type { ServerResponse } from "node:http";

export interface SseWriterOptions {
  /** Bytes that may wait in the socket buffer before the client counts as too slow. */
  maxBuffered: number;
  /** Extra response headers (CORS, for example). */
  headers?: Record<string, string>;
}

export const DEFAULT_SSE_MAX_BUFFERED = 1024 * 1024;

/** One line-safe SSE field: a value with newlines becomes several `data:` lines. */
function field(name: string, value: string): string {
  return value
    .split(/\r\n|\r|\n/)
    .map((line) => `${name}: ${line}\n`)
    .join("");
}

export class SseWriter {
  private closed = false;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseWriterOptions,
  ) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...options.headers,
    });
    res.flushHeaders();
    res.on("close", () => this.markClosed());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True when the client reads slower than we write and the buffer passed its bound. */
  get overloaded(): boolean {
    return this.res.writableLength > this.options.maxBuffered;
  }

  /** Sends one event; `event` omitted means the default `message` type. Answers false once closed. */
  send(data: string, event?: string, id?: string): boolean {
    if (this.closed) return false;
    let frame = "";
    if (id !== undefined) frame += `id: ${id}\n`;
    if (event !== undefined) frame += `event: ${event}\n`;
    frame += `${field("data", data)}\n`;
    this.res.write(frame);
    return true;
  }

  /** A comment line: keeps proxies and the connection from timing out without waking the client's handlers. */
  comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  /** Tells EventSource how long to wait before reconnecting. */
  retry(ms: number): void {
    if (!this.closed) this.res.write(`retry: ${ms}\n\n`);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.res.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners.splice(0)) l();
  }
}
