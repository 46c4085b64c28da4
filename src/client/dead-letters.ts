// Dead letters over HTTP: list a stream's dead letters and send them back (`/stream/:stream/dlq`).
import type { StreamEntry } from "./entry.js";
import { path, type HttpTransport } from "./http.js";

/**
 * A stream's dead letters. Each entry carries `runnel-dead-*` headers saying why and from where.
 *
 * @example
 * ```ts
 * const { deadLetterStream, entries }: DeadLetterList = await client.deadLetters.list("payments");
 * for (const e of entries) console.log(e.headers["runnel-dead-reason"], e.headers["runnel-dead-id"]);
 * ```
 */
export interface DeadLetterList<T = unknown> {
  stream: string;
  deadLetterStream: string;
  entries: StreamEntry<T>[];
}

/**
 * Which dead letters to list.
 *
 * @example
 * ```ts
 * const options: DeadLetterListOptions = { start: "-", count: 20, rawPayloads: true };
 * ```
 */
export interface DeadLetterListOptions {
  /** The first id to list (default `-`, the oldest). */
  start?: string;
  count?: number;
  /** Hand out each payload as a RawJson of the exact text the server stored; list with `RawJson` as the payload type. */
  rawPayloads?: boolean;
}

/**
 * What reprocessing answers: for each dead letter, the id it got in the stream it came from.
 *
 * @example
 * ```ts
 * const r: ReprocessResult = await client.deadLetters.reprocess("payments", { count: 10 });
 * console.log(r.reprocessed, r.entries.map((e) => `${e.deadLetterId} -> ${e.stream}/${e.id}`));
 * ```
 */
export interface ReprocessResult {
  reprocessed: number;
  entries: { deadLetterId: string; id: string; stream: string }[];
}

/**
 * The dead-letter operations; reach them as `client.deadLetters`.
 *
 * @example
 * ```ts
 * const { entries } = await client.deadLetters.list("payments");
 * await client.deadLetters.reprocess("payments", { ids: entries.map((e) => e.id) });
 * ```
 */
export class DeadLettersApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * The stream's dead letters, oldest first, from `start` (default `-`).
   *
   * @example
   * ```ts
   * const { entries } = await client.deadLetters.list("payments", { count: 20 });
   * ```
   */
  list<T = unknown>(stream: string, options: DeadLetterListOptions = {}): Promise<DeadLetterList<T>> {
    const { rawPayloads, ...query } = options;
    return this.http.request("GET", path`/stream/${stream}/dlq`, { query, rawPayloads });
  }

  /**
   * Appends dead letters again to the stream they came from (original headers restored) and removes them
   * from the dead-letter stream: the given `ids`, or the oldest `count` (default 100).
   *
   * @example
   * ```ts
   * await client.deadLetters.reprocess("payments", { ids: ["1763822400000-0"] });
   * ```
   */
  reprocess(stream: string, options: { ids?: readonly string[]; count?: number } = {}): Promise<ReprocessResult> {
    return this.http.request("POST", path`/stream/${stream}/dlq/reprocess`, { body: options });
  }
}
