#!/usr/bin/env node
// The `runnel` command.
import { startServer, VERSION } from "../api/server.js";
import { ConfigError, resolveServeConfig, SERVE_HELP } from "./config.js";

const HELP = `Usage: runnel <command> [options]

Commands:
  serve      serve Runnel over HTTP (see runnel serve --help)
  version    print the version
`;

async function serve(argv: string[]): Promise<void> {
  const config = resolveServeConfig(argv, process.env);
  if (config === "help") {
    process.stdout.write(SERVE_HELP);
    return;
  }
  const server = await startServer(config);
  console.error(`runnel ${VERSION} listening on ${server.url} (${server.engine.store.kind})`);
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
  switch (command) {
    case "serve":
      return serve(rest);
    case "version":
    case "--version":
      process.stdout.write(`${VERSION}\n`);
      return;
    case undefined:
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
  process.exit(usage ? 2 : 1);
});
