// The comparison section of `npm run bench`: Redis Streams and NATS JetStream under Runnel's workloads, Runnel itself
// over the Redis protocol with the same client code, the HTTP and RESP floors (Node servers that do nothing), and a table of
// Runnel beside them.
import { availableParallelism, loadavg } from "node:os";
import type { BenchConfig } from "./config.js";
import { benchNats, natsProblem, NATS_SYSTEM, type NatsServerInfo } from "./nats.js";
import { startNodes, type NodeSet } from "./nodes.js";
import { benchRedis, benchResp, redisProblem, REDIS_SYSTEM, type RedisRun, type RedisServerInfo } from "./redis.js";
import { DURABLE_REDIS_SYSTEM, durableRedisProblem, startDurableRedis } from "./redis-durable.js";
import { benchHttpFloor, HTTP_FLOOR_SYSTEM } from "./http-floor.js";
import { benchRespFloor, RESP_FLOOR_SYSTEM } from "./resp-floor.js";
import { cpuCell, type ScenarioName, type ScenarioResult } from "./stats.js";

/** Runnel on SQLite with full durability, driven by the Redis benchmark's ioredis code through `--resp-port`. */
export const RUNNEL_RESP_SYSTEM = "runnel sqlite-full (resp)" as const;

/** One system the section tried: measured, not reachable (skipped), or failed part-way. */
export interface ComparedSystem {
  system:
    | typeof REDIS_SYSTEM
    | typeof NATS_SYSTEM
    | typeof RUNNEL_RESP_SYSTEM
    | typeof DURABLE_REDIS_SYSTEM
    | typeof HTTP_FLOOR_SYSTEM
    | typeof RESP_FLOOR_SYSTEM;
  url: string;
  status: "measured" | "unreachable" | "failed";
  /** Why it was skipped or failed. */
  reason: string | null;
  server: RedisServerInfo | NatsServerInfo | null;
}

/** A line of the comparison table. */
export interface ComparisonRow {
  scenario: ScenarioName;
  /** `runnel <backend>`, `redis` or `nats-jetstream`. */
  system: string;
  msgsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  latencyOf: string;
  /** This row's msgs/s divided by Redis's in the same scenario; null without a Redis row. */
  ratioToRedis: number | null;
  /** The same against the Redis that syncs every write (`redis aof-always`); null without that row. */
  ratioToDurableRedis: number | null;
  /** CPU time the server's processes spent per message (µs); null when it could not be read. */
  serverCpuMicrosPerMsg: number | null;
  /** That CPU per message divided by Redis's in the same scenario: how many times Redis's work each message costs. */
  cpuToRedis: number | null;
}

export interface CompareReport {
  systems: ComparedSystem[];
  /** The Redis and NATS rows, in the same shape as Runnel's. */
  rows: ScenarioResult[];
  comparison: ComparisonRow[];
  /** 1-, 5- and 15-minute load averages before and after the section: the machine is shared, and the numbers move with it. */
  load: { before: number[]; after: number[]; cores: number };
  /** Wall time the section added to the run. */
  seconds: number;
  problems: string[];
}

type Log = (message: string) => void;

const SCENARIOS: readonly ScenarioName[] = ["append-one", "append-batch", "group-read-ack"];

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function logRow(log: Log, row: ScenarioResult): void {
  log(
    `  ${row.scenario.padEnd(15)} ${String(row.msgsPerSec).padStart(7)} msgs/s  p50 ${row.p50Ms ?? "-"} ms  p99 ${row.p99Ms ?? "-"} ms  ` +
      `(${row.messages} in ${row.seconds} s${row.capped ? ", time-capped" : ""}, ${row.errors} errors)${row.problems.length ? `  ! ${row.problems.join("; ")}` : ""}`,
  );
}

/**
 * Starts a fresh SQLite (full durability) node with a RESP listener and runs the Redis workloads against it. The
 * node's stderr lines and a crash become problems of its rows. `onNodes` hears of the node so Ctrl-C can stop it.
 */
async function benchRunnelResp(config: BenchConfig, log: Log, onNodes: (set: NodeSet | undefined) => void): Promise<RedisRun> {
  const nodes = await startNodes("sqlite-full", config, { resp: true });
  onNodes(nodes);
  let run: RedisRun;
  try {
    log(`# ${RUNNEL_RESP_SYSTEM}: ${nodes.describe} (${nodes.respUrls.join(", ")})`);
    run = await benchResp(nodes.respUrls[0]!, RUNNEL_RESP_SYSTEM, config, log, nodes.nodes[0]!.proc.pid);
  } finally {
    await nodes[Symbol.asyncDispose]();
    onNodes(undefined);
  }
  const crash = nodes.crashed();
  if (crash) throw new Error(crash);
  const complaints = nodes.complaints();
  if (complaints.length > 0 && run.rows[0]) {
    run.rows[0].problems.push(`the server wrote ${complaints.length} line(s) to stderr, first: ${complaints.slice(0, 3).join(" | ")}`);
  }
  return run;
}

/** Starts the private redis-server that syncs every write, runs the workloads on it, and stops it. */
async function benchDurableRedis(config: BenchConfig, log: Log): Promise<RedisRun> {
  const redis = await startDurableRedis();
  if (typeof redis === "string") throw new Error(redis);
  await using _ = redis;
  // Awaited here: the server must outlive the run, not just the call that starts it.
  return await benchResp(redis.url, DURABLE_REDIS_SYSTEM, config, log);
}

/** Measures each reachable system in turn and lines its rows up against `runnelRows`. */
export async function benchCompare(
  config: BenchConfig,
  runnelRows: readonly ScenarioResult[],
  log: Log,
  onNodes: (set: NodeSet | undefined) => void = () => undefined,
): Promise<CompareReport> {
  const systems: ComparedSystem[] = [];
  const rows: ScenarioResult[] = [];
  const problems: string[] = [];
  const started = performance.now();
  const before = loadavg().map((n) => Math.round(n * 100) / 100);
  log(
    `# comparison: ${config.compare.resp ? "Runnel over RESP, " : ""}Redis Streams and NATS JetStream, same payloads and counts; ` +
      `load average ${before.join(" ")} on ${availableParallelism()} cores`,
  );
  const resp = {
    system: RUNNEL_RESP_SYSTEM,
    url: "a fresh node, --resp-port 0",
    problem: async () => undefined,
    run: (c: BenchConfig, l: Log) => benchRunnelResp(c, l, onNodes),
  };
  const durable = {
    system: DURABLE_REDIS_SYSTEM,
    url: "a private redis-server, appendfsync always",
    problem: durableRedisProblem,
    run: benchDurableRedis,
  };
  const floor = {
    system: HTTP_FLOOR_SYSTEM,
    url: "a bare node:http child process",
    problem: async () => undefined,
    run: benchHttpFloor,
  };
  const respFloor = {
    system: RESP_FLOOR_SYSTEM,
    url: "a bare node:net child process",
    problem: async () => undefined,
    run: benchRespFloor,
  };
  const candidates = [
    ...(config.compare.floor ? [floor] : []),
    ...(config.compare.resp ? [resp] : []),
    ...(config.compare.floor ? [respFloor] : []),
    { system: REDIS_SYSTEM, url: config.compare.redisUrl, problem: redisProblem, run: benchRedis },
    ...(config.compare.durable ? [durable] : []),
    { system: NATS_SYSTEM, url: config.compare.natsUrl, problem: natsProblem, run: benchNats },
  ] as const;
  for (const { system, url, problem, run } of candidates) {
    const reason = await problem(url);
    if (reason !== undefined) {
      log(`# skipping ${system}: not reachable at ${url}: ${reason}`);
      systems.push({ system, url, status: "unreachable", reason, server: null });
      continue;
    }
    try {
      const measured = await run(config, log);
      for (const row of measured.rows) logRow(log, row);
      rows.push(...measured.rows);
      systems.push({ system, url, status: "measured", reason: null, server: measured.server });
    } catch (error) {
      const message = messageOf(error);
      log(`# ${system} failed: ${message}`);
      problems.push(`${system}: the run failed: ${message}`);
      systems.push({ system, url, status: "failed", reason: message, server: null });
    }
  }
  for (const row of rows) for (const p of row.problems) problems.push(`${row.scenario} on ${row.backend}: ${p}`);
  for (const row of rows) if (row.errors > 0) problems.push(`${row.scenario} on ${row.backend}: ${row.errors} failed requests, e.g. ${row.errorSamples[0]}`);
  const after = loadavg().map((n) => Math.round(n * 100) / 100);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const load = { before, after, cores: availableParallelism() };
  return { systems, rows, comparison: lineUp(runnelRows, rows), load, seconds, problems };
}

function lineUp(runnelRows: readonly ScenarioResult[], otherRows: readonly ScenarioResult[]): ComparisonRow[] {
  const lines: ComparisonRow[] = [];
  for (const scenario of SCENARIOS) {
    const redis = otherRows.find((r) => r.scenario === scenario && r.backend === REDIS_SYSTEM);
    const durable = otherRows.find((r) => r.scenario === scenario && r.backend === DURABLE_REDIS_SYSTEM);
    const per = (row: ScenarioResult, base: ScenarioResult | undefined) =>
      base && base.msgsPerSec > 0 ? Math.round((row.msgsPerSec / base.msgsPerSec) * 10_000) / 10_000 : null;
    const pick = (row: ScenarioResult, system: string): ComparisonRow => ({
      scenario,
      system,
      msgsPerSec: row.msgsPerSec,
      p50Ms: row.p50Ms,
      p99Ms: row.p99Ms,
      latencyOf: row.latencyOf,
      ratioToRedis: per(row, redis),
      ratioToDurableRedis: per(row, durable),
      serverCpuMicrosPerMsg: row.serverCpuMicrosPerMsg,
      cpuToRedis:
        row.serverCpuMicrosPerMsg !== null && redis?.serverCpuMicrosPerMsg
          ? Math.round((row.serverCpuMicrosPerMsg / redis.serverCpuMicrosPerMsg) * 100) / 100
          : null,
    });
    for (const row of runnelRows) if (row.scenario === scenario) lines.push(pick(row, `runnel ${row.backend}`));
    for (const row of otherRows) if (row.scenario === scenario) lines.push(pick(row, row.backend));
  }
  return lines;
}

function ratio(r: number | null): string {
  if (r === null) return "-";
  return r >= 0.1 ? `${r.toFixed(2)}x` : `${r.toFixed(3)}x`;
}

/** The comparison as an aligned table, plus one line for each system that was not measured. */
export function formatComparison(report: CompareReport): string {
  const header = ["scenario", "system", "msgs/s", "p50 ms", "p99 ms", "vs redis", "vs durable", "cpu µs/msg", "cpu/redis", "latency of"];
  const body = report.comparison.map((r) => [
    r.scenario,
    r.system,
    r.msgsPerSec.toLocaleString("en-US"),
    r.p50Ms === null ? "-" : r.p50Ms.toFixed(1),
    r.p99Ms === null ? "-" : r.p99Ms.toFixed(1),
    ratio(r.ratioToRedis),
    ratio(r.ratioToDurableRedis),
    cpuCell(r),
    r.cpuToRedis === null ? "-" : `${r.cpuToRedis.toFixed(1)}x`,
    r.latencyOf,
  ]);
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  const lines: string[] = [];
  if (report.rows.length > 0) {
    lines.push(line(header), line(widths.map((w) => "-".repeat(w))));
    SCENARIOS.forEach((scenario, i) => {
      const group = body.filter((_, j) => report.comparison[j]!.scenario === scenario);
      if (group.length > 0 && i > 0 && lines.length > 2) lines.push("");
      lines.push(...group.map(line));
    });
    lines.push("vs redis: msgs/s divided by Redis's in the same scenario (runnel/redis on Runnel's rows)");
    lines.push(
      "cpu µs/msg: CPU time (user + system, every thread) the server's processes spent per message while the row ran, " +
        "from /proc; cpu/redis: that divided by Redis's. The load generator's own CPU is not in it",
    );
    if (report.systems.some((s) => s.system === DURABLE_REDIS_SYSTEM && s.status === "measured")) {
      lines.push(
        `vs durable: the same against ${DURABLE_REDIS_SYSTEM}, a private redis-server with appendonly yes and appendfsync always ` +
          "(every write synced to disk before the reply, as Runnel's sqlite-full does)",
      );
    }
    if (report.systems.some((s) => s.system === HTTP_FLOOR_SYSTEM && s.status === "measured")) {
      lines.push(
        `${HTTP_FLOOR_SYSTEM}: the same HTTP load generator against a bare node:http server that only counts, no framework and ` +
          "no storage: the most any Node HTTP server reaches under these workloads on this machine",
      );
    }
    if (report.systems.some((s) => s.system === RESP_FLOOR_SYSTEM && s.status === "measured")) {
      lines.push(
        `${RESP_FLOOR_SYSTEM}: the Redis rows' ioredis code against a bare node:net server that parses the commands and ` +
          "answers from counters: the most any Node server speaking RESP reaches under these workloads on this machine",
      );
    }
    if (report.systems.some((s) => s.system === RUNNEL_RESP_SYSTEM && s.status === "measured")) {
      lines.push(`${RUNNEL_RESP_SYSTEM}: Runnel on SQLite (full durability) driven by the Redis rows' ioredis code over --resp-port`);
    }
    const { before, after, cores } = report.load;
    lines.push(`load average (1, 5, 15 min) on ${cores} cores: ${before.join(" ")} before Redis/NATS, ${after.join(" ")} after (${report.seconds} s)`);
  }
  for (const s of report.systems) {
    if (s.status === "unreachable") lines.push(`${s.system} not reachable at ${s.url} (${s.reason}): Runnel measured without it`);
    if (s.status === "failed") lines.push(`${s.system} failed part-way; see the problems below`);
  }
  return lines.join("\n");
}
