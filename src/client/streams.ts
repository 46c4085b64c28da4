// Streams over HTTP: append, create, configure, inspect, read, trim and delete (`/stream/:stream/...`, `/streams`).
import type { StreamConfig } from "../core/types.js";
import { batchText, entryText, type AppendOptions, type AppendResult, type EntryInput, type StreamEntry } from "./entry.js";
import { path, type HttpTransport } from "./http.js";

/**
 * Options of a stream, given at creation or changed later.
 *
 * @example
 * ```ts
 * const options: StreamOptions = { partitions: 4, maxLen: 100_000, maxDeliveries: 5 };
 * await client.streams.create("payments", options);
 * ```
 */
export interface StreamOptions {
  /** May grow, never shrink. */
  partitions?: number;
  /** Keep at most this many entries (null: no limit). */
  maxLen?: number | null;
  /** Drop entries older than this (null: keep). */
  maxAgeMs?: number | null;
  /** Dead-letter an entry that would be delivered more often than this (null: never). */
  maxDeliveries?: number | null;
  /** Where dead letters go; `<stream>:dlq` when null. */
  deadLetterStream?: string | null;
  /** How long a messageId is remembered for idempotent appends. */
  dedupeWindowMs?: number;
}

/**
 * A stream's options and counters.
 *
 * @example
 * ```ts
 * const streams: StreamDescription[] = await client.streams.list();
 * for (const s of streams) console.log(s.name, s.length, s.partitions);
 * ```
 */
export interface StreamDescription extends StreamConfig {
  name: string;
  namespace: string;
  length: number;
  lastGeneratedId: string;
  entriesAdded: number;
  createdAt: number;
}

/**
 * A consumer group as stream info summarises it.
 *
 * @example
 * ```ts
 * const { groups } = await client.streams.info("orders");
 * const behind = groups.filter((g: GroupSummary) => g.lag > 1000);
 * ```
 */
export interface GroupSummary {
  name: string;
  consumers: number;
  pending: number;
  /** Entries waiting for a delay or a redelivery. */
  deferred: number;
  lastDeliveredId: string;
  entriesRead: number;
  /** Appended since the group's start and not yet acknowledged. */
  lag: number;
}

/**
 * Everything `GET /stream/:stream/info` tells.
 *
 * @example
 * ```ts
 * const info: StreamInfo<{ orderId: number }> = await client.streams.info("orders");
 * console.log(info.length, info.lastEntry?.payload.orderId);
 * ```
 */
export interface StreamInfo<T = unknown> extends StreamDescription {
  firstEntry: StreamEntry<T> | null;
  lastEntry: StreamEntry<T> | null;
  groups: GroupSummary[];
}

/**
 * Bounds of a range read (XRANGE): `-`, `+`, an id, a bare ms, or `(id` for an exclusive bound.
 *
 * @example
 * ```ts
 * const newestTen = await client.streams.range("orders", { reverse: true, count: 10 });
 * const after = await client.streams.range("orders", { start: `(${newestTen[0]?.id ?? "0-0"}` });
 * ```
 */
export interface RangeOptions {
  start?: string;
  end?: string;
  /** At most this many (server default 100). */
  count?: number;
  /** Newest first. */
  reverse?: boolean;
  /**
   * Hand out each payload as a {@link RawJson} of the exact text the server stored (a number such as
   * 12345678901234567890 or 1.50 stays as written); read with `RawJson` as the payload type.
   */
  rawPayloads?: boolean;
  signal?: AbortSignal;
}

/**
 * A read of entries after an id (XREAD).
 *
 * @example
 * ```ts
 * // wait up to 10 s for entries newer than the last one seen
 * const fresh = await client.streams.read("orders", { after: lastSeen, block: 10_000 });
 * ```
 */
export interface ReadOptions {
  /** Entries after this id; `$` means only entries appended from now on (default `0-0`). */
  after?: string;
  count?: number;
  /** Wait up to this many ms for the first entry when none is there yet. */
  block?: number;
  /**
   * Hand out each payload as a {@link RawJson} of the exact text the server stored (a number such as
   * 12345678901234567890 or 1.50 stays as written); read with `RawJson` as the payload type.
   */
  rawPayloads?: boolean;
  signal?: AbortSignal;
}

/**
 * What to trim: keep the newest `maxLen` entries, or drop entries below `minId`.
 *
 * @example
 * ```ts
 * const dropped = await client.streams.trim("orders", { maxLen: 1000 });
 * ```
 */
export type TrimOptions = { maxLen: number; minId?: string } | { maxLen?: number; minId: string };

interface EntriesReply<T> {
  entries: StreamEntry<T>[];
}

/**
 * The stream operations; reach them as `client.streams`. Stream routes act on the namespace `default`.
 *
 * @example
 * ```ts
 * const client = new RunnelClient({ url: "http://localhost:8080" });
 * const { id } = await client.streams.append("orders", { orderId: 42 }, { type: "OrderCreated" });
 * const entries = await client.streams.range("orders");
 * ```
 */
export class StreamsApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * Appends one entry (`POST /stream/:stream/entries`); the stream is created on first append.
   *
   * @example
   * ```ts
   * const r = await client.streams.append("orders", { orderId: 42 }, { type: "OrderCreated", headers: { region: "EU" } });
   * console.log(r.id, r.partition, r.offset);
   * ```
   */
  async append(stream: string, payload: unknown, options: AppendOptions = {}): Promise<AppendResult> {
    const reply = await this.http.request<{ results: AppendResult[] }>("POST", path`/stream/${stream}/entries`, {
      json: entryText(payload, options),
    });
    return reply.results[0]!;
  }

  /**
   * Appends several entries atomically (all or nothing); answers one result per entry, in order.
   *
   * @example
   * ```ts
   * const results = await client.streams.appendBatch("orders", [{ payload: { n: 1 } }, { payload: { n: 2 }, priority: "HIGH" }]);
   * ```
   */
  async appendBatch(stream: string, entries: readonly EntryInput[]): Promise<AppendResult[]> {
    const json = batchText(entries.map(({ payload, ...options }) => entryText(payload, options)));
    const reply = await this.http.request<{ results: AppendResult[] }>("POST", path`/stream/${stream}/entries`, { json });
    return reply.results;
  }

  /**
   * Creates a stream with options; a `ConflictError` when it exists.
   *
   * @example
   * ```ts
   * await client.streams.create("payments", { partitions: 4, maxDeliveries: 5 });
   * ```
   */
  create(stream: string, options: StreamOptions = {}): Promise<StreamDescription> {
    return this.http.request("POST", path`/stream/${stream}`, { body: options });
  }

  /**
   * Changes a stream's options (partitions may grow, never shrink).
   *
   * @example
   * ```ts
   * await client.streams.configure("payments", { maxLen: 10_000 });
   * ```
   */
  configure(stream: string, options: StreamOptions): Promise<StreamDescription> {
    return this.http.request("PATCH", path`/stream/${stream}`, { body: options });
  }

  /**
   * Deletes a stream with its groups and pending entries.
   *
   * @example
   * ```ts
   * await client.streams.delete("scratch");
   * ```
   */
  async delete(stream: string): Promise<void> {
    await this.http.request("DELETE", path`/stream/${stream}`);
  }

  /**
   * The namespace's streams.
   *
   * @example
   * ```ts
   * const names = (await client.streams.list()).map((s) => s.name);
   * ```
   */
  async list(): Promise<StreamDescription[]> {
    return (await this.http.request<{ streams: StreamDescription[] }>("GET", "/streams")).streams;
  }

  /**
   * Length, first and last entry, options and groups with pending and lag.
   *
   * @example
   * ```ts
   * const info = await client.streams.info("orders");
   * console.log(info.length, info.groups.map((g) => `${g.name}: ${g.lag}`));
   * ```
   */
  info<T = unknown>(stream: string): Promise<StreamInfo<T>> {
    return this.http.request("GET", path`/stream/${stream}/info`);
  }

  /**
   * How many entries the stream holds.
   *
   * @example
   * ```ts
   * const n = await client.streams.len("orders");
   * ```
   */
  async len(stream: string): Promise<number> {
    return (await this.http.request<{ length: number }>("GET", path`/stream/${stream}/len`)).length;
  }

  /**
   * Entries between two ids (XRANGE).
   *
   * @example
   * ```ts
   * const firstHundred = await client.streams.range<{ orderId: number }>("orders", { start: "-", end: "+", count: 100 });
   * ```
   */
  async range<T = unknown>(stream: string, options: RangeOptions = {}): Promise<StreamEntry<T>[]> {
    const { signal, rawPayloads, ...query } = options;
    return (await this.http.request<EntriesReply<T>>("GET", path`/stream/${stream}/range`, { query, signal, rawPayloads })).entries;
  }

  /**
   * Entries after an id (XREAD), optionally waiting up to `block` ms for the first.
   *
   * @example
   * ```ts
   * let after = "$";
   * for (;;) {
   *   const entries = await client.streams.read("orders", { after, block: 30_000 });
   *   for (const e of entries) console.log(e.payload);
   *   after = entries.at(-1)?.id ?? after;
   * }
   * ```
   */
  async read<T = unknown>(stream: string, options: ReadOptions = {}): Promise<StreamEntry<T>[]> {
    const { signal, rawPayloads, ...query } = options;
    return (await this.http.request<EntriesReply<T>>("GET", path`/stream/${stream}/read`, { query, signal, rawPayloads })).entries;
  }

  /**
   * Trims the stream; answers how many entries were removed.
   *
   * @example
   * ```ts
   * await client.streams.trim("orders", { minId: "1763822400000-0" });
   * ```
   */
  async trim(stream: string, options: TrimOptions): Promise<number> {
    return (await this.http.request<{ trimmed: number }>("POST", path`/stream/${stream}/trim`, { body: options })).trimmed;
  }

  /**
   * Deletes entries by id; answers how many existed.
   *
   * @example
   * ```ts
   * const deleted = await client.streams.deleteEntries("orders", ["1763822400000-0"]);
   * ```
   */
  async deleteEntries(stream: string, ids: readonly string[]): Promise<number> {
    return (await this.http.request<{ deleted: number }>("POST", path`/stream/${stream}/delete`, { body: { ids } })).deleted;
  }
}
