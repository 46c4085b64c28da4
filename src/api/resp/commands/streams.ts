// Stream commands: XADD (pipelined ones to one stream become one append), XLEN, XRANGE, XREVRANGE, XDEL, XTRIM.
import { compareIds, formatId, MAX_ID, MIN_ID, parseRangeEnd, parseRangeStart } from "../../../core/ids.js";
import { MAX_COUNT } from "../../../engine/streams.js";
import type { NewEntry } from "../../../core/types.js";
import type { TrimBy } from "../../../engine/index.js";
import { ArgReader, integer, nonNegative, streamId } from "../args.js";
import { isMissing, RespError, wrongArity } from "../errors.js";
import { entryReply, payloadOf } from "../entries.js";
import { NULL_ARRAY, type Reply } from "../protocol.js";
import type { Command, CommandContext } from "./types.js";

/**
 * Reads `MAXLEN|MINID [=|~] threshold [LIMIT n]` at the reader, or nothing when the next word is neither.
 * Trimming is always exact: `~` and LIMIT are accepted.
 */
function readTrim(r: ArgReader, into: TrimBy): boolean {
  const word = r.peekWord();
  if (word !== "MAXLEN" && word !== "MINID") return false;
  if (into.maxLen !== undefined || into.minId !== undefined) {
    throw new RespError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
  }
  r.next();
  let approximate = false;
  if (r.peekWord() === "~" || r.peekWord() === "=") approximate = r.next() === "~";
  const threshold = r.next();
  if (word === "MAXLEN") into.maxLen = nonNegative(threshold, "ERR The MAXLEN argument must be >= 0.");
  else into.minId = streamId(threshold);
  if (r.peekWord() === "LIMIT") {
    r.next();
    nonNegative(r.next(), "ERR The LIMIT argument must be >= 0.");
    if (!approximate) throw new RespError("ERR syntax error, LIMIT cannot be used without the special ~ option");
  }
  return true;
}

interface XaddCall {
  key: string;
  noMkStream: boolean;
  trim: TrimBy;
  id: string;
  payload: string;
}

function parseXadd(ctx: CommandContext, args: readonly string[]): XaddCall {
  const r = new ArgReader(args, 1);
  let noMkStream = false;
  const trim: TrimBy = {};
  for (;;) {
    if (r.peekWord() === "NOMKSTREAM") {
      r.next();
      noMkStream = true;
    } else if (!readTrim(r, trim)) break;
  }
  const id = r.next();
  const pairs = r.rest();
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw wrongArity("xadd");
  const payload = payloadOf(pairs);
  if (Buffer.byteLength(payload) > ctx.server.maxPayloadBytes) {
    throw new RespError(`ERR the entry is larger than the limit of ${ctx.server.maxPayloadBytes} bytes`);
  }
  return { key: args[0]!, noMkStream, trim, id, payload };
}

function newEntry(call: XaddCall): NewEntry {
  return call.id === "*" ? { payload: call.payload } : { id: call.id, payload: call.payload };
}

async function trimStream(ctx: CommandContext, key: string, spec: TrimBy): Promise<number> {
  try {
    return await ctx.engine.streams.trim(ctx.namespace, key, spec);
  } catch (error) {
    if (isMissing(error, "stream")) return 0;
    throw error;
  }
}

async function xadd(ctx: CommandContext, args: string[]): Promise<Reply> {
  const call = parseXadd(ctx, args);
  const trims = call.trim.maxLen !== undefined || call.trim.minId !== undefined;
  if (!call.noMkStream && !trims) {
    const [result] = await ctx.engine.streams.append(ctx.namespace, call.key, [newEntry(call)], "");
    return formatId(result!.id);
  }
  const options = { mustExist: call.noMkStream, ...(trims ? { trim: call.trim } : {}) };
  const results = await ctx.engine.streams.appendWith(ctx.namespace, call.key, [newEntry(call)], options, "");
  return results === null ? null : formatId(results[0]!.id);
}

/**
 * Pipelined `XADD key * field value …` calls to one stream, as one append: their ids follow the request order.
 * A call whose arguments are refused fails alone, before the append. The append itself takes entries that
 * cannot be refused one by one (auto ids, no partition, no idempotency key), so it stores all or, when the
 * store fails, none: then every call of it answers that error. One engine call for the run is measurably
 * cheaper than a call per XADD joined by the append coalescer.
 */
async function xaddBatch(ctx: CommandContext, calls: readonly string[][]): Promise<PromiseSettledResult<Reply>[]> {
  const out: PromiseSettledResult<Reply>[] = new Array(calls.length);
  const parsed: { at: number; call: XaddCall }[] = [];
  calls.forEach((args, at) => {
    try {
      parsed.push({ at, call: parseXadd(ctx, args) });
    } catch (reason) {
      out[at] = { status: "rejected", reason };
    }
  });
  if (parsed.length === 0) return out;
  try {
    const results = await ctx.engine.streams.append(ctx.namespace, parsed[0]!.call.key, parsed.map((p) => newEntry(p.call)), "entries");
    parsed.forEach((p, i) => (out[p.at] = { status: "fulfilled", value: formatId(results[i]!.id) }));
  } catch (reason) {
    for (const p of parsed) out[p.at] = { status: "rejected", reason };
  }
  return out;
}

function parseCount(r: ArgReader): number | undefined {
  let count: number | undefined;
  while (!r.done) {
    if (r.peekWord() !== "COUNT" || r.left < 2) throw new RespError("ERR syntax error");
    r.next();
    count = Math.max(0, integer(r.next()));
  }
  return count;
}

async function range(ctx: CommandContext, args: string[], reverse: boolean): Promise<Reply> {
  const [key, first, second] = args as [string, string, string];
  const start = parseRangeStart(reverse ? second : first, "start");
  const end = parseRangeEnd(reverse ? first : second, "end");
  // An exclusive bound with nothing beyond it, as Redis answers it.
  if (start.exclusive && compareIds(start.id, MAX_ID) === 0) throw new RespError("ERR invalid start ID for the interval");
  if (end.exclusive && compareIds(end.id, MIN_ID) === 0) throw new RespError("ERR invalid end ID for the interval");
  const count = parseCount(new ArgReader(args, 3));
  try {
    // Redis answers COUNT 0 with nil, but a missing key with an empty array first.
    if (count === 0) {
      await ctx.engine.streams.get(ctx.namespace, key);
      return NULL_ARRAY;
    }
    // The engine answers at most MAX_COUNT entries a call; Redis answers all that COUNT asks for (all, without
    // it), and a client paging until a reply is shorter than its COUNT must not stop early: read on in pages.
    const wanted = count ?? Number.MAX_SAFE_INTEGER;
    const replies: Reply[] = [];
    let [low, high] = [start, end];
    while (replies.length < wanted) {
      const page = await ctx.engine.streams.range(ctx.namespace, key, low, high, Math.min(wanted - replies.length, MAX_COUNT), reverse);
      for (const e of page) replies.push(entryReply(e));
      if (page.length < MAX_COUNT) break;
      const last = { id: page[page.length - 1]!.id, exclusive: true };
      if (reverse) high = last;
      else low = last;
    }
    return replies;
  } catch (error) {
    if (isMissing(error, "stream")) return [];
    throw error;
  }
}

export const streamCommands: Command[] = [
  {
    name: "xadd",
    arity: -5,
    run: xadd,
    batch: {
      key: (args) => (args[1] === "*" && args.length >= 4 && args.length % 2 === 0 ? args[0] : undefined),
      run: xaddBatch,
    },
  },
  { name: "xlen", arity: 2, run: (ctx, [key]) => ctx.engine.streams.length(ctx.namespace, key!) },
  { name: "xrange", arity: -4, run: (ctx, args) => range(ctx, args, false) },
  { name: "xrevrange", arity: -4, run: (ctx, args) => range(ctx, args, true) },
  {
    name: "xdel",
    arity: -3,
    async run(ctx, [key, ...rest]) {
      const ids = rest.map((id) => streamId(id));
      try {
        return await ctx.engine.streams.deleteEntries(ctx.namespace, key!, ids);
      } catch (error) {
        if (isMissing(error, "stream")) return 0;
        throw error;
      }
    },
  },
  {
    name: "xtrim",
    arity: -4,
    async run(ctx, args) {
      const r = new ArgReader(args, 1);
      const spec: TrimBy = {};
      if (!readTrim(r, spec) || !r.done) throw new RespError("ERR syntax error");
      return trimStream(ctx, args[0]!, spec);
    },
  },
];
