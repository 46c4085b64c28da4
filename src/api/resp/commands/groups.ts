// Consumer-group commands: XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM.
import { formatId, inclusiveEnd, inclusiveStart, MAX_ID, parseRangeEnd, parseRangeStart, type StreamId } from "../../../core/ids.js";
import { RunnelError } from "../../../core/errors.js";
import { MAX_COUNT } from "../../../engine/streams.js";
import { ArgReader, integer, streamId } from "../args.js";
import {
  BUSYGROUP,
  isMissing,
  NEEDS_KEY,
  noGroup,
  noSuchGroup,
  RespError,
  subcommandSyntax,
  syntax,
  unknownSubcommand,
  wrongArity,
} from "../errors.js";
import { deliveryReply, idReply } from "../entries.js";
import { NULL_ARRAY, OK, type Reply } from "../protocol.js";
import type { Command, CommandContext } from "./types.js";

const XGROUP_HELP = [
  "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CREATE <key> <groupname> <id|$> [MKSTREAM] [ENTRIESREAD <n>]",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Hands the consumer's pending entries back to the group (Runnel), then removes it.",
  "DESTROY <key> <groupname>",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD <n>]",
  "HELP",
];

/** XGROUP's errors: a missing stream asks for MKSTREAM, a missing group is NOGROUP. */
async function xgroupCall<T>(key: string, group: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isMissing(error, "stream")) throw new RespError(NEEDS_KEY);
    if (isMissing(error, "group")) throw noSuchGroup(key, group);
    throw error;
  }
}

/**
 * The options after `XGROUP CREATE|SETID key group id`, in any order: `MKSTREAM` (CREATE only) and
 * `ENTRIESREAD n` (checked, not applied: Runnel counts entries read itself). Answers whether MKSTREAM was given.
 */
function groupOptions(args: readonly string[], sub: string, create: boolean): boolean {
  // Redis's own bounds: CREATE takes at most 3 option words (MKSTREAM ENTRIESREAD n), SETID only ENTRIESREAD n.
  if (create ? args.length > 7 : args.length !== 4 && args.length !== 6) throw subcommandSyntax("xgroup", sub);
  let mkStream = false;
  const r = new ArgReader(args, 4);
  while (!r.done) {
    const word = r.next().toUpperCase();
    if (word === "MKSTREAM" && create) mkStream = true;
    else if (word === "ENTRIESREAD" && !r.done) {
      const n = integer(r.next());
      if (n < -1) throw new RespError("ERR value for ENTRIESREAD must be positive or -1");
    } else throw subcommandSyntax("xgroup", sub);
  }
  return mkStream;
}

async function xgroup(ctx: CommandContext, args: string[]): Promise<Reply> {
  const sub = args[0]!.toUpperCase();
  const arity = (min: number, exact = false) => {
    if (exact ? args.length !== min : args.length < min) throw wrongArity(`xgroup|${sub.toLowerCase()}`);
  };
  const [, key, group, third] = args as [string, string, string, string];
  const ns = ctx.namespace;
  switch (sub) {
    case "HELP":
      return XGROUP_HELP;
    case "CREATE": {
      arity(4);
      const mkStream = groupOptions(args, args[0]!, true);
      if (third !== "$") streamId(third);
      try {
        await ctx.engine.groups.create(ns, key, group, third, mkStream);
      } catch (error) {
        if (error instanceof RunnelError && error.code === "RUNNEL_CONFLICT") throw new RespError(BUSYGROUP);
        if (isMissing(error, "stream")) throw new RespError(NEEDS_KEY);
        throw error;
      }
      return OK;
    }
    case "SETID": {
      arity(4);
      groupOptions(args, args[0]!, false);
      if (third !== "$") streamId(third);
      await xgroupCall(key, group, () => ctx.engine.groups.setId(ns, key, group, third));
      return OK;
    }
    case "DESTROY":
      arity(3, true);
      try {
        await ctx.engine.groups.destroy(ns, key, group);
        return 1;
      } catch (error) {
        if (isMissing(error, "stream")) throw new RespError(NEEDS_KEY);
        if (isMissing(error, "group")) return 0;
        throw error;
      }
    case "CREATECONSUMER": {
      arity(4, true);
      const existing = await xgroupCall(key, group, () => ctx.engine.groups.consumers(ns, key, group));
      if (existing.some((c) => c.name === third)) return 0;
      // Claiming nothing registers the consumer, as XCLAIM does in Redis.
      await xgroupCall(key, group, () => ctx.engine.groups.claim(ns, key, group, third, 0, []));
      return 1;
    }
    case "DELCONSUMER":
      arity(4, true);
      try {
        return await xgroupCall(key, group, () => ctx.engine.groups.deleteConsumer(ns, key, group, third));
      } catch (error) {
        if (isMissing(error, "consumer")) return 0;
        throw error;
      }
    default:
      throw unknownSubcommand("xgroup", args[0]!);
  }
}

/** XPENDING, XCLAIM and XAUTOCLAIM answer NOGROUP for a missing stream or group. */
async function inGroup<T>(key: string, group: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isMissing(error, "stream") || isMissing(error, "group")) throw noGroup(key, group);
    throw error;
  }
}

async function xpending(ctx: CommandContext, args: string[]): Promise<Reply> {
  const [key, group] = args as [string, string];
  const ns = ctx.namespace;
  if (args.length === 2) {
    const s = await inGroup(key, group, () => ctx.engine.groups.pendingSummary(ns, key, group));
    if (s.count === 0) return [0, null, null, NULL_ARRAY];
    return [s.count, idReply(s.smallest), idReply(s.largest), s.consumers.map((c) => [c.name, String(c.pending)])];
  }
  const r = new ArgReader(args, 2);
  let minIdleMs: number | undefined;
  if (r.peekWord() === "IDLE") {
    r.next();
    minIdleMs = Math.max(0, integer(r.next()));
  }
  if (r.left < 3 || r.left > 4) throw syntax();
  const start = inclusiveStart(parseRangeStart(r.next(), "start"));
  const end = inclusiveEnd(parseRangeEnd(r.next(), "end"));
  const count = Math.max(0, integer(r.next()));
  const consumer = r.done ? undefined : r.next();
  if (!start || !end || count === 0) {
    // Nothing can match, yet Redis still answers NOGROUP for a missing stream or group: a LIMIT 0 query checks that.
    await inGroup(key, group, () => ctx.engine.groups.pending(ns, key, group, { count: 0 }));
    return [];
  }
  // The engine lists at most MAX_COUNT a call: page on, so the reply holds all that `count` asks for.
  const replies: Reply[] = [];
  let from = start;
  for (;;) {
    const page = await inGroup(key, group, () =>
      ctx.engine.groups.pending(ns, key, group, {
        start: from,
        end,
        count: Math.min(count - replies.length, MAX_COUNT),
        ...(consumer === undefined ? {} : { consumer }),
        ...(minIdleMs === undefined ? {} : { minIdleMs }),
      }),
    );
    for (const p of page) replies.push([formatId(p.id), p.consumer, p.idleMs, p.deliveryCount]);
    const next = page.length === MAX_COUNT ? inclusiveStart({ id: page[page.length - 1]!.id, exclusive: true }) : undefined;
    if (replies.length >= count || !next) return replies;
    from = next;
  }
}

async function xclaim(ctx: CommandContext, args: string[]): Promise<Reply> {
  const [key, group, consumer, minIdle] = args as [string, string, string, string];
  const minIdleMs = Math.max(0, integer(minIdle, "ERR Invalid min-idle-time argument for XCLAIM"));
  const ids: StreamId[] = [];
  let i = 4;
  for (; i < args.length; i++) {
    try {
      ids.push(streamId(args[i]!));
    } catch {
      break;
    }
  }
  const options: { idleMs?: number; timeMs?: number; retryCount?: number; force: boolean; justId: boolean } = {
    force: false,
    justId: false,
  };
  const r = new ArgReader(args, i);
  while (!r.done) {
    const word = r.next();
    switch (word.toUpperCase()) {
      case "FORCE":
        options.force = true;
        break;
      case "JUSTID":
        options.justId = true;
        break;
      case "IDLE":
        options.idleMs = Math.max(0, integer(r.next(), "ERR Invalid IDLE option argument for XCLAIM"));
        break;
      case "TIME":
        options.timeMs = Math.max(0, integer(r.next(), "ERR Invalid TIME option argument for XCLAIM"));
        break;
      case "RETRYCOUNT": {
        // Redis takes a negative count as not given.
        const n = integer(r.next(), "ERR Invalid RETRYCOUNT option argument for XCLAIM");
        if (n >= 0) options.retryCount = n;
        else delete options.retryCount;
        break;
      }
      case "LASTID":
        streamId(r.next());
        break;
      default:
        throw new RespError(`ERR Unrecognized XCLAIM option '${word}'`);
    }
  }
  const claimed = await inGroup(key, group, () =>
    ctx.engine.groups.claim(ctx.namespace, key, group, consumer, minIdleMs, ids, options),
  );
  return options.justId ? claimed.map((d) => formatId(d.id)) : claimed.map(deliveryReply);
}

const COUNT_POSITIVE = "ERR COUNT must be > 0";

async function xautoclaim(ctx: CommandContext, args: string[]): Promise<Reply> {
  const [key, group, consumer, minIdle, startText] = args as [string, string, string, string, string];
  const minIdleMs = Math.max(0, integer(minIdle, "ERR Invalid min-idle-time argument for XAUTOCLAIM"));
  const start = inclusiveStart(parseRangeStart(startText, "start")) ?? MAX_ID;
  let count = 100;
  let justId = false;
  const r = new ArgReader(args, 5);
  while (!r.done) {
    const word = r.next().toUpperCase();
    if (word === "JUSTID") justId = true;
    else if (word === "COUNT") {
      count = integer(r.next(), COUNT_POSITIVE);
      if (count < 1) throw new RespError(COUNT_POSITIVE);
    } else throw syntax();
  }
  const result = await inGroup(key, group, () =>
    ctx.engine.groups.autoClaim(ctx.namespace, key, group, consumer, minIdleMs, start, count, justId),
  );
  const claimed = justId ? result.claimed.map((d) => formatId(d.id)) : result.claimed.map(deliveryReply);
  return [formatId(result.next), claimed, result.deleted.map(formatId)];
}

export const groupCommands: Command[] = [
  { name: "xgroup", arity: -2, run: xgroup },
  {
    name: "xack",
    arity: -4,
    async run(ctx, [key, group, ...rest]) {
      const ids = rest.map((id) => streamId(id));
      try {
        return await ctx.engine.groups.ack(ctx.namespace, key!, group!, ids);
      } catch (error) {
        if (isMissing(error, "stream") || isMissing(error, "group")) return 0;
        throw error;
      }
    },
  },
  { name: "xpending", arity: -3, run: xpending },
  { name: "xclaim", arity: -6, run: xclaim },
  { name: "xautoclaim", arity: -6, run: xautoclaim },
];
