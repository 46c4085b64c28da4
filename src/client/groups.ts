// Consumer groups over HTTP with Redis semantics: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, and nack.
import type { GroupEntry } from "./entry.js";
import { path, type HttpTransport } from "./http.js";
import type { GroupSummary } from "./streams.js";

/**
 * Where a new group starts and whether a missing stream is created.
 *
 * @example
 * ```ts
 * await client.groups.create("orders", "billing", { startId: "0" }); // from the beginning
 * ```
 */
export interface CreateGroupOptions {
  /** `0` (the beginning), `$` (only new entries, the default) or an id to continue after. */
  startId?: string;
  /** Create the stream when it does not exist (default true). */
  mkStream?: boolean;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * What creating a group answers.
 *
 * @example
 * ```ts
 * const g: GroupCreated = await client.groups.create("orders", "billing");
 * console.log(g.startId);
 * ```
 */
export interface GroupCreated {
  stream: string;
  group: string;
  /** The id the group continues after. */
  startId: string;
  created: true;
}

/**
 * A consumer of a group.
 *
 * @example
 * ```ts
 * const idle = (await client.groups.consumers("orders", "billing")).filter((c: ConsumerInfo) => c.idleMs > 60_000);
 * ```
 */
export interface ConsumerInfo {
  name: string;
  /** Entries delivered to it and not yet acknowledged. */
  pending: number;
  /** When it last read (ms since the epoch) and how long ago. */
  seenAt: number;
  idleMs: number;
  /** When it last got an entry, and how long ago (null: never). */
  activeAt: number | null;
  inactiveMs: number | null;
}

/**
 * A group in detail.
 *
 * @example
 * ```ts
 * const info: GroupInfo = await client.groups.info("orders", "billing");
 * console.log(info.pending, info.lag, info.consumerList.map((c) => c.name));
 * ```
 */
export interface GroupInfo extends GroupSummary {
  stream: string;
  consumerList: ConsumerInfo[];
  createdAt: number;
}

/**
 * A group read (XREADGROUP).
 *
 * @example
 * ```ts
 * // new entries, waiting up to 5 s
 * await client.groups.read("orders", "billing", "w1", { count: 10, block: 5000 });
 * // this consumer's own pending entries, from the start
 * await client.groups.read("orders", "billing", "w1", { id: "0" });
 * ```
 */
export interface GroupReadOptions {
  /** At most this many (server default 10). */
  count?: number;
  /** Wait up to this many ms for new entries. */
  block?: number;
  /** `>` (default) for entries no consumer has had; an id re-reads this consumer's pending entries after it. */
  id?: string;
  /** Do not keep the entries pending (no ack needed). */
  noack?: boolean;
  /** Read as this member of the group (see `client.membership`): only its assigned partitions. */
  memberId?: string;
  /**
   * Hand out each payload as a {@link RawJson} of the exact text the server stored (a number such as
   * 12345678901234567890 or 1.50 stays as written); read with `RawJson` as the payload type.
   */
  rawPayloads?: boolean;
  signal?: AbortSignal;
}

/**
 * Entries handed to a consumer, and the ids of pending entries that were deleted from the stream meanwhile.
 *
 * @example
 * ```ts
 * const { entries, deleted }: GroupReadResult<{ orderId: number }> = await client.groups.read("orders", "billing", "w1", { id: "0" });
 * if (deleted.length) await client.groups.ack("orders", "billing", deleted);
 * ```
 */
export interface GroupReadResult<T = unknown> {
  entries: GroupEntry<T>[];
  deleted: string[];
}

/**
 * The summary of a group's pending entries.
 *
 * @example
 * ```ts
 * const { count, consumers }: PendingSummary = await client.groups.pending("orders", "billing");
 * ```
 */
export interface PendingSummary {
  count: number;
  smallestId: string | null;
  largestId: string | null;
  consumers: { name: string; pending: number }[];
}

/**
 * Which pending entries to list.
 *
 * @example
 * ```ts
 * const stuck = await client.groups.pendingEntries("orders", "billing", { idle: 60_000, count: 50 });
 * ```
 */
export interface PendingEntriesOptions {
  start?: string;
  end?: string;
  /** At most this many (default 100). */
  count?: number;
  consumer?: string;
  /** Only entries idle at least this many ms. */
  idle?: number;
}

/**
 * One pending entry.
 *
 * @example
 * ```ts
 * const [oldest]: PendingEntry[] = await client.groups.pendingEntries("orders", "billing", { count: 1 });
 * console.log(oldest?.consumer, oldest?.idleMs, oldest?.deliveryCount);
 * ```
 */
export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveryCount: number;
  partition: number;
}

/**
 * An XCLAIM: take over entries idle at least `minIdleTime` ms.
 *
 * @example
 * ```ts
 * const claim: ClaimOptions = { consumer: "w2", minIdleTime: 60_000, ids: ["1763822400000-0"] };
 * ```
 */
export interface ClaimOptions {
  consumer: string;
  minIdleTime: number;
  ids: readonly string[];
  /** Set the idle time to this (ms) instead of 0. */
  idle?: number;
  /** Set the last delivery time to this (ms since the epoch). */
  time?: number;
  /** Set the delivery count to this. */
  retryCount?: number;
  /** Claim ids that are not pending too (when the entry exists). */
  force?: boolean;
  /**
   * Hand out each payload as a {@link RawJson} of the exact text the server stored (a number such as
   * 12345678901234567890 or 1.50 stays as written); read with `RawJson` as the payload type.
   */
  rawPayloads?: boolean;
}

/**
 * An XAUTOCLAIM: take over entries idle at least `minIdleTime` ms, scanning from `start`.
 *
 * @example
 * ```ts
 * let start = "0-0";
 * do {
 *   const r = await client.groups.autoClaim("orders", "billing", { consumer: "w2", minIdleTime: 60_000, start });
 *   start = r.next;
 * } while (start !== "0-0");
 * ```
 */
export interface AutoClaimOptions {
  consumer: string;
  minIdleTime: number;
  /** Where to scan from (default `0-0`). */
  start?: string;
  /** At most this many (default 100). */
  count?: number;
  /**
   * Hand out each payload as a {@link RawJson} of the exact text the server stored (a number such as
   * 12345678901234567890 or 1.50 stays as written); read with `RawJson` as the payload type.
   */
  rawPayloads?: boolean;
  /** Cancels the request. */
  signal?: AbortSignal;
}

/**
 * What an auto-claim answers: claimed entries, deleted ones it dropped, and where to continue (`0-0`: done).
 *
 * @example
 * ```ts
 * const { next, entries, deleted }: AutoClaimResult = await client.groups.autoClaim("orders", "billing", { consumer: "w2", minIdleTime: 0 });
 * ```
 */
export interface AutoClaimResult<T = unknown> {
  next: string;
  entries: GroupEntry<T>[];
  deleted: string[];
}

/** A served group delivery: an entry, or `{id, deleted: true}` for one deleted while pending. */
type Delivery<T> = GroupEntry<T> | { id: string; deleted: true; deliveryCount: number };

/** Options as the server takes them: `rawPayloads` is the SDK's own. */
/** The options the server reads: without the client's own (raw payloads, the abort signal). */
function serverOptions<O extends { rawPayloads?: boolean; signal?: AbortSignal }>(options: O): Omit<O, "rawPayloads" | "signal"> {
  const { rawPayloads, signal, ...rest } = options;
  return rest;
}

function split<T>(deliveries: Delivery<T>[]): GroupReadResult<T> {
  const out: GroupReadResult<T> = { entries: [], deleted: [] };
  for (const d of deliveries) {
    if ("deleted" in d && d.deleted === true) out.deleted.push(d.id);
    else out.entries.push(d as GroupEntry<T>);
  }
  return out;
}

/**
 * The consumer group operations; reach them as `client.groups`.
 *
 * @example
 * ```ts
 * await client.groups.create("orders", "billing", { startId: "0" });
 * const { entries } = await client.groups.read("orders", "billing", "w1", { count: 10, block: 5000 });
 * await client.groups.ack("orders", "billing", entries.map((e) => e.id));
 * ```
 */
export class GroupsApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * Creates a group; a `ConflictError` when it exists.
   *
   * @example
   * ```ts
   * await client.groups.create("orders", "billing", { startId: "$" });
   * ```
   */
  create(stream: string, group: string, options: CreateGroupOptions = {}): Promise<GroupCreated> {
    const { signal, ...body } = options;
    return this.http.request("POST", path`/stream/${stream}/group/${group}`, { body, signal });
  }

  /**
   * A group's counters and consumers.
   *
   * @example
   * ```ts
   * const { pending, lag } = await client.groups.info("orders", "billing");
   * ```
   */
  info(stream: string, group: string): Promise<GroupInfo> {
    return this.http.request("GET", path`/stream/${stream}/group/${group}`);
  }

  /**
   * Every group of a stream.
   *
   * @example
   * ```ts
   * const names = (await client.groups.list("orders")).map((g) => g.name);
   * ```
   */
  async list(stream: string): Promise<GroupInfo[]> {
    return (await this.http.request<{ groups: GroupInfo[] }>("GET", path`/stream/${stream}/groups`)).groups;
  }

  /**
   * Destroys a group with its pending entries.
   *
   * @example
   * ```ts
   * await client.groups.destroy("orders", "billing");
   * ```
   */
  async destroy(stream: string, group: string): Promise<void> {
    await this.http.request("DELETE", path`/stream/${stream}/group/${group}`);
  }

  /**
   * Moves the group's cursor: it continues after `id` (`0`, `$` or an id); pending entries stay.
   *
   * @example
   * ```ts
   * await client.groups.setId("orders", "billing", "$"); // skip the backlog
   * ```
   */
  async setId(stream: string, group: string, id: string): Promise<void> {
    await this.http.request("POST", path`/stream/${stream}/group/${group}/setid`, { body: { id } });
  }

  /**
   * Reads as a consumer (XREADGROUP): new entries by default, or the consumer's own pending ones.
   *
   * @example
   * ```ts
   * const { entries } = await client.groups.read<{ orderId: number }>("orders", "billing", "w1", { count: 10, block: 5000 });
   * ```
   */
  async read<T = unknown>(stream: string, group: string, consumer: string, options: GroupReadOptions = {}): Promise<GroupReadResult<T>> {
    const { signal, rawPayloads, ...query } = options;
    const reply = await this.http.request<{ entries: Delivery<T>[] }>(
      "GET",
      path`/stream/${stream}/group/${group}/consumer/${consumer}`,
      { query, signal, rawPayloads },
    );
    return split(reply.entries);
  }

  /**
   * Acknowledges entries; answers how many were pending.
   *
   * @example
   * ```ts
   * await client.groups.ack("orders", "billing", ["1763822400000-0"]);
   * ```
   */
  async ack(stream: string, group: string, ids: readonly string[], options: { signal?: AbortSignal } = {}): Promise<number> {
    const url = path`/stream/${stream}/group/${group}/ack`;
    return (await this.http.request<{ acked: number }>("POST", url, { body: { ids }, signal: options.signal })).acked;
  }

  /**
   * Gives entries back to the group for redelivery (to any consumer) after `delayMs`; answers how many.
   *
   * @example
   * ```ts
   * await client.groups.nack("orders", "billing", [id], { delayMs: 1000, consumer: "w1" });
   * ```
   */
  async nack(
    stream: string,
    group: string,
    ids: readonly string[],
    options: { delayMs?: number; consumer?: string } = {},
  ): Promise<number> {
    const body = { ids, ...options };
    return (await this.http.request<{ nacked: number }>("POST", path`/stream/${stream}/group/${group}/nack`, { body })).nacked;
  }

  /**
   * The summary of pending entries: how many, the id range and per-consumer counts.
   *
   * @example
   * ```ts
   * const { count } = await client.groups.pending("orders", "billing");
   * ```
   */
  pending(stream: string, group: string): Promise<PendingSummary> {
    return this.http.request("GET", path`/stream/${stream}/group/${group}/pending`);
  }

  /**
   * Pending entries in detail (XPENDING with a range).
   *
   * @example
   * ```ts
   * const mine = await client.groups.pendingEntries("orders", "billing", { consumer: "w1" });
   * ```
   */
  async pendingEntries(stream: string, group: string, options: PendingEntriesOptions = {}): Promise<PendingEntry[]> {
    // Without any of these the server answers the summary instead.
    const query = { ...options, count: options.count ?? 100 };
    return (await this.http.request<{ entries: PendingEntry[] }>("GET", path`/stream/${stream}/group/${group}/pending`, { query })).entries;
  }

  /**
   * Takes over pending entries idle at least `minIdleTime` ms (XCLAIM); answers those it claimed.
   *
   * @example
   * ```ts
   * const { entries } = await client.groups.claim("orders", "billing", { consumer: "w2", minIdleTime: 60_000, ids: [id] });
   * ```
   */
  async claim<T = unknown>(stream: string, group: string, options: ClaimOptions): Promise<GroupReadResult<T>> {
    const { rawPayloads, ...body } = options;
    const reply = await this.http.request<{ entries: Delivery<T>[] }>("POST", path`/stream/${stream}/group/${group}/claim`, {
      body: { ...body, justId: false },
      rawPayloads,
    });
    return split(reply.entries);
  }

  /**
   * Like {@link GroupsApi.claim}, answering only the ids (XCLAIM JUSTID: the delivery count is not raised).
   *
   * @example
   * ```ts
   * const ids = await client.groups.claimIds("orders", "billing", { consumer: "w2", minIdleTime: 0, ids: [id] });
   * ```
   */
  async claimIds(stream: string, group: string, options: ClaimOptions): Promise<string[]> {
    const body = { ...serverOptions(options), justId: true };
    return (await this.http.request<{ ids: string[] }>("POST", path`/stream/${stream}/group/${group}/claim`, { body })).ids;
  }

  /**
   * Takes over entries idle at least `minIdleTime` ms, scanning from `start` (XAUTOCLAIM).
   *
   * @example
   * ```ts
   * const { entries, next } = await client.groups.autoClaim("orders", "billing", { consumer: "w2", minIdleTime: 60_000 });
   * ```
   */
  async autoClaim<T = unknown>(stream: string, group: string, options: AutoClaimOptions): Promise<AutoClaimResult<T>> {
    const { rawPayloads, signal, ...body } = options;
    const reply = await this.http.request<{ next: string; deleted: string[]; entries: Delivery<T>[] }>(
      "POST",
      path`/stream/${stream}/group/${group}/autoclaim`,
      { body: { ...body, justId: false }, rawPayloads, signal },
    );
    const { entries, deleted } = split(reply.entries);
    return { next: reply.next, entries, deleted: [...reply.deleted, ...deleted] };
  }

  /**
   * Like {@link GroupsApi.autoClaim}, answering only the ids.
   *
   * @example
   * ```ts
   * const { ids, next } = await client.groups.autoClaimIds("orders", "billing", { consumer: "w2", minIdleTime: 0 });
   * ```
   */
  autoClaimIds(stream: string, group: string, options: AutoClaimOptions): Promise<{ next: string; ids: string[]; deleted: string[] }> {
    return this.http.request("POST", path`/stream/${stream}/group/${group}/autoclaim`, {
      body: { ...serverOptions(options), justId: true },
      signal: options.signal,
    });
  }

  /**
   * The group's consumers with their pending counts and idle times.
   *
   * @example
   * ```ts
   * const consumers = await client.groups.consumers("orders", "billing");
   * ```
   */
  async consumers(stream: string, group: string): Promise<ConsumerInfo[]> {
    return (await this.http.request<{ consumers: ConsumerInfo[] }>("GET", path`/stream/${stream}/group/${group}/consumers`)).consumers;
  }

  /**
   * Removes a consumer; its pending entries go back to the group (unlike Redis). Answers how many.
   *
   * @example
   * ```ts
   * const handedBack = await client.groups.deleteConsumer("orders", "billing", "w1");
   * ```
   */
  async deleteConsumer(stream: string, group: string, consumer: string): Promise<number> {
    const reply = await this.http.request<{ handedBack: number }>("DELETE", path`/stream/${stream}/group/${group}/consumer/${consumer}`);
    return reply.handedBack;
  }
}
