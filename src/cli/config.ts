// `runnel serve` configuration: flags win over environment variables, which win over defaults.
import { parseArgs } from "node:util";
import type { ServerOptions } from "../api/server.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "../api/server.js";
import { DEFAULT_BODY_LIMIT } from "../api/http/server.js";
import { ConfigError } from "./errors.js";

export const SERVE_HELP = `Usage: runnel serve [options]

Serves Runnel over HTTP, and over the Redis protocol (RESP2) when --resp-port is given.

Options (environment variable in brackets):
  --port N               port to listen on [RUNNEL_PORT] (default ${DEFAULT_PORT})
  --host ADDR            address to bind [RUNNEL_HOST] (default ${DEFAULT_HOST})
  --resp-port N          also serve Redis Streams commands (RESP2) on this port, e.g. 6380 [RUNNEL_RESP_PORT]
                         (default: no RESP listener; 0 picks a free port)
  --store KIND           sqlite or postgres [RUNNEL_STORE] (default sqlite)
  --data DIR             SQLite data folder [RUNNEL_DATA_DIR] (default ./data)
  --durability MODE      SQLite: full (fsync every commit) or relaxed [RUNNEL_DURABILITY] (default full)
  --database-url URL     PostgreSQL connection string [RUNNEL_DATABASE_URL]
  --schema NAME          PostgreSQL schema [RUNNEL_PG_SCHEMA] (default runnel)
  --pool-size N          PostgreSQL connections [RUNNEL_POOL_SIZE] (default 10)
  --max-body BYTES       largest request body [RUNNEL_MAX_BODY] (default ${DEFAULT_BODY_LIMIT})
  --cors-origin LIST     allowed CORS origins, * or a comma-separated list [RUNNEL_CORS_ORIGIN] (default *)
  --max-block MS         longest blocking read [RUNNEL_MAX_BLOCK_MS] (default 60000)
  --demo                 emit sample events on the default broadcast channels [RUNNEL_DEMO=1]
  --log-level LEVEL      fatal, error, warn, info, debug [RUNNEL_LOG_LEVEL] (default info)
  -h, --help             show this help
`;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** A flag given empty is a mistake; an empty environment variable counts as unset. */
function pick(flag: string | undefined, env: string | undefined, name: string): string | undefined {
  if (flag !== undefined) {
    if (flag === "") throw new ConfigError(`--${name} needs a value`);
    return flag;
  }
  return env === "" ? undefined : env;
}

function int(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  // Digits only: Number() alone reads ' ' as 0 (for --port, a random port) and takes 0x10 or 1e3.
  if (!/^\d+$/.test(value) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

export function resolveServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServerOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      "resp-port": { type: "string" },
      host: { type: "string" },
      store: { type: "string" },
      data: { type: "string" },
      durability: { type: "string" },
      "database-url": { type: "string" },
      schema: { type: "string" },
      "pool-size": { type: "string" },
      "max-body": { type: "string" },
      "max-block": { type: "string" },
      "cors-origin": { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
      demo: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const kind = values.store ?? env.RUNNEL_STORE ?? "sqlite";
  const port = int(pick(values.port, env.RUNNEL_PORT, "port"), "port", 0, 65535) ?? DEFAULT_PORT;
  const respPort = int(pick(values["resp-port"], env.RUNNEL_RESP_PORT, "resp-port"), "resp-port", 0, 65535);
  const logLevel = pick(values["log-level"], env.RUNNEL_LOG_LEVEL, "log-level") ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`log-level must be one of ${LOG_LEVELS.join(", ")}, got '${logLevel}'`);
  }
  const common = {
    port,
    ...(respPort === undefined ? {} : { respPort }),
    host: values.host ?? env.RUNNEL_HOST ?? DEFAULT_HOST,
    bodyLimit: int(pick(values["max-body"], env.RUNNEL_MAX_BODY, "max-body"), "max-body", 1024, 1024 ** 3) ?? DEFAULT_BODY_LIMIT,
    maxBlockMs: int(pick(values["max-block"], env.RUNNEL_MAX_BLOCK_MS, "max-block"), "max-block", 0, 3_600_000) ?? 60_000,
    logLevel,
    corsOrigin: values["cors-origin"] ?? env.RUNNEL_CORS_ORIGIN ?? "*",
    demo: values.demo ?? env.RUNNEL_DEMO === "1",
  };
  if (kind === "sqlite") {
    const durability = values.durability ?? env.RUNNEL_DURABILITY ?? "full";
    if (durability !== "full" && durability !== "relaxed") throw new ConfigError(`durability must be full or relaxed, got '${durability}'`);
    return { ...common, store: { kind, dataDir: values.data ?? env.RUNNEL_DATA_DIR ?? "./data", durability } };
  }
  if (kind === "postgres") {
    const url = values["database-url"] ?? env.RUNNEL_DATABASE_URL;
    if (!url) throw new ConfigError("--store postgres needs --database-url (or RUNNEL_DATABASE_URL)");
    const poolSize = int(values["pool-size"] ?? env.RUNNEL_POOL_SIZE, "pool-size", 1, 1000);
    return {
      ...common,
      store: {
        kind,
        url,
        schema: values.schema ?? env.RUNNEL_PG_SCHEMA ?? "runnel",
        ...(poolSize === undefined ? {} : { poolSize }),
      },
    };
  }
  throw new ConfigError(`store must be sqlite or postgres, got '${kind}'`);
}
