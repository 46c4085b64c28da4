// Consumes a windowed stream as one member of a group: long-polls windows, renews their leases while the
// callback runs, acks on success and nacks on a throw.
import type { WindowHttp } from "./http.js";
import { Window, type WindowData } from "./window.js";

export interface ProcessOptions {
  /** How long one poll waits on the server for a ready window, in ms. */
  pollTimeoutMs?: number;
  /** How often a held lease is renewed; default a third of the stream's lease timeout. */
  renewEveryMs?: number;
  /** Pause after a failed poll before trying again, in ms. */
  retryDelayMs?: number;
  /** Stops the loop when aborted (as `stop()` does). */
  signal?: AbortSignal;
  /** Told about failures the loop survives (a callback that threw, a lost lease, an unreachable server). */
  onError?: (error: unknown, window?: Window<never>) => void;
}

export const DEFAULT_PROCESS_OPTIONS = {
  pollTimeoutMs: 30_000,
  retryDelayMs: 1_000,
} as const;

export type WindowHandler<P> = (window: Window<P>) => Promise<void> | void;

/**
 * A member of consumer group `group` on windowed stream `streamName`. Members of one group share the windows:
 * each window goes to one of them at a time.
 *
 * @example
 * const consumer = client.consumer("user-activity", "analytics-group");
 * consumer.process(async (window) => {
 *   const stats = window.aggregate({ count: true, sum: ["payload.amount"] });
 *   await save(window.key, window.start, stats);
 * });
 * // later
 * await consumer.stop();
 */
export class StreamConsumer {
  private stopper = new AbortController();
  private running: Promise<void> | null = null;

  constructor(
    private readonly http: WindowHttp,
    readonly streamName: string,
    readonly group: string,
  ) {}

  /**
   * Runs `handler` for each window, one at a time, until `stop()`. A handler that returns acks the window, one that
   * throws nacks it (it comes back, to this or another member). Resolves once stopped.
   */
  process<P = Record<string, unknown>>(handler: WindowHandler<P>, options: ProcessOptions = {}): Promise<void> {
    if (this.running) throw new Error(`consumer ${this.group} on ${this.streamName} is already processing`);
    if (this.stopper.signal.aborted) this.stopper = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, this.stopper.signal]) : this.stopper.signal;
    const onError = options.onError ?? ((error: unknown) => console.error(`[runnel] window consumer ${this.group}:`, error));
    this.running = this.loop(handler, options, signal, onError).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Ends `process()` after the window in hand (if any) is settled. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
  }

  /** Polls once for a window (null when none became ready within `timeoutMs`); settle it with `ack()`. */
  async poll<P = Record<string, unknown>>(timeoutMs = 0, signal?: AbortSignal): Promise<Window<P> | null> {
    const res = await this.http.call<{ window: WindowData<P> | null }>(
      "POST",
      "/api/v1/stream/poll",
      { streamName: this.streamName, consumerGroup: this.group, timeout: timeoutMs },
      signal,
    );
    return res.window ? new Window<P>(res.window) : null;
  }

  /** `success` true acknowledges the window; false hands it back for redelivery. */
  async ack(window: Window<unknown>, success = true): Promise<void> {
    await this.http.call("POST", "/api/v1/stream/ack", { windowId: window.id, leaseId: window.leaseId, success });
  }

  /** Extends the window's lease by `extendMs` (default: the stream's lease timeout) from now. */
  async renew(window: Window<unknown>, extendMs?: number): Promise<void> {
    await this.http.call("POST", "/api/v1/stream/renew-lease", {
      leaseId: window.leaseId,
      ...(extendMs === undefined ? {} : { extend_ms: extendMs }),
    });
  }

  /** Moves the group to `timestamp`: the window holding it and every later one are delivered (again). */
  async seek(timestamp: Date | string | number): Promise<void> {
    const at = timestamp instanceof Date ? timestamp.toISOString() : timestamp;
    await this.http.call("POST", "/api/v1/stream/seek", { streamName: this.streamName, consumerGroup: this.group, timestamp: at });
  }

  private async loop<P>(
    handler: WindowHandler<P>,
    options: ProcessOptions,
    signal: AbortSignal,
    onError: NonNullable<ProcessOptions["onError"]>,
  ): Promise<void> {
    const pollTimeoutMs = options.pollTimeoutMs ?? DEFAULT_PROCESS_OPTIONS.pollTimeoutMs;
    const retryDelayMs = options.retryDelayMs ?? DEFAULT_PROCESS_OPTIONS.retryDelayMs;
    while (!signal.aborted) {
      let window: Window<P> | null;
      try {
        window = await this.poll<P>(pollTimeoutMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        onError(error);
        await pause(retryDelayMs, signal);
        continue;
      }
      if (window) await this.handle(window, handler, options, onError);
    }
  }

  /** Runs the handler with the lease kept alive, then acks or nacks. */
  private async handle<P>(
    window: Window<P>,
    handler: WindowHandler<P>,
    options: ProcessOptions,
    onError: NonNullable<ProcessOptions["onError"]>,
  ): Promise<void> {
    const every = options.renewEveryMs ?? Math.max(100, Math.floor(window.leaseTimeoutMs / 3));
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = this.renew(window as Window<unknown>).catch((error) => onError(error, window as Window<never>));
    }, every);
    let ok = true;
    try {
      await handler(window);
    } catch (error) {
      ok = false;
      onError(error, window as Window<never>);
    } finally {
      clearInterval(timer);
      await renewing;
    }
    try {
      await this.ack(window as Window<unknown>, ok);
    } catch (error) {
      // The lease was lost (expired and taken, or the group was seeked): another member has the window now.
      onError(error, window as Window<never>);
    }
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
