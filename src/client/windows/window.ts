// A leased window as the consumer callback sees it: its messages (frozen), a working view to filter, and helpers
// to group and aggregate on the client.

/** One entry of a window, as the server sends it. */
/** `P` is the payload's type; the default suits JSON objects (`msg.payload.amount`). */
export interface WindowMessage<P = Record<string, unknown>> {
  id: string;
  /** The source stream (queue) it was appended to. */
  queue: string;
  partition: number;
  offset: number;
  key: string | null;
  type: string | null;
  headers: Readonly<Record<string, string>>;
  payload: P;
  priority: string;
  correlationId: string | null;
  causationId: string | null;
  messageId: string | null;
  /** When it was appended, epoch ms (and as ISO in `createdAt`). */
  timestamp: number;
  createdAt: string;
  /** The time the window placed it by: the timestamp, or the payload field the stream names. */
  eventTime: number;
}

/** The window fields of a poll response. */
export interface WindowData<P = Record<string, unknown>> {
  id: string;
  leaseId: string;
  streamName: string;
  consumerGroup: string;
  key: string;
  start: string;
  end: string;
  leaseExpiresAt: string;
  leaseTimeoutMs: number;
  attempt: number;
  messages: WindowMessage<P>[];
}

/** What to aggregate: `count`, and the dot paths (`payload.amount`) to sum, average, and take the least and most of. */
export interface AggregateSpec {
  count?: boolean;
  sum?: readonly string[];
  avg?: readonly string[];
  min?: readonly string[];
  max?: readonly string[];
}

/** Per path; `avg`, `min` and `max` are null when no message had a number there. */
export interface AggregateResult {
  count?: number;
  sum?: Record<string, number>;
  avg?: Record<string, number | null>;
  min?: Record<string, number | null>;
  max?: Record<string, number | null>;
}

/** The result's shape for a given spec: only the parts asked for, so `stats.sum["payload.amount"]` type-checks. */
export type AggregateOf<S extends AggregateSpec> = (S extends { count: true } ? { count: number } : unknown) &
  (S extends { sum: readonly string[] } ? { sum: Record<string, number> } : unknown) &
  (S extends { avg: readonly string[] } ? { avg: Record<string, number | null> } : unknown) &
  (S extends { min: readonly string[] } ? { min: Record<string, number | null> } : unknown) &
  (S extends { max: readonly string[] } ? { max: Record<string, number | null> } : unknown);

/** Reads a dot path (`payload.user.id`) from a message; undefined where it does not lead anywhere. */
export function valueAt(message: unknown, path: string): unknown {
  let value: unknown = message;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function numberAt(message: unknown, path: string): number | undefined {
  const v = valueAt(message, path);
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * One window of a windowed stream, leased to this consumer. `allMessages` never changes; `filter()` narrows the
 * working view `messages` that `groupBy()` and `aggregate()` read, and `reset()` widens it again.
 *
 * @example
 * const stats = window.filter((m) => m.payload.type === "click").aggregate({ count: true, sum: ["payload.amount"] });
 * console.log(window.key, window.start, stats.count, stats.sum["payload.amount"]);
 */
export class Window<P = Record<string, unknown>> {
  readonly id: string;
  readonly leaseId: string;
  readonly streamName: string;
  readonly consumerGroup: string;
  /** The partition for a partitioned stream, `__GLOBAL__` otherwise. */
  readonly key: string;
  /** ISO times; `start` inclusive, `end` exclusive. */
  readonly start: string;
  readonly end: string;
  /** 1 on the first delivery to the group, more after a nack or an expired lease. */
  readonly attempt: number;
  readonly leaseTimeoutMs: number;
  readonly allMessages: readonly WindowMessage<P>[];
  private view: readonly WindowMessage<P>[];

  constructor(data: WindowData<P>) {
    this.id = data.id;
    this.leaseId = data.leaseId;
    this.streamName = data.streamName;
    this.consumerGroup = data.consumerGroup;
    this.key = data.key;
    this.start = data.start;
    this.end = data.end;
    this.attempt = data.attempt;
    this.leaseTimeoutMs = data.leaseTimeoutMs;
    this.allMessages = deepFreeze(structuredClone(data.messages));
    this.view = this.allMessages;
  }

  /** The working view: every message until `filter()` narrows it. */
  get messages(): readonly WindowMessage<P>[] {
    return this.view;
  }

  get startTime(): Date {
    return new Date(this.start);
  }

  get endTime(): Date {
    return new Date(this.end);
  }

  /** Keeps only the messages `predicate` accepts in the working view; chainable. */
  filter(predicate: (message: WindowMessage<P>, index: number) => boolean): this {
    this.view = Object.freeze(this.view.filter(predicate));
    return this;
  }

  /** Back to every message. */
  reset(): this {
    this.view = this.allMessages;
    return this;
  }

  /** The working view's messages by the value at `path` (`payload.userId`); a missing value groups under "undefined". */
  groupBy(path: string): Record<string, WindowMessage<P>[]> {
    const groups: Record<string, WindowMessage<P>[]> = {};
    for (const m of this.view) {
      const v = valueAt(m, path);
      const key = v !== null && typeof v === "object" ? JSON.stringify(v) : String(v);
      (groups[key] ??= []).push(m);
    }
    return groups;
  }

  /** Aggregates over the working view; values that are not numbers (or numeric text) are left out. */
  aggregate<const S extends AggregateSpec>(spec: S): AggregateOf<S> {
    const result: AggregateResult = {};
    const numbers = (path: string) =>
      this.view.map((m) => numberAt(m, path)).filter((n): n is number => n !== undefined);
    if (spec.count) result.count = this.view.length;
    if (spec.sum) result.sum = Object.fromEntries(spec.sum.map((p) => [p, numbers(p).reduce((a, b) => a + b, 0)]));
    if (spec.avg) {
      result.avg = Object.fromEntries(
        spec.avg.map((p) => {
          const ns = numbers(p);
          return [p, ns.length === 0 ? null : ns.reduce((a, b) => a + b, 0) / ns.length];
        }),
      );
    }
    const extreme = (paths: readonly string[], pick: (ns: number[]) => number) =>
      Object.fromEntries(paths.map((p) => {
        const ns = numbers(p);
        return [p, ns.length === 0 ? null : pick(ns)];
      }));
    if (spec.min) result.min = extreme(spec.min, (ns) => ns.reduce((a, b) => (b < a ? b : a)));
    if (spec.max) result.max = extreme(spec.max, (ns) => ns.reduce((a, b) => (b > a ? b : a)));
    return result as AggregateOf<S>;
  }
}
