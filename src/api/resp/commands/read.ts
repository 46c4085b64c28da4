// The reading commands, blocking or not: XREAD and XREADGROUP over one or several streams.
import { MAX_COUNT } from "../../../engine/streams.js";
import type { Delivery } from "../../../engine/index.js";
import type { Entry } from "../../../core/types.js";
import { integer, streamId, timeout } from "../args.js";
import { isMissing, noGroup, RespError, syntax } from "../errors.js";
import { deliveryReply, entryReply } from "../entries.js";
import { NULL_ARRAY, type Reply } from "../protocol.js";
import type { Command, CommandContext } from "./types.js";

interface ReadRequest {
  /** Entries wanted from each stream; without COUNT (or with 0), all there are. */
  count: number;
  block: number | undefined;
  noAck: boolean;
  group: { name: string; consumer: string } | undefined;
  /** Stream keys and the id given for each. */
  streams: { key: string; id: string }[];
}

const ALL = Number.MAX_SAFE_INTEGER;

/**
 * The engine answers at most MAX_COUNT entries a call; Redis answers all that COUNT asks for. After a full first
 * page (the one that may have blocked), reads on without blocking until `wanted` are there or a page comes short.
 */
async function readOn<T extends { id: { ms: number; seq: number } }>(
  wanted: number,
  first: T[],
  next: (after: string, count: number) => Promise<T[]>,
): Promise<T[]> {
  const all = first;
  let page = first;
  while (page.length === MAX_COUNT && all.length < wanted) {
    const last = page[page.length - 1]!.id;
    page = await next(`${last.ms}-${last.seq}`, Math.min(wanted - all.length, MAX_COUNT));
    for (const item of page) all.push(item);
  }
  return all;
}

function parseRead(args: readonly string[], grouped: boolean): ReadRequest {
  const name = grouped ? "xreadgroup" : "xread";
  const req: ReadRequest = { count: ALL, block: undefined, noAck: false, group: undefined, streams: [] };
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i]!.toUpperCase();
    const left = args.length - i - 1;
    if (word === "STREAMS") break;
    if (word === "COUNT" && left >= 1) {
      const n = integer(args[++i]!);
      req.count = n <= 0 ? ALL : n;
    } else if (word === "BLOCK" && left >= 1) {
      req.block = timeout(args[++i]!);
    } else if (word === "GROUP" && left >= 2) {
      if (!grouped) throw new RespError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      req.group = { name: args[i + 1]!, consumer: args[i + 2]! };
      i += 2;
    } else if (word === "NOACK") {
      if (!grouped) throw new RespError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      req.noAck = true;
    } else throw syntax();
  }
  if (grouped && !req.group) throw new RespError("ERR Missing GROUP option for XREADGROUP");
  const rest = args.slice(i + 1);
  if (i >= args.length || rest.length === 0 || rest.length % 2 !== 0) {
    // Redis 7.0's text, XREADGROUP included.
    throw new RespError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
  }
  const half = rest.length / 2;
  for (let k = 0; k < half; k++) {
    const id = rest[half + k]!;
    if (grouped && id === "$") {
      throw new RespError(
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
      );
    }
    if (!grouped && id === ">") {
      throw new RespError("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.");
    }
    if (id !== "$" && id !== ">") streamId(id);
    req.streams.push({ key: rest[k]!, id });
  }
  return req;
}

/**
 * Runs `read` for every stream, blocking up to `block` ms until one of them answers something. A single stream
 * blocks in the engine directly; several block together and, once one answers or fails, the others are stopped
 * and awaited. A read that fails (a group destroyed meanwhile) fails the command only when no other read
 * delivered anything: entries already delivered (and recorded as pending) always reach the client.
 */
async function readAll<T>(
  ctx: CommandContext,
  keys: readonly string[],
  block: number | undefined,
  read: (index: number, block: number | undefined, signal: AbortSignal) => Promise<T[]>,
): Promise<T[][]> {
  if (keys.length === 1) return [await read(0, block, ctx.session.signal)];
  const first: T[][] = keys.map(() => []);
  for (let i = 0; i < keys.length; i++) {
    try {
      first[i] = await read(i, undefined, ctx.session.signal);
    } catch (error) {
      // The streams after a failed one are not read: nothing more is delivered for a failing command.
      if (first.some((r) => r.length > 0)) return first;
      throw error;
    }
  }
  if (block === undefined || first.some((r) => r.length > 0)) return first;
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.session.signal, stop.signal]);
  const settled = await Promise.allSettled(
    keys.map(async (_, i) => {
      let answered = true;
      try {
        const got = await read(i, block, signal);
        answered = got.length > 0;
        return got;
      } finally {
        if (answered) stop.abort();
      }
    }),
  );
  const results = settled.map((s) => (s.status === "fulfilled" ? s.value : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed && !results.some((r) => r.length > 0)) throw failed.reason;
  return results;
}

async function xread(ctx: CommandContext, args: string[]): Promise<Reply> {
  const req = parseRead(args, false);
  // `$` means the top when the command arrived, for every stream; resolved once so none is skipped while blocking.
  const after = await Promise.all(
    req.streams.map(async ({ key, id }) => {
      if (id !== "$" || req.streams.length === 1) return id;
      try {
        const stream = await ctx.engine.streams.get(ctx.namespace, key);
        return `${stream.top.ms}-${stream.top.seq}`;
      } catch (error) {
        if (isMissing(error)) return "0-0";
        throw error;
      }
    }),
  );
  const results = await readAll<Entry>(ctx, req.streams.map((s) => s.key), req.block, async (i, block, signal) => {
    const key = req.streams[i]!.key;
    const read = (from: string, count: number, wait?: number) =>
      ctx.engine.streams.read(ctx.namespace, key, { after: from, count, block: wait, signal });
    return readOn(req.count, await read(after[i]!, Math.min(req.count, MAX_COUNT), block), read);
  });
  const reply: Reply[] = [];
  results.forEach((entries, i) => {
    if (entries.length > 0) reply.push([req.streams[i]!.key, entries.map(entryReply)]);
  });
  return reply.length > 0 ? reply : NULL_ARRAY;
}

/** Runs `work`, answering Redis's NOGROUP when the stream or the group is missing. */
async function withGroup<T>(key: string, group: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isMissing(error, "stream") || isMissing(error, "group")) throw noGroup(key, group, " in XREADGROUP with GROUP option");
    throw error;
  }
}

async function xreadgroup(ctx: CommandContext, args: string[]): Promise<Reply> {
  const req = parseRead(args, true);
  const { name, consumer } = req.group!;
  // With several streams, a missing group on any of them fails the command before anything is delivered.
  if (req.streams.length > 1) {
    for (const { key } of req.streams) await withGroup(key, name, () => ctx.engine.groups.requireExists(ctx.namespace, key, name));
  }
  // Like Redis, a read that asks for a consumer's history answers at once.
  const block = req.streams.some((s) => s.id !== ">") ? undefined : req.block;
  const results = await readAll<Delivery>(ctx, req.streams.map((s) => s.key), block, async (i, wait, signal) => {
    const { key, id } = req.streams[i]!;
    // New entries: each further page is simply the next read; the consumer's history: the page after the last id.
    const read = (from: string, count: number, blockFor?: number) =>
      withGroup(key, name, () =>
        ctx.engine.groups.read(ctx.namespace, key, name, consumer, {
          count,
          id: id === ">" ? ">" : from,
          block: blockFor,
          noAck: req.noAck,
          signal,
        }),
      );
    return readOn(req.count, await read(id, Math.min(req.count, MAX_COUNT), wait), read);
  });
  const reply: Reply[] = [];
  results.forEach((deliveries, i) => {
    const { key, id } = req.streams[i]!;
    if (deliveries.length > 0 || id !== ">") reply.push([key, deliveries.map(deliveryReply)]);
  });
  return reply.length > 0 ? reply : NULL_ARRAY;
}

export const readCommands: Command[] = [
  { name: "xread", arity: -4, run: xread },
  { name: "xreadgroup", arity: -7, run: xreadgroup },
];
