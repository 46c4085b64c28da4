// Redis Streams commands under Runnel's three workloads, same payloads and counts: XADD one at a time, pipelined XADD,
// XREADGROUP + XACK; against Redis itself or any RESP endpoint (Runnel's own, with --resp-port).
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { BenchConfig } from "./config.js";
import { probeOf, withCpu, type CpuProbe } from "./cpu.js";
import { payload } from "./scenarios.js";
import { Recorder, result, runWorkers, type ScenarioResult } from "./stats.js";

export const REDIS_SYSTEM = "redis";

/**
 * What the results file says about the Redis it measured: its version and whether XADD reaches the disk. For a
 * Runnel node, `runnelVersion` is set and the Redis settings do not apply ("n/a").
 */
export interface RedisServerInfo {
  version: string;
  runnelVersion: string | null;
  appendonly: string;
  appendfsync: string;
  save: string;
  /** The server's process id, from INFO (Redis has it; Runnel does not say). */
  pid: number | null;
}

export interface RedisRun {
  server: RedisServerInfo;
  rows: ScenarioResult[];
}

type Log = (message: string) => void;

function open(url: string): Redis {
  // No reconnects and no retries: a lost connection fails the request, and the bench counts it as an error.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  return redis;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Answers why Redis at `url` cannot be benchmarked, or undefined when it answers and has Streams (5.0+). */
export async function redisProblem(url: string): Promise<string | undefined> {
  const redis = open(url);
  // Without retries ioredis rejects with "Connection is closed."; the socket's own error says why.
  let cause: string | undefined;
  redis.on("error", (error: Error) => (cause ??= error.message));
  try {
    await redis.connect();
    const version = (await serverInfo(redis)).version;
    return Number(version.split(".")[0]) >= 5 ? undefined : `Redis ${version} has no Streams (5.0+ needed)`;
  } catch (error) {
    return cause ?? messageOf(error);
  } finally {
    redis.disconnect();
  }
}

async function serverInfo(redis: Redis): Promise<RedisServerInfo> {
  const info = await redis.info("server");
  const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
  const runnelVersion = /runnel_version:([^\r\n]+)/.exec(info)?.[1] ?? null;
  const pid = /process_id:(\d+)/.exec(info)?.[1];
  const setting = async (name: string): Promise<string> => {
    if (runnelVersion !== null) return "n/a";
    try {
      const pair = (await redis.config("GET", name)) as string[];
      return pair[1] ?? "?";
    } catch {
      return "? (CONFIG GET refused)";
    }
  };
  return {
    version,
    runnelVersion,
    appendonly: await setting("appendonly"),
    appendfsync: await setting("appendfsync"),
    save: await setting("save"),
    pid: pid === undefined ? null : Number(pid),
  };
}

async function pool(url: string, size: number): Promise<Redis[]> {
  const conns = Array.from({ length: size }, () => open(url));
  try {
    await Promise.all(conns.map((c) => c.connect()));
  } catch (error) {
    for (const c of conns) c.disconnect();
    throw error;
  }
  return conns;
}

/** Appends `count` entries in pipelines of `batchSize` XADDs, `concurrency` pipelines in flight, one connection each. */
async function appendPipelined(
  conns: Redis[],
  key: string,
  config: BenchConfig,
  count: number,
  batchSize: number,
  concurrency: number,
  rec: Recorder,
  cpu?: CpuProbe,
): Promise<{ ok: number; seconds: number; timedOut: boolean; cpuMicros: number | null }> {
  // Values are built once and resent, as Runnel's batch bodies are.
  const values = Array.from({ length: concurrency }, (_, w) =>
    Array.from({ length: batchSize }, (_, i) => JSON.stringify(payload(config.payloadBytes, w, i))),
  );
  let remaining = count;
  let ok = 0;
  const run = await withCpu(cpu, () => runWorkers(concurrency, config.compare.maxSeconds, async (w) => {
    if (remaining <= 0) return false;
    const size = Math.min(batchSize, remaining);
    remaining -= size;
    const pipeline = conns[w % conns.length]!.pipeline();
    for (const value of values[w]!.slice(0, size)) pipeline.xadd(key, "*", "payload", value);
    const started = performance.now();
    try {
      const replies = (await pipeline.exec()) ?? [];
      rec.latency(performance.now() - started);
      for (const [error] of replies) {
        if (error) rec.error(`XADD: ${error.message}`);
        else ok++;
      }
    } catch (error) {
      rec.error(`pipeline: ${messageOf(error)}`);
    }
    return true;
  }));
  return { ok, ...run };
}

async function expectLength(redis: Redis, key: string, expected: number, problems: string[]): Promise<void> {
  const length = await redis.xlen(key);
  if (length !== expected) problems.push(`stream ${key} holds ${length} entries, expected ${expected}`);
}

/** `concurrency` producers, one connection each, each awaiting its XADD before sending the next. */
async function appendOne(conns: Redis[], key: string, config: BenchConfig, count: number, system: string, cpu?: CpuProbe): Promise<ScenarioResult> {
  const { concurrency } = config.appendOne;
  const rec = new Recorder();
  let next = 0;
  let ok = 0;
  const { seconds, timedOut, cpuMicros } = await withCpu(cpu, () => runWorkers(concurrency, config.compare.maxSeconds, async (w) => {
    if (next >= count) return false;
    const seq = next++;
    const value = JSON.stringify(payload(config.payloadBytes, w, seq));
    const started = performance.now();
    try {
      await conns[w % conns.length]!.xadd(key, "*", "payload", value);
      rec.latency(performance.now() - started);
      ok++;
    } catch (error) {
      rec.error(`XADD: ${messageOf(error)}`);
    }
    return true;
  }));
  const problems: string[] = [];
  await expectLength(conns[0]!, key, ok, problems);
  const params = { count, concurrency, connections: Math.min(conns.length, concurrency), payloadBytes: config.payloadBytes };
  return result("append-one", system, key, rec, ok, seconds, "XADD", params, timedOut, problems, cpuMicros);
}

async function appendBatch(conns: Redis[], key: string, config: BenchConfig, system: string, cpu?: CpuProbe): Promise<ScenarioResult> {
  const { count, batchSize, concurrency } = config.appendBatch;
  const rec = new Recorder();
  const { ok, seconds, timedOut, cpuMicros } = await appendPipelined(conns, key, config, count, batchSize, concurrency, rec, cpu);
  const problems: string[] = [];
  await expectLength(conns[0]!, key, ok, problems);
  const params = { count, batchSize, concurrency };
  return result("append-batch", system, key, rec, ok, seconds, `pipeline of ${batchSize} XADD`, params, timedOut, problems, cpuMicros);
}

type ReadGroupReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

/** Fills the stream (not timed), then `consumers` consumers of one group XREADGROUP `readCount` and XACK them until a read is empty. */
async function groupReadAck(
  conns: Redis[],
  key: string,
  config: BenchConfig,
  prefill: number,
  system: string,
  cpu?: CpuProbe,
): Promise<ScenarioResult> {
  const { consumers, readCount } = config.groupRead;
  const group = "workers";
  const problems: string[] = [];
  const fill = new Recorder();
  const filled = await appendPipelined(conns, key, config, prefill, 1000, 4, fill);
  if (fill.errors > 0) problems.push(`prefill: ${fill.errors} failed XADDs, e.g. ${fill.errorSamples[0]}`);
  await conns[0]!.xgroup("CREATE", key, group, "0");

  const rec = new Recorder();
  let consumed = 0;
  const { seconds, timedOut, cpuMicros } = await withCpu(cpu, () => runWorkers(consumers, config.compare.maxSeconds, async (w) => {
    // Each non-empty read takes at least one entry, so a consumer never loops more than `prefill` times.
    const conn = conns[w % conns.length]!;
    const started = performance.now();
    try {
      const reply = (await conn.xreadgroup("GROUP", group, `c${w}`, "COUNT", readCount, "STREAMS", key, ">")) as ReadGroupReply;
      const ids = (reply?.[0]?.[1] ?? []).map(([id]) => id);
      if (ids.length === 0) return false;
      const acked = await conn.xack(key, group, ...ids);
      rec.latency(performance.now() - started);
      if (acked !== ids.length) rec.error(`XACK: acked ${acked} of ${ids.length}`);
      consumed += acked;
    } catch (error) {
      rec.error(`XREADGROUP+XACK: ${messageOf(error)}`);
      return false;
    }
    return true;
  }));
  if (!timedOut && consumed !== filled.ok) problems.push(`consumed ${consumed} entries, the stream holds ${filled.ok}`);
  const pending = (await conns[0]!.xpending(key, group)) as [number, ...unknown[]];
  if (!timedOut && pending[0] !== 0) problems.push(`group left ${pending[0]} entries pending`);
  const params = { prefill: filled.ok, consumers, readCount };
  return result("group-read-ack", system, key, rec, consumed, seconds, `XREADGROUP+XACK (${readCount})`, params, timedOut, problems, cpuMicros);
}

/**
 * Runs the three workloads against the RESP endpoint at `url`, each on its own key, deleting every key it made;
 * the rows are labelled `system`. `pid`: the server's process, when INFO does not tell it (a Runnel node).
 */
export async function benchResp(url: string, system: string, config: BenchConfig, log: Log, pid?: number): Promise<RedisRun> {
  const width = Math.max(config.appendOne.concurrency, config.appendBatch.concurrency, config.groupRead.consumers, 4);
  const conns = await pool(url, width);
  const prefix = `runnel-bench:${randomBytes(4).toString("hex")}`;
  const keys: string[] = [];
  const key = (name: string): string => {
    keys.push(`${prefix}:${name}`);
    return keys.at(-1)!;
  };
  const rows: ScenarioResult[] = [];
  try {
    const server = await serverInfo(conns[0]!);
    log(
      server.runnelVersion === null
        ? `# ${system} ${server.version} at ${url} (appendonly ${server.appendonly}, appendfsync ${server.appendfsync}, save '${server.save}')`
        : `# ${system}: runnel ${server.runnelVersion} at ${url}`,
    );
    const serverPid = pid ?? server.pid;
    const cpu = serverPid === null ? undefined : probeOf(() => [serverPid]);
    // Warm the client's code paths on throwaway keys; these numbers are not kept.
    await appendOne(conns, key("warmup-one"), config, config.warmupRequests, system);
    await groupReadAck(conns, key("warmup-group"), config, config.warmupRequests, system);
    rows.push(await appendOne(conns, key("append-one"), config, config.appendOne.count, system, cpu));
    rows.push(await appendBatch(conns, key("append-batch"), config, system, cpu));
    rows.push(await groupReadAck(conns, key("group"), config, config.groupRead.prefill, system, cpu));
    return { server, rows };
  } finally {
    await conns[0]!.del(...keys).catch((error: unknown) => log(`# ${system}: could not delete ${keys.join(", ")}: ${messageOf(error)}`));
    for (const c of conns) c.disconnect();
  }
}

/** Runs the three workloads against Redis at `config.compare.redisUrl`. */
export function benchRedis(config: BenchConfig, log: Log): Promise<RedisRun> {
  return benchResp(config.compare.redisUrl, REDIS_SYSTEM, config, log);
}
