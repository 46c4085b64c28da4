// The three measured workloads: single appends, batched appends, and a consumer group reading and acking.
import { randomBytes } from "node:crypto";
import type { BenchClient } from "./http-client.js";
import type { BenchConfig } from "./config.js";
import { withCpu, type CpuProbe } from "./cpu.js";
import { Recorder, result, runWorkers, type ScenarioResult } from "./stats.js";

/** The nodes of one backend, one client each; worker `i` talks to node `i % clients.length`. */
export interface Target {
  backend: string;
  clients: BenchClient[];
  /** The CPU time of the processes serving the target, when it can be read. */
  cpu?: CpuProbe;
}

function uniqueStream(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A JSON object of about `bytes` bytes that looks like an application event. */
export function payload(bytes: number, producer: number, seq: number): Record<string, unknown> {
  const base = { type: "order.created", producer, seq, at: 1_700_000_000_000 + seq, customer: `c-${(seq * 7919) % 100_000}`, pad: "" };
  const pad = Math.max(0, bytes - JSON.stringify(base).length);
  return { ...base, pad: "x".repeat(pad) };
}

function describeFailure(what: string, reply: { status: number; text: string } | Error): string {
  return reply instanceof Error ? `${what}: ${reply.message}` : `${what}: HTTP ${reply.status} ${reply.text}`;
}

async function expectLength(target: Target, stream: string, expected: number, problems: string[]): Promise<void> {
  const reply = await target.clients[0]!.get(`/stream/${stream}/len`);
  const length = reply.status === 200 ? (JSON.parse(reply.text) as { length: number }).length : undefined;
  if (length !== expected) problems.push(`stream ${stream} holds ${length ?? `? (HTTP ${reply.status})`} entries, expected ${expected}`);
}

/** Scenario 1: `concurrency` producers each POST /stream/:s/add one entry at a time until `count` are sent. */
export async function appendOne(target: Target, config: BenchConfig, count = config.appendOne.count): Promise<ScenarioResult> {
  const { concurrency } = config.appendOne;
  const stream = uniqueStream("append-one");
  const rec = new Recorder();
  let next = 0;
  let ok = 0;
  const { seconds, timedOut, cpuMicros } = await withCpu(target.cpu, () => runWorkers(concurrency, config.maxSeconds, async (w) => {
    if (next >= count) return false;
    const seq = next++;
    const body = JSON.stringify(payload(config.payloadBytes, w, seq));
    const client = target.clients[w % target.clients.length]!;
    try {
      const reply = await client.post(`/stream/${stream}/add`, body);
      rec.latency(reply.ms);
      if (reply.status === 201) ok++;
      else rec.error(describeFailure("add", reply));
    } catch (error) {
      rec.error(describeFailure("add", error as Error));
    }
    return true;
  }));
  const problems: string[] = [];
  await expectLength(target, stream, ok, problems);
  const params = { count, concurrency, payloadBytes: config.payloadBytes };
  return result("append-one", target.backend, stream, rec, ok, seconds, "POST /add", params, timedOut, problems, cpuMicros);
}

function batchBody(config: BenchConfig, producer: number, size: number): string {
  return JSON.stringify({ entries: Array.from({ length: size }, (_, i) => ({ payload: payload(config.payloadBytes, producer, i) })) });
}

/** Appends `count` entries to `stream` in batches of `batchSize`, `concurrency` requests in flight. */
async function appendBatches(
  target: Target,
  config: BenchConfig,
  stream: string,
  count: number,
  batchSize: number,
  concurrency: number,
  rec: Recorder,
): Promise<{ ok: number; seconds: number; timedOut: boolean; cpuMicros: number | null }> {
  // Bodies are built once and resent: the load generator's CPU is better spent sending than stringifying.
  const full = Array.from({ length: concurrency }, (_, w) => batchBody(config, w, batchSize));
  let remaining = count;
  let ok = 0;
  const run = await withCpu(target.cpu, () => runWorkers(concurrency, config.maxSeconds, async (w) => {
    if (remaining <= 0) return false;
    const size = Math.min(batchSize, remaining);
    remaining -= size;
    const body = size === batchSize ? full[w]! : batchBody(config, w, size);
    const client = target.clients[w % target.clients.length]!;
    try {
      const reply = await client.post(`/stream/${stream}/entries`, body);
      rec.latency(reply.ms);
      if (reply.status === 201) ok += size;
      else rec.error(describeFailure("entries", reply));
    } catch (error) {
      rec.error(describeFailure("entries", error as Error));
    }
    return true;
  }));
  return { ok, ...run };
}

/** Scenario 2: POST /stream/:s/entries with `batchSize` entries per request until `count` are appended. */
export async function appendBatch(target: Target, config: BenchConfig): Promise<ScenarioResult> {
  const { count, batchSize, concurrency } = config.appendBatch;
  const stream = uniqueStream("append-batch");
  const rec = new Recorder();
  const { ok, seconds, timedOut, cpuMicros } = await appendBatches(target, config, stream, count, batchSize, concurrency, rec);
  const problems: string[] = [];
  await expectLength(target, stream, ok, problems);
  const params = { count, batchSize, concurrency };
  return result("append-batch", target.backend, stream, rec, ok, seconds, `POST /entries (${batchSize})`, params, timedOut, problems, cpuMicros);
}

interface Delivery {
  id: string;
}

/**
 * Scenario 3: fills a stream (not timed), then `consumers` consumers of one group each read `readCount` entries and
 * ack them, until a read comes back empty.
 */
export async function groupReadAck(target: Target, config: BenchConfig, prefill = config.groupRead.prefill): Promise<ScenarioResult> {
  const { consumers, readCount } = config.groupRead;
  const stream = uniqueStream("group");
  const group = "workers";
  const problems: string[] = [];
  const fill = new Recorder();
  const filled = await appendBatches(target, config, stream, prefill, 1000, 4, fill);
  if (fill.errors > 0) problems.push(`prefill: ${fill.errors} failed requests, e.g. ${fill.errorSamples[0]}`);
  const created = await target.clients[0]!.post(`/stream/${stream}/group/${group}`, JSON.stringify({ startId: "0" }));
  if (created.status !== 201) throw new Error(describeFailure("create group", created));

  const rec = new Recorder();
  let consumed = 0;
  const done = new Set<number>();
  const { seconds, timedOut, cpuMicros } = await withCpu(target.cpu, () => runWorkers(consumers, config.maxSeconds, async (w) => {
    // Each non-empty read takes at least one entry, so a consumer never loops more than `prefill` times.
    if (done.has(w)) return false;
    const client = target.clients[w % target.clients.length]!;
    const started = performance.now();
    try {
      const read = await client.get(`/stream/${stream}/group/${group}/consumer/c${w}?count=${readCount}`);
      if (read.status !== 200) {
        rec.error(describeFailure("read", read));
        done.add(w);
        return false;
      }
      const ids = (JSON.parse(read.text) as { entries: Delivery[] }).entries.map((e) => e.id);
      if (ids.length === 0) {
        done.add(w);
        return false;
      }
      const ack = await client.post(`/stream/${stream}/group/${group}/ack`, JSON.stringify({ ids }));
      rec.latency(performance.now() - started);
      if (ack.status !== 200) {
        rec.error(describeFailure("ack", ack));
        return true;
      }
      const acked = (JSON.parse(ack.text) as { acked: number }).acked;
      if (acked !== ids.length) rec.error(`ack: acked ${acked} of ${ids.length}`);
      consumed += acked;
    } catch (error) {
      rec.error(describeFailure("read+ack", error as Error));
      done.add(w);
      return false;
    }
    return true;
  }));
  if (!timedOut && consumed !== filled.ok) problems.push(`consumed ${consumed} entries, the stream holds ${filled.ok}`);
  const info = await target.clients[0]!.get(`/stream/${stream}/group/${group}`);
  if (info.status === 200) {
    const g = JSON.parse(info.text) as { pending: number; lag: number | null };
    if (!timedOut && (g.pending !== 0 || (g.lag ?? 0) !== 0)) problems.push(`group left pending=${g.pending} lag=${g.lag}`);
  }
  const params = { prefill: filled.ok, consumers, readCount };
  return result("group-read-ack", target.backend, stream, rec, consumed, seconds, `read+ack (${readCount})`, params, timedOut, problems, cpuMicros);
}
