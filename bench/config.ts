// Benchmark settings from the environment: counts scale with BENCH_SCALE, each knob can be set on its own.
//
//   BENCH_SCALE=0.1                multiplies every count (default 1: 20k single appends, 200k batched, 100k consumed)
//   BENCH_BACKENDS=a,b             sqlite-full, sqlite-relaxed, postgres-1node, postgres-2nodes (default all)
//   BENCH_SCENARIOS=a,b            append-one, append-batch, group-read-ack (default all; Redis and NATS run all three)
//   BENCH_MAX_SECONDS=15           cap per measured phase; a capped row reports the rate of what it finished
//   BENCH_APPEND_COUNT, BENCH_APPEND_CONCURRENCY (32), BENCH_BATCH_COUNT, BENCH_BATCH_SIZE (100),
//   BENCH_BATCH_CONCURRENCY (8), BENCH_GROUP_PREFILL, BENCH_GROUP_CONSUMERS (8), BENCH_GROUP_READ_COUNT (100),
//   BENCH_PAYLOAD_BYTES (200), BENCH_WARMUP, BENCH_PG_POOL_SIZE (10)   exact values, not scaled
//   BENCH_PUSH=0                   skip the push section (WebSocket/SSE, SQLite full durability); BENCH_PUSH=only runs nothing else
//   BENCH_PUSH_RATES (1000,5000), BENCH_PUSH_SECONDS (10 x scale), BENCH_PUSH_BATCH (25 entries per request above
//   1,000/s), BENCH_PUSH_SUBSCRIBERS (2), BENCH_PUSH_IDLE (2,000 x scale of each kind)
//   BENCH_CPU_PROF=dir             run every server under --cpu-prof; summarise with bench/profile-summary.ts
//   BENCH_COMPARE=0                skip measuring Redis Streams and NATS JetStream under the same workloads (bench/compare.ts)
//   BENCH_COMPARE_RESP=0           in that section, skip Runnel over the Redis protocol (a sqlite-full node with --resp-port)
//   BENCH_COMPARE_DURABLE=0        in that section, skip the private redis-server with appendfsync always (bench/redis-durable.ts)
//   BENCH_COMPARE_FLOOR=0          in that section, skip the floors: bare node:http and node:net servers with no storage
//                                  (bench/http-floor.ts, bench/resp-floor.ts)
//   BENCH_REDIS_URL (redis://127.0.0.1:6379), BENCH_NATS_URL (nats://127.0.0.1:4222)   loopback only; skipped when unreachable
//   BENCH_COMPARE_MAX_SECONDS      cap per measured phase of Redis and NATS (default 8, at most BENCH_MAX_SECONDS)
//   RUNNEL_BENCH_DATABASE_URL      PostgreSQL to use (default RUNNEL_TEST_DATABASE_URL, then postgres://postgres@127.0.0.1:5432/test)
import { resolve } from "node:path";

export const PG_URL = process.env.RUNNEL_BENCH_DATABASE_URL ?? process.env.RUNNEL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export type BackendName = "sqlite-full" | "sqlite-relaxed" | "postgres-1node" | "postgres-2nodes";
export const BACKEND_NAMES: readonly BackendName[] = ["sqlite-full", "sqlite-relaxed", "postgres-1node", "postgres-2nodes"];

export type ScenarioName = "append-one" | "append-batch" | "group-read-ack";
export const SCENARIO_NAMES: readonly ScenarioName[] = ["append-one", "append-batch", "group-read-ack"];

export interface BenchConfig {
  scale: number;
  /** Backends to run, in order (BENCH_BACKENDS=sqlite-full,postgres-1node). */
  backends: BackendName[];
  /** Runnel scenarios to run, in order (BENCH_SCENARIOS=append-batch,group-read-ack). */
  scenarios: ScenarioName[];
  /** Size of each entry's JSON payload in bytes. */
  payloadBytes: number;
  /** Requests sent before measuring, so the server's JIT is warm. */
  warmupRequests: number;
  appendOne: { count: number; concurrency: number };
  appendBatch: { count: number; batchSize: number; concurrency: number };
  groupRead: { prefill: number; consumers: number; readCount: number };
  /** PostgreSQL connections per node. */
  pgPoolSize: number;
  /**
   * A measured phase still running after this many seconds stops early and reports the rate of what it finished
   * (marked `capped`), so a slow backend cannot stretch the run.
   */
  maxSeconds: number;
  /** When set, every server runs under `--cpu-prof` and writes its profile into this folder. */
  cpuProfDir: string | undefined;
  push: PushBenchConfig;
  compare: CompareBenchConfig;
}

/** The push section (bench/push.ts): delivery latency at paced rates, idle connections and fan-out. */
export interface PushBenchConfig {
  /** `off` skips it, `only` skips the backend scenarios. */
  mode: "on" | "off" | "only";
  /** Appends per second the producer paces at, one measured phase each. */
  rates: number[];
  secondsPerRate: number;
  /** Entries per POST /entries above 1,000/s; at or below it each entry is its own POST /add. */
  batch: number;
  /** WebSocket subscribers receiving every entry during the latency phases. */
  subscribers: number;
  /** Idle subscribers of each kind (WebSocket and SSE). */
  idleConnections: number;
}

/** The comparison section (bench/compare.ts): the same workloads against Redis Streams and NATS JetStream. */
export interface CompareBenchConfig {
  enabled: boolean;
  /** Also run the Redis workloads against a Runnel node (SQLite, full durability) over its RESP listener. */
  resp: boolean;
  /** Also measure a private redis-server that syncs its append-only file on every write (as durable as sqlite-full). */
  durable: boolean;
  /** Also run the HTTP scenarios against a bare node:http server that stores nothing: the ceiling of HTTP here. */
  floor: boolean;
  redisUrl: string;
  natsUrl: string;
  /** Cap per measured phase, kept short so the section adds well under a minute. */
  maxSeconds: number;
}

/** The URL from `name`, else `fallback`; the bench only ever sends load to this machine. */
function loopbackUrl(name: string, fallback: string): string {
  const raw = process.env[name] || fallback;
  let host: string;
  try {
    host = new URL(raw).hostname.replace(/^\[|\]$/g, "");
  } catch {
    throw new Error(`${name} must be a URL such as ${fallback}, got '${raw}'`);
  }
  if (host !== "localhost" && host !== "::1" && !/^127\.\d+\.\d+\.\d+$/.test(host)) {
    throw new Error(`${name} must point at this machine (127.0.0.0/8, localhost or ::1), got '${raw}'`);
  }
  return raw;
}

function pushMode(raw: string | undefined): PushBenchConfig["mode"] {
  if (raw === undefined || raw === "" || raw === "1") return "on";
  if (raw === "0") return "off";
  if (raw === "only") return "only";
  throw new Error(`BENCH_PUSH must be 0, 1 or only, got '${raw}'`);
}

function rateList(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === "") return [1000, 5000];
  const rates = raw.split(",").map((s) => Number(s.trim()));
  if (rates.some((r) => !Number.isFinite(r) || r < 1)) throw new Error(`BENCH_PUSH_RATES must be numbers >= 1, got '${raw}'`);
  return rates;
}

function num(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got '${raw}'`);
  return n;
}

/** An integer knob: the variable's value as given, else `base * scale`. */
function scaled(name: string, base: number, scale: number, min: number): number {
  return Math.max(min, Math.round(num(name, base * scale, min)));
}

/** A comma-separated subset of `known` (all of them when unset), in the order given. */
function nameList<T extends string>(variable: string, raw: string | undefined, known: readonly T[]): T[] {
  if (raw === undefined || raw.trim() === "") return [...known];
  const names = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(known as readonly string[]).includes(n)) throw new Error(`${variable}: unknown name '${n}'; use ${known.join(", ")}`);
  }
  return names as T[];
}

export function resolveBenchConfig(): BenchConfig {
  const scale = num("BENCH_SCALE", 1, 0.001);
  return {
    scale,
    backends: nameList("BENCH_BACKENDS", process.env.BENCH_BACKENDS, BACKEND_NAMES),
    scenarios: nameList("BENCH_SCENARIOS", process.env.BENCH_SCENARIOS, SCENARIO_NAMES),
    payloadBytes: scaled("BENCH_PAYLOAD_BYTES", 200, 1, 16),
    warmupRequests: scaled("BENCH_WARMUP", 500, scale, 50),
    appendOne: {
      count: scaled("BENCH_APPEND_COUNT", 20_000, scale, 100),
      concurrency: scaled("BENCH_APPEND_CONCURRENCY", 32, 1, 1),
    },
    appendBatch: {
      count: scaled("BENCH_BATCH_COUNT", 200_000, scale, 100),
      batchSize: Math.min(10_000, scaled("BENCH_BATCH_SIZE", 100, 1, 1)),
      concurrency: scaled("BENCH_BATCH_CONCURRENCY", 8, 1, 1),
    },
    groupRead: {
      prefill: scaled("BENCH_GROUP_PREFILL", 100_000, scale, 100),
      consumers: scaled("BENCH_GROUP_CONSUMERS", 8, 1, 1),
      readCount: scaled("BENCH_GROUP_READ_COUNT", 100, 1, 1),
    },
    pgPoolSize: scaled("BENCH_PG_POOL_SIZE", 10, 1, 1),
    maxSeconds: num("BENCH_MAX_SECONDS", 15, 1),
    cpuProfDir: process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined,
    compare: {
      enabled: process.env.BENCH_COMPARE !== "0",
      resp: process.env.BENCH_COMPARE_RESP !== "0",
      durable: process.env.BENCH_COMPARE_DURABLE !== "0",
      floor: process.env.BENCH_COMPARE_FLOOR !== "0",
      redisUrl: loopbackUrl("BENCH_REDIS_URL", "redis://127.0.0.1:6379"),
      natsUrl: loopbackUrl("BENCH_NATS_URL", "nats://127.0.0.1:4222"),
      maxSeconds: Math.min(num("BENCH_MAX_SECONDS", 15, 1), num("BENCH_COMPARE_MAX_SECONDS", 8, 1)),
    },
    push: {
      mode: pushMode(process.env.BENCH_PUSH),
      rates: rateList(process.env.BENCH_PUSH_RATES),
      secondsPerRate: Math.max(1, num("BENCH_PUSH_SECONDS", 10 * scale, 1)),
      batch: Math.min(10_000, scaled("BENCH_PUSH_BATCH", 25, 1, 1)),
      subscribers: scaled("BENCH_PUSH_SUBSCRIBERS", 2, 1, 1),
      idleConnections: scaled("BENCH_PUSH_IDLE", 2000, scale, 0),
    },
  };
}
