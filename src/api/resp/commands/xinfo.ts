// XINFO STREAM, GROUPS and CONSUMERS: the fields of Redis's replies that Runnel can answer truthfully.
import { compareIds, formatId } from "../../../core/ids.js";
import type { GroupSummary, StreamInfo } from "../../../engine/index.js";
import { isMissing, noSuchGroup, RespError, subcommandSyntax, unknownSubcommand, wrongArity } from "../errors.js";
import { entryReply } from "../entries.js";
import type { Reply } from "../protocol.js";
import type { Command, CommandContext } from "./types.js";

const XINFO_HELP = [
  "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CONSUMERS <key> <groupname>",
  "GROUPS <key>",
  "STREAM <key>",
  "HELP",
];

async function withKey<T>(key: string, group: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isMissing(error, "stream")) throw new RespError("ERR no such key");
    if (group !== undefined && isMissing(error, "group")) throw noSuchGroup(key, group);
    throw error;
  }
}

/**
 * A group as Redis describes it. Redis's lag counts entries not yet delivered to the group; Runnel's also counts
 * the pending ones, so they are taken off. Redis's entries-read is where the group stands in the count of entries
 * ever added, so that lag = entries-added - entries-read, and nil until the group has read something. Once
 * entries past the group's last delivered id were deleted that standing is unknown (Redis then counts as it
 * reads), and the group's own count of entries read stands in.
 */
function groupReply(g: GroupSummary, info: StreamInfo): Reply {
  const lag = Math.max(0, g.lag - g.pending);
  const known = compareIds(info.maxDeletedId, g.lastDeliveredId) <= 0;
  const read = known ? info.entriesAdded - lag : g.entriesRead;
  return [
    "name", g.name,
    "consumers", g.consumers,
    "pending", g.pending,
    "last-delivered-id", formatId(g.lastDeliveredId),
    "entries-read", g.entriesRead > 0 && read > 0 ? read : null,
    "lag", lag,
  ];
}

async function stream(ctx: CommandContext, key: string): Promise<Reply> {
  const info = await withKey(key, undefined, () => ctx.engine.streams.info(ctx.namespace, key));
  return [
    "length", info.length,
    "last-generated-id", formatId(info.lastGeneratedId),
    "entries-added", info.entriesAdded,
    "recorded-first-entry-id", info.firstEntry ? formatId(info.firstEntry.id) : "0-0",
    "groups", info.groups.length,
    "first-entry", info.firstEntry ? entryReply(info.firstEntry) : null,
    "last-entry", info.lastEntry ? entryReply(info.lastEntry) : null,
  ];
}

async function xinfo(ctx: CommandContext, args: string[]): Promise<Reply> {
  const sub = args[0]!.toUpperCase();
  const need = (n: number) => {
    if (args.length !== n) throw wrongArity(`xinfo|${sub.toLowerCase()}`);
  };
  const ns = ctx.namespace;
  switch (sub) {
    case "HELP":
      return XINFO_HELP;
    case "STREAM":
      if (args.length < 2) throw wrongArity("xinfo|stream");
      if (args[2]?.toUpperCase() === "FULL") throw new RespError("ERR XINFO STREAM FULL is not supported by Runnel");
      if (args.length > 2) throw subcommandSyntax("xinfo", args[0]!);
      return stream(ctx, args[1]!);
    case "GROUPS": {
      need(2);
      const info = await withKey(args[1]!, undefined, () => ctx.engine.streams.info(ns, args[1]!));
      return info.groups.map((g) => groupReply(g, info));
    }
    case "CONSUMERS": {
      need(3);
      const [, key, group] = args as [string, string, string];
      const consumers = await withKey(key, group, () => ctx.engine.groups.consumers(ns, key, group));
      return consumers.map((c) => [
        "name", c.name,
        "pending", c.pending,
        "idle", c.idleMs,
        "inactive", c.inactiveMs ?? -1,
      ]);
    }
    default:
      throw unknownSubcommand("xinfo", args[0]!);
  }
}

export const xinfoCommand: Command = { name: "xinfo", arity: -2, run: xinfo };
