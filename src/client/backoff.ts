// Exponential backoff with jitter for reconnects and retries, and a sleep that an AbortSignal cuts short.
import { BadRequestError } from "../core/errors.js";

/**
 * How long to wait between attempts: `initialDelayMs`, then `factor` times more each time, at most
 * `maxDelayMs`, each delay varied by ±`jitter` (a fraction) so many clients do not retry in step.
 *
 * @example
 * ```ts
 * const reconnect: BackoffOptions = { initialDelayMs: 200, maxDelayMs: 10_000 };
 * client.subscribe("default", "orders", { transport: "ws", reconnect }, onMessage);
 * ```
 */
export interface BackoffOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  jitter?: number;
}

/**
 * The reconnect backoff used when none is given: 100 ms doubling up to 5 s, ±20 %.
 *
 * @example
 * ```ts
 * const slower: BackoffOptions = { ...DEFAULT_BACKOFF, maxDelayMs: 30_000 };
 * ```
 */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5000,
  factor: 2,
  jitter: 0.2,
});

export function resolveBackoffOptions(options: BackoffOptions = {}): Required<BackoffOptions> {
  const o = { ...DEFAULT_BACKOFF };
  for (const [k, v] of Object.entries(options) as [keyof BackoffOptions, number | undefined][]) if (v !== undefined) o[k] = v;
  if (!(o.initialDelayMs >= 0) || !(o.maxDelayMs >= o.initialDelayMs) || !(o.factor >= 1) || !(o.jitter >= 0 && o.jitter <= 1)) {
    throw new BadRequestError("backoff needs 0 <= initialDelayMs <= maxDelayMs, factor >= 1 and jitter from 0 to 1", {
      field: "reconnect",
    });
  }
  return o;
}

/** Counts attempts and answers the delay before the next one. */
export class Backoff {
  private readonly options: Required<BackoffOptions>;
  private failures = 0;

  constructor(options: BackoffOptions = {}) {
    this.options = resolveBackoffOptions(options);
  }

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt, and counts this failure. */
  next(): number {
    const { initialDelayMs, maxDelayMs, factor, jitter } = this.options;
    const base = Math.min(maxDelayMs, initialDelayMs * factor ** this.failures);
    this.failures++;
    return Math.max(0, Math.round(base * (1 + jitter * (Math.random() * 2 - 1))));
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
