// `npm run bench`: starts fresh Runnel servers per backend, runs every scenario over HTTP, prints and saves a table.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { PG_URL, resolveBenchConfig, type BackendName, type BenchConfig } from "./config.js";
import { benchCompare, formatComparison, type CompareReport } from "./compare.js";
import { pidsNamed, probeOf } from "./cpu.js";
import { createClient } from "./http-client.js";
import { postgresCounters, postgresProblem, postgresSettings, startNodes, type NodeSet, type PgCounters } from "./nodes.js";
import { benchPush, formatPushSection, type PushReport } from "./push.js";
import { appendBatch, appendOne, groupReadAck, type Target } from "./scenarios.js";
import { formatTable, type ScenarioResult } from "./stats.js";

const RESULTS_DIR = fileURLToPath(new URL("./results/", import.meta.url));

let active: NodeSet | undefined;

/** The commit measured, and whether src/ had uncommitted changes (the numbers then describe the working tree). */
function revision(): { commit: string; srcDirty: boolean } | null {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    return { commit: git("rev-parse", "HEAD"), srcDirty: git("status", "--porcelain", "--", "src") !== "" };
  } catch {
    return null;
  }
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function benchBackend(backend: BackendName, config: BenchConfig, problems: string[]): Promise<ScenarioResult[]> {
  const nodes = await startNodes(backend, config);
  active = nodes;
  const sockets = Math.max(config.appendOne.concurrency, config.appendBatch.concurrency, config.groupRead.consumers, 4);
  const clients = nodes.nodes.map((n) => createClient(n.url, sockets));
  // PostgreSQL does part of the work in its own processes: the row counts their CPU too.
  const database = backend.startsWith("postgres") ? () => pidsNamed("postgres") : () => [];
  const cpu = probeOf(() => [...nodes.nodes.map((n) => n.proc.pid!), ...database()]);
  const target: Target = { backend, clients, cpu };
  const rows: ScenarioResult[] = [];
  try {
    log(`# ${backend}: ${nodes.describe} (${nodes.nodes.map((n) => n.url).join(", ")})`);
    // Warm the servers' JIT and connection pools on a throwaway stream; these numbers are not kept.
    await appendOne(target, config, config.warmupRequests);
    await groupReadAck(target, config, config.warmupRequests);
    const scenarios = { "append-one": appendOne, "append-batch": appendBatch, "group-read-ack": groupReadAck };
    for (const name of config.scenarios) {
      if (nodes.crashed()) break;
      const row = await scenarios[name](target, config);
      rows.push(row);
      if (nodes.wakeups(row.stream) === 0 && row.scenario !== "group-read-ack" && row.messages > 0) {
        row.problems.push(`no NOTIFY wake-up for ${row.stream} reached a listener: readers on other nodes only see new entries by polling`);
      }
      log(
        `  ${row.scenario.padEnd(15)} ${String(row.msgsPerSec).padStart(7)} msgs/s  p50 ${row.p50Ms ?? "-"} ms  p99 ${row.p99Ms ?? "-"} ms  ` +
          `(${row.messages} in ${row.seconds} s${row.capped ? ", time-capped" : ""}, ${row.errors} errors)${row.problems.length ? `  ! ${row.problems.join("; ")}` : ""}`,
      );
    }
  } finally {
    for (const c of clients) c.close();
    await nodes[Symbol.asyncDispose]();
    active = undefined;
    const complaints = nodes.complaints();
    if (complaints.length > 0) {
      problems.push(`${backend}: the server wrote ${complaints.length} line(s) to stderr, first: ${complaints.slice(0, 3).join(" | ")}`);
    }
    const crash = nodes.crashed();
    if (crash) problems.push(`${backend}: ${crash}`);
  }
  return rows;
}

async function main(): Promise<void> {
  const config = resolveBenchConfig();
  const startedAt = new Date();
  const rev = revision();
  const problems: string[] = [];
  const skipped: { backend: BackendName; reason: string }[] = [];
  const rows: ScenarioResult[] = [];
  let pg: Record<string, string> | undefined;
  const pgActivity: Record<string, PgCounters> = {};

  // BENCH_PUSH=only leaves the backend scenarios out.
  const backends = config.push.mode === "only" ? [] : config.backends;
  const wantsPg = backends.some((b) => b.startsWith("postgres"));
  const pgProblem = wantsPg ? await postgresProblem() : undefined;
  if (wantsPg && pgProblem === undefined) pg = await postgresSettings();
  log(
    `# runnel bench: scale ${config.scale}, ${availableParallelism()} cores, node ${process.version}, client node:http keep-alive` +
      (pg ? `; postgres ${pg.server_version} synchronous_commit=${pg.synchronous_commit} fsync=${pg.fsync}` : ""),
  );

  const loadAtStart = loadavg()[0]!;
  if (loadAtStart > availableParallelism() / 2) {
    const warning = `the machine was already busy at the start (1-minute load ${loadAtStart.toFixed(1)} on ${availableParallelism()} cores): the numbers are low and noisy`;
    log(`# warning: ${warning}`);
    problems.push(warning);
  }

  for (const backend of backends) {
    if (backend.startsWith("postgres") && pgProblem !== undefined) {
      const reason = `PostgreSQL unreachable at ${PG_URL}: ${pgProblem}`;
      log(`# skipping ${backend}: ${reason}`);
      skipped.push({ backend, reason });
      continue;
    }
    const before = backend.startsWith("postgres") ? await postgresCounters() : undefined;
    try {
      rows.push(...(await benchBackend(backend, config, problems)));
      if (before) {
        // Stats reach pg_stat_database in the background; give the last backends a moment to report.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const after = await postgresCounters();
        const delta: PgCounters = {
          sessions: after.sessions - before.sessions,
          deadlocks: after.deadlocks - before.deadlocks,
          commits: after.commits - before.commits,
          rollbacks: after.rollbacks - before.rollbacks,
        };
        pgActivity[backend] = delta;
        log(`  database ${JSON.stringify(delta)} (whole database, includes anything else using it)`);
        const nodeCount = backend === "postgres-2nodes" ? 2 : 1;
        const expectedSessions = nodeCount * (config.pgPoolSize + 2) + 10;
        // The counters are database-wide, so leave room for other clients before calling it churn.
        if (delta.sessions > expectedSessions + 100) {
          problems.push(
            `${backend}: ${delta.sessions} PostgreSQL sessions were opened during the run, ~${expectedSessions} expected for ${nodeCount} node(s) of --pool-size ${config.pgPoolSize}: connections are being thrown away and reopened (database-wide count)`,
          );
        }
        if (delta.deadlocks > 0) {
          problems.push(`${backend}: PostgreSQL counted ${delta.deadlocks} deadlocks in the database during the run (database-wide: may be another client's)`);
        }
      }
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      problems.push(`${backend}: the run failed: ${message}`);
      log(`# ${backend} failed: ${message}`);
    }
  }
  // Redis Streams and NATS JetStream under the same workloads, right after Runnel's rows so the machine is comparable.
  let compare: CompareReport | undefined;
  if (config.compare.enabled && config.push.mode !== "only") {
    compare = await benchCompare(config, rows, log, (set) => (active = set));
    problems.push(...compare.problems);
  }
  let push: PushReport | undefined;
  if (config.push.mode !== "off") {
    try {
      push = await benchPush(config, (set) => (active = set));
      for (const p of push.problems) problems.push(`push on ${push.backend}: ${p}`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      problems.push(`push: the run failed: ${message}`);
      log(`# push failed: ${message}`);
    }
  }
  for (const row of rows) for (const p of row.problems) problems.push(`${row.scenario} on ${row.backend}: ${p}`);
  for (const row of rows) if (row.errors > 0) problems.push(`${row.scenario} on ${row.backend}: ${row.errors} failed requests, e.g. ${row.errorSamples[0]}`);

  const finishedAt = new Date();
  const table = formatTable(rows);
  const pushTable = push ? formatPushSection(push) : null;
  if (rows.length > 0 || backends.length > 0) process.stdout.write(`\n${table}\n`);
  const compareTable = compare ? formatComparison(compare) : null;
  if (compareTable) process.stdout.write(`\n${compareTable}\n`);
  if (pushTable) process.stdout.write(`\n${pushTable}\n`);
  for (const s of skipped) process.stdout.write(`skipped ${s.backend}: ${s.reason}\n`);
  for (const p of problems) process.stdout.write(`problem: ${p}\n`);

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = `${RESULTS_DIR}${startedAt.toISOString().replace(/[:.]/g, "-")}.json`;
  const report = {
    startedAt: startedAt.toISOString(),
    seconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    machine: {
      cores: availableParallelism(),
      cpu: cpus()[0]?.model ?? "unknown",
      node: process.version,
      platform: process.platform,
      loadAtStart,
      loadAtEnd: loadavg()[0]!,
    },
    revision: rev,
    client: "node:http with a keep-alive Agent (one socket per request in flight)",
    config,
    postgres: pg ?? null,
    postgresActivity: pgActivity,
    table,
    results: rows,
    compareTable,
    compare: compare ?? null,
    pushTable,
    push: push ?? null,
    skipped,
    problems,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nwrote ${file} (${report.seconds.toFixed(0)} s)\n`);
}

// On Ctrl-C, stop the servers and drop the schema rather than leave them behind.
process.once("SIGINT", () => {
  log("# interrupted; stopping servers");
  const set = active;
  void Promise.resolve(set?.[Symbol.asyncDispose]()).finally(() => process.exit(130));
});

await main();
