// Fresh Runnel servers for one benchmarked backend: child processes on loopback over a temp folder or a new schema.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { spawn } from "node:child_process";
import { postgresProblem as problemAt } from "../test/helpers/backends.js";
import { MAIN, storeArgs, type ChildServer } from "../test/helpers/server.js";
import type { StoreOptions } from "../src/storage/index.js";
import { PG_URL, type BackendName, type BenchConfig } from "./config.js";

/** The servers one backend row runs against; producers and consumers are spread over `nodes`. */
export interface NodeSet extends AsyncDisposable {
  backend: BackendName;
  nodes: ChildServer[];
  /** `redis://host:port` of each node's RESP listener, when the set was started with `resp`. */
  respUrls: string[];
  /** How the storage was set up, for the results file. */
  describe: string;
  /** A node that exited on its own (crashed) while the set was in use, with its stderr. */
  crashed(): string | undefined;
  /** What the nodes wrote to stderr beyond the startup line: warnings and errors under load. */
  complaints(): string[];
  /** PostgreSQL only: how many cross-node wake-ups (NOTIFY) named `stream`; undefined on SQLite. */
  wakeups(stream: string): number | undefined;
}

/** The channel Runnel's PostgreSQL nodes NOTIFY each other on; the bench listens too, to see wake-ups arrive. */
const WAKE_CHANNEL = "runnel_wake";

/** Counts NOTIFY payloads on the wake channel by the stream they name (payload: `<node id> <namespace>/<stream>`). */
async function listenForWakeups(): Promise<{ count(stream: string): number; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  const payloads: string[] = [];
  client.on("notification", (msg) => {
    if (payloads.length < 5_000_000) payloads.push(msg.payload ?? "");
  });
  client.on("error", () => undefined);
  await client.connect();
  await client.query(`LISTEN ${WAKE_CHANNEL}`);
  return {
    count: (stream) => payloads.filter((p) => p.includes(stream)).length,
    close: () => client.end().catch(() => undefined),
  };
}

/** Answers why the bench's PostgreSQL cannot be used, or undefined when it answers. */
export function postgresProblem(): Promise<string | undefined> {
  return problemAt(PG_URL);
}

/** The server settings that decide PostgreSQL's commit cost, recorded next to its numbers. */
export async function postgresSettings(): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const res = await client.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')",
    );
    return Object.fromEntries(res.rows.map((r) => [r.name, r.setting]));
  } finally {
    await client.end();
  }
}

/** Database-wide counters from pg_stat_database; the difference over a run shows churn, deadlocks and rollbacks. */
export interface PgCounters {
  sessions: number;
  deadlocks: number;
  commits: number;
  rollbacks: number;
}

export async function postgresCounters(): Promise<PgCounters> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    // The counters are sent to the statistics collector with a delay; a fresh snapshot avoids a cached one.
    await client.query("SELECT pg_stat_clear_snapshot()");
    const res = await client.query<{ sessions: string; deadlocks: string; commits: string; rollbacks: string }>(
      "SELECT sessions, deadlocks, xact_commit AS commits, xact_rollback AS rollbacks FROM pg_stat_database WHERE datname = current_database()",
    );
    const row = res.rows[0]!;
    return { sessions: Number(row.sessions), deadlocks: Number(row.deadlocks), commits: Number(row.commits), rollbacks: Number(row.rollbacks) };
  } finally {
    await client.end();
  }
}

/** Drops a schema the bench made (servers' or the engine bench's). */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * `node [nodeFlags] dist/cli/main.js serve …`, resolved once it listens. Like the tests' `spawnServer`, plus node
 * flags: `--cpu-prof` is not allowed in NODE_OPTIONS, so profiling needs its own command line.
 */
function spawnNode(args: string[], nodeFlags: string[], resp = false): Promise<ChildServer & { respUrl?: string }> {
  const respArgs = resp ? ["--resp-port", "0"] : [];
  const proc = spawn(process.execPath, [...nodeFlags, MAIN, "serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warn", ...respArgs, ...args], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 15 s:\n${err}`)), 15_000);
    proc.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      const r = /listening on (redis:\/\/[^\s]+)/.exec(err);
      if (!m || (resp && !r)) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        ...(r ? { respUrl: r[1]! } : {}),
        proc,
        stderr: () => err,
        async stop(signal = "SIGTERM") {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${err}`));
    });
  });
}

function profileFlags(config: BenchConfig, label: string): string[] {
  return config.cpuProfDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${join(config.cpuProfDir, label)}`];
}

/**
 * Starts the servers for `backend` on fresh storage; disposing stops them and removes the storage. With `resp`,
 * each node also serves the Redis protocol on a free port.
 */
export async function startNodes(backend: BackendName, config: BenchConfig, options: { resp?: boolean } = {}): Promise<NodeSet> {
  const nodes: ChildServer[] = [];
  const respUrls: string[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let wake: Awaited<ReturnType<typeof listenForWakeups>> | undefined;
  let store: StoreOptions;
  const extra: string[] = [];
  if (backend === "sqlite-full" || backend === "sqlite-relaxed") {
    const dir = mkdtempSync(join(tmpdir(), "runnel-bench-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    store = { kind: "sqlite", dataDir: dir };
    extra.push("--durability", backend === "sqlite-full" ? "full" : "relaxed");
  } else {
    const schema = `runnel_bench_${randomBytes(6).toString("hex")}`;
    cleanups.push(() => dropSchema(schema));
    wake = await listenForWakeups();
    cleanups.push(wake.close);
    store = { kind: "postgres", url: PG_URL, schema, poolSize: config.pgPoolSize };
    extra.push("--pool-size", String(config.pgPoolSize));
  }
  const count = backend === "postgres-2nodes" ? 2 : 1;
  let stopping = false;
  let disposing: Promise<void> | undefined;
  const crashes: string[] = [];
  const set: NodeSet = {
    backend,
    nodes,
    respUrls,
    describe:
      store.kind === "sqlite"
        ? `sqlite in a temp folder, ${extra.join(" ")}`
        : `postgres schema ${store.schema}, ${count} node(s), --pool-size ${config.pgPoolSize} each`,
    crashed: () => crashes[0],
    wakeups: (stream) => wake?.count(stream),
    complaints: () =>
      nodes.flatMap((n, i) =>
        n
          .stderr()
          .split("\n")
          .filter((line) => line.trim() !== "" && !/listening on|SIGTERM received/.test(line))
          .map((line) => `node ${i + 1}: ${line}`),
      ),
    [Symbol.asyncDispose]() {
      disposing ??= (async () => {
        stopping = true;
        const codes = await Promise.all(nodes.map((n) => n.stop("SIGTERM")));
        codes.forEach((code, i) => {
          if (code !== 0 && code !== null) crashes.push(`node ${i + 1} exited with ${code} on SIGTERM:\n${nodes[i]!.stderr()}`);
        });
        for (const cleanup of cleanups.splice(0).reverse()) {
          await cleanup().catch((e: unknown) => console.error(`# cleanup failed: ${String(e)}`));
        }
      })();
      return disposing;
    },
  };
  try {
    // One after the other, so the second node finds the migrations done rather than waiting on the lock.
    for (let i = 0; i < count; i++) {
      const label = `${backend}${options.resp ? "-resp" : ""}-node${i + 1}`;
      const node = await spawnNode([...storeArgs(store), ...extra], profileFlags(config, label), options.resp);
      if (node.respUrl) respUrls.push(node.respUrl);
      node.proc.once("exit", (code, signal) => {
        if (!stopping) crashes.push(`node ${i + 1} exited (code ${code}, signal ${signal}) during the run:\n${node.stderr()}`);
      });
      nodes.push(node);
    }
  } catch (error) {
    await set[Symbol.asyncDispose]();
    throw error;
  }
  return set;
}
