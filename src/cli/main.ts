#!/usr/bin/env node
// The `runnel` command.
import { bench, consume, dlq, info, pending, publish, tail, trim } from "./commands/index.js";
import { exitOnClosedPipe } from "./commands/shared.js";
import { ConfigError } from "./errors.js";

const HELP = `Usage: runnel <command> [options]

Commands:
  serve      serve Runnel over HTTP and, with --resp-port, the Redis protocol (see runnel serve --help)
  publish    append entries from arguments, or JSON lines from a file or stdin
  tail       follow a stream, printing entries (JSON lines, or pretty on a terminal)
  consume    read as a consumer of a group, printing and acknowledging entries
  info       show a stream's length, last id and groups
  pending    list a group's pending entries
  trim       drop a stream's oldest entries
  dlq        list or reprocess a stream's dead letters
  bench      measure a running server: append to a fresh stream, consume it as a group
  version    print the version

Client commands take --url (default RUNNEL_URL or http://127.0.0.1:8080); each has --help.
Exit codes: 0 ok, 1 server or runtime error, 2 usage error.
`;

/** The server and its configuration load only for `serve` (and `version`): client commands start faster without them. */
async function serve(argv: string[]): Promise<void> {
  const { resolveServeConfig, SERVE_HELP } = await import("./config.js");
  const { startServer, VERSION } = await import("../api/server.js");
  const config = resolveServeConfig(argv, process.env);
  if (config === "help") {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const server = await startServer(config);
  console.error(`runnel ${VERSION} listening on ${server.url} (${server.engine.store.kind})`);
  if (server.respPort !== undefined) {
    const host = config.respHost ?? config.host ?? "127.0.0.1";
    console.error(`runnel: Redis protocol (RESP2) listening on redis://${host.includes(":") ? `[${host}]` : host}:${server.respPort}`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`runnel: ${signal} received, finishing in-flight requests`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`runnel: shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // consume and publish handle a closed pipe themselves: consume stops reading and lets in-flight acks finish;
  // publish stops printing ids and stores the rest of its input (its job is storing; the ids are a by-product).
  if (command !== "consume" && command !== "publish" && command !== "serve") exitOnClosedPipe();
  switch (command) {
    case "serve":
      return serve(rest);
    case "publish":
      return publish(rest);
    case "tail":
      return tail(rest);
    case "consume":
      return consume(rest);
    case "info":
      return info(rest);
    case "pending":
      return pending(rest);
    case "trim":
      return trim(rest);
    case "dlq":
      return dlq(rest);
    case "bench":
      return bench(rest);
    case "version":
    case "--version":
      if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write("Usage: runnel version\n\nPrints the version of Runnel.\n");
        return;
      }
      process.stdout.write(`${(await import("../api/server.js")).VERSION}\n`);
      return;
    case undefined:
      // No command is a usage error: the help goes to stderr and the exit code says so.
      process.stderr.write(HELP);
      process.exitCode = 2;
      return;
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(HELP);
      return;
    default:
      throw new ConfigError(`unknown command '${command}'; try runnel --help`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`runnel: ${message}`);
  const usage = error instanceof ConfigError || String((error as { code?: string }).code ?? "").startsWith("ERR_PARSE_ARGS_");
  // process.exit drops what is still queued for a pipe (the ids publish printed before it failed): exit once it is
  // out, or after a few seconds should the reader never read.
  const exit = () => process.exit(usage ? 2 : 1);
  setTimeout(exit, 5000);
  void Promise.all([drained(process.stdout), drained(process.stderr)]).then(exit);
});

/** Resolves once everything written to `out` so far has been handed on (or `out` has closed). */
function drained(out: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => out.write("", () => resolve()));
}
