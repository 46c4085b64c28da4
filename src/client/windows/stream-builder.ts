// Defines a windowed stream fluently: sources, partitioning, the window kind and its timing, then `define()`.
import type { WindowHttp } from "./http.js";

export type WindowKind = "tumbling" | "hopping" | "session";

/** The stream as the server stored it. */
export interface StreamDefinition {
  name: string;
  namespace: string;
  source_queue_names: string[];
  partitioned: boolean;
  window_type: WindowKind;
  window_duration_ms: number;
  window_hop_ms?: number;
  window_gap_ms?: number;
  window_grace_period_ms: number;
  window_lease_timeout_ms: number;
  event_time_field: string | null;
  createdAt: string;
}

export interface DefineResult {
  success: boolean;
  /** False when an identical definition already existed. */
  created: boolean;
  stream: StreamDefinition;
}

const seconds = (s: number) => Math.round(s * 1000);

/**
 * Builds a windowed stream over source queues in `namespace`. Times are given in seconds, as in seed 002.
 *
 * @example
 * await client.stream("user-activity", "production")
 *   .sources(["user-clicks", "user-purchases"])
 *   .partitioned()
 *   .tumblingTime(300)
 *   .gracePeriod(30)
 *   .define();
 */
export class StreamBuilder {
  private readonly body: Record<string, unknown>;

  constructor(
    private readonly http: WindowHttp,
    name: string,
    namespace = "default",
  ) {
    this.body = { name, namespace, source_queue_names: [], partitioned: false };
  }

  /** The source queues (streams) whose entries fill the windows. */
  sources(names: readonly string[]): this {
    this.body.source_queue_names = [...names];
    return this;
  }

  /** One window per partition (key = the partition) instead of one global window per time span. */
  partitioned(on = true): this {
    this.body.partitioned = on;
    return this;
  }

  /** Back-to-back windows of `sizeSeconds`, aligned to multiples of it. */
  tumblingTime(sizeSeconds: number): this {
    return this.kind("tumbling", { window_duration_ms: seconds(sizeSeconds) });
  }

  /** Overlapping windows of `sizeSeconds`, one starting every `hopSeconds`. */
  hoppingTime(sizeSeconds: number, hopSeconds: number): this {
    return this.kind("hopping", { window_duration_ms: seconds(sizeSeconds), window_hop_ms: seconds(hopSeconds) });
  }

  /** Session windows: a window closes after `gapSeconds` without entries for its key. */
  sessionGap(gapSeconds: number): this {
    return this.kind("session", { window_gap_ms: seconds(gapSeconds) });
  }

  /** How long after a window's end entries for it are still awaited before it is handed out. */
  gracePeriod(graceSeconds: number): this {
    this.body.window_grace_period_ms = seconds(graceSeconds);
    return this;
  }

  /** How long a consumer holds a window before another may take it (renewed automatically while processing). */
  leaseTimeout(timeoutSeconds: number): this {
    this.body.window_lease_timeout_ms = seconds(timeoutSeconds);
    return this;
  }

  /** Place entries by a payload field (epoch ms or ISO) rather than by when they were appended. */
  eventTime(payloadPath: string): this {
    this.body.event_time_field = payloadPath;
    return this;
  }

  /** Sends the definition; defining the same stream again is harmless, a different one is a `ConflictError`. */
  async define(): Promise<DefineResult> {
    return this.http.call<DefineResult>("POST", "/api/v1/stream/define", this.body);
  }

  private kind(type: WindowKind, fields: Record<string, number>): this {
    for (const k of ["window_duration_ms", "window_hop_ms", "window_gap_ms"]) delete this.body[k];
    Object.assign(this.body, { window_type: type }, fields);
    return this;
  }
}
