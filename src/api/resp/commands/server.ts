// Connection and server commands: PING, ECHO, QUIT, SELECT, CLIENT, INFO, COMMAND, HELLO, AUTH, and MULTI refused.
import { arch, platform } from "node:os";
import { integer } from "../args.js";
import { RespError, syntax, unknownSubcommand, wrongArity } from "../errors.js";
import { OK, Simple, type Reply } from "../protocol.js";
import type { Command, CommandContext } from "./types.js";

/** The Redis version Runnel reports, so clients enable the stream commands they know from Redis 7. */
export const REDIS_VERSION = "7.0.0";

const NO_PASSWORD =
  "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";

function infoText(ctx: CommandContext, section: string | undefined): string {
  const { server } = ctx;
  const sections: Record<string, string[]> = {
    server: [
      `redis_version:${REDIS_VERSION}`,
      `runnel_version:${server.version}`,
      "redis_mode:standalone",
      `os:${platform()} ${arch()}`,
      `process_id:${process.pid}`,
      `tcp_port:${server.port()}`,
      `uptime_in_seconds:${Math.floor((Date.now() - server.startedAt) / 1000)}`,
    ],
    persistence: ["loading:0"],
  };
  const wanted = section?.toLowerCase();
  const names = wanted === undefined || ["all", "default", "everything"].includes(wanted) ? Object.keys(sections) : [wanted];
  return names
    .filter((name) => sections[name])
    .map((name) => `# ${name[0]!.toUpperCase()}${name.slice(1)}\r\n${sections[name]!.join("\r\n")}\r\n`)
    .join("\r\n");
}

function setName(ctx: CommandContext, name: string): void {
  if (/[\s]/.test(name)) throw new RespError("ERR Client names cannot contain spaces, newlines or special characters.");
  ctx.session.name = name === "" ? null : name;
}

const client: Command = {
  name: "client",
  arity: -2,
  run(ctx, args) {
    const sub = args[0]!.toUpperCase();
    const need = (n: number) => {
      if (args.length !== n) throw wrongArity(`client|${sub.toLowerCase()}`);
    };
    switch (sub) {
      case "SETNAME":
        need(2);
        setName(ctx, args[1]!);
        return OK;
      case "GETNAME":
        need(1);
        return ctx.session.name;
      case "ID":
        need(1);
        return ctx.session.id;
      case "SETINFO":
        need(3);
        return OK;
      default:
        throw unknownSubcommand("client", args[0]!);
    }
  },
};

const command: Command = {
  name: "command",
  arity: -1,
  run(ctx, args) {
    if (args.length === 0) return [];
    switch (args[0]!.toUpperCase()) {
      case "DOCS":
        return [];
      case "INFO":
        return args.slice(1).map(() => null);
      case "COUNT":
        return ctx.server.commandNames().length;
      case "LIST":
        return ctx.server.commandNames();
      default:
        throw unknownSubcommand("command", args[0]!);
    }
  },
};

const hello: Command = {
  name: "hello",
  arity: -1,
  run(ctx, args) {
    if (args.length > 0) {
      const version = integer(args[0]!, "ERR Protocol version is not an integer or out of range");
      if (version !== 2) throw new RespError("NOPROTO unsupported protocol version");
      for (let i = 1; i < args.length; i++) {
        const option = args[i]!.toUpperCase();
        if (option === "AUTH" && i + 2 < args.length) throw new RespError(NO_PASSWORD);
        if (option === "SETNAME" && i + 1 < args.length) setName(ctx, args[++i]!);
        else throw syntax();
      }
    }
    const map: Reply[] = [
      "server", "redis",
      "version", REDIS_VERSION,
      "proto", 2,
      "id", ctx.session.id,
      "mode", "standalone",
      "role", "master",
      "modules", [],
    ];
    return map;
  },
};

/** Transactions would need the engine to run several commands as one unit; it does not offer that to RESP. */
function refused(name: string): Command {
  return {
    name,
    arity: -1,
    run() {
      throw new RespError(`ERR ${name.toUpperCase()} is not supported: Runnel runs each command on its own (no MULTI/EXEC transactions)`);
    },
  };
}

export const serverCommands: Command[] = [
  {
    name: "ping",
    arity: -1,
    run(_ctx, args) {
      if (args.length > 1) throw wrongArity("ping");
      return args.length === 1 ? args[0]! : new Simple("PONG");
    },
  },
  { name: "echo", arity: 2, run: (_ctx, args) => args[0]! },
  {
    name: "quit",
    arity: -1,
    run(ctx) {
      ctx.session.closeAfterReply();
      return OK;
    },
  },
  {
    name: "select",
    arity: 2,
    run(_ctx, args) {
      if (integer(args[0]!) !== 0) throw new RespError("ERR DB index is out of range");
      return OK;
    },
  },
  {
    name: "auth",
    arity: -2,
    run(_ctx, args) {
      if (args.length > 2) throw syntax();
      throw new RespError(NO_PASSWORD);
    },
  },
  { name: "info", arity: -1, run: (ctx, args) => infoText(ctx, args[0]) },
  client,
  command,
  hello,
  ...["multi", "exec", "discard", "watch", "unwatch"].map(refused),
];
