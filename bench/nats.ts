// NATS JetStream under Runnel's workloads, same payloads and counts: publish awaiting each ack, async publish with many
// in flight, and a pull consumer fetching 100 and acking them; one uniquely named stream per run, deleted afterwards.
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { BenchConfig } from "./config.js";
import { payload } from "./scenarios.js";
import { pidsNamed, probeOf, withCpu, type CpuProbe } from "./cpu.js";
import { Recorder, result, runWorkers, type ScenarioResult } from "./stats.js";

export const NATS_SYSTEM = "nats-jetstream";

/** What the results file says about the NATS server it measured. */
export interface NatsServerInfo {
  version: string;
  stream: string;
  storage: "file";
  replicas: 1;
}

export interface NatsRun {
  server: NatsServerInfo;
  rows: ScenarioResult[];
}

type Log = (message: string) => void;

/** The shortest pull wait the client allows: how long a fetch waits for a full batch before answering with what it has. */
const FETCH_EXPIRES_MS = 1000;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function open(url: string): Promise<NatsConnection> {
  // noAsyncTraces: by default the client builds two Error objects per request for their stack traces, which made the
  // load generator, not the server, the bottleneck of every publish scenario (~19k/s instead of ~28k/s here).
  return connect({ servers: url, timeout: 2000, reconnect: false, noAsyncTraces: true });
}

/** Answers why JetStream at `url` cannot be benchmarked, or undefined when the server answers with JetStream enabled. */
export async function natsProblem(url: string): Promise<string | undefined> {
  let nc: NatsConnection | undefined;
  try {
    nc = await open(url);
    const jsm = await jetstreamManager(nc);
    await jsm.getAccountInfo();
    return undefined;
  } catch (error) {
    return messageOf(error);
  } finally {
    await nc?.close().catch(() => undefined);
  }
}

/** One subject of the run's stream; each scenario starts on an empty stream and purges what it wrote. */
interface Ctx {
  config: BenchConfig;
  js: JetStreamClient;
  jsm: JetStreamManager;
  stream: string;
  subjectPrefix: string;
  /** The nats-server processes on this machine (the loopback server is one of them). */
  cpu: CpuProbe;
}

async function checkAndPurge(ctx: Ctx, expected: number, problems: string[]): Promise<void> {
  const info = await ctx.jsm.streams.info(ctx.stream);
  if (info.state.messages !== expected) problems.push(`stream ${ctx.stream} holds ${info.state.messages} messages, expected ${expected}`);
  await ctx.jsm.streams.purge(ctx.stream);
}

/** `concurrency` producers each awaiting the PubAck of one publish before sending the next (Runnel's append-one). */
async function publishOne(ctx: Ctx, count: number): Promise<ScenarioResult> {
  const { config } = ctx;
  const { concurrency } = config.appendOne;
  const subject = `${ctx.subjectPrefix}.append-one`;
  const rec = new Recorder();
  let next = 0;
  let ok = 0;
  const { seconds, timedOut, cpuMicros } = await withCpu(ctx.cpu, () => runWorkers(concurrency, config.compare.maxSeconds, async (w) => {
    if (next >= count) return false;
    const seq = next++;
    const value = JSON.stringify(payload(config.payloadBytes, w, seq));
    const started = performance.now();
    try {
      await ctx.js.publish(subject, value);
      rec.latency(performance.now() - started);
      ok++;
    } catch (error) {
      rec.error(`publish: ${messageOf(error)}`);
    }
    return true;
  }));
  const problems: string[] = [];
  await checkAndPurge(ctx, ok, problems);
  const params = { count, concurrency, payloadBytes: config.payloadBytes };
  return result("append-one", NATS_SYSTEM, subject, rec, ok, seconds, "publish → PubAck", params, timedOut, problems, cpuMicros);
}

/** Publishes `count` messages in windows of `window` async publishes, `concurrency` windows in flight; latency is per window. */
async function publishWindows(
  ctx: Ctx,
  subject: string,
  count: number,
  window: number,
  concurrency: number,
  rec: Recorder,
): Promise<{ ok: number; seconds: number; timedOut: boolean; cpuMicros: number | null }> {
  const { config } = ctx;
  const values = Array.from({ length: concurrency }, (_, w) =>
    Array.from({ length: window }, (_, i) => JSON.stringify(payload(config.payloadBytes, w, i))),
  );
  let remaining = count;
  let ok = 0;
  const run = await withCpu(ctx.cpu, () => runWorkers(concurrency, config.compare.maxSeconds, async (w) => {
    if (remaining <= 0) return false;
    const size = Math.min(window, remaining);
    remaining -= size;
    const started = performance.now();
    const acks = await Promise.allSettled(values[w]!.slice(0, size).map((value) => ctx.js.publish(subject, value)));
    rec.latency(performance.now() - started);
    for (const ack of acks) {
      if (ack.status === "fulfilled") ok++;
      else rec.error(`publish: ${messageOf(ack.reason)}`);
    }
    return true;
  }));
  return { ok, ...run };
}

/** Async publish, `batchSize` in flight per producer and `concurrency` producers (Runnel's append-batch). */
async function publishAsync(ctx: Ctx): Promise<ScenarioResult> {
  const { count, batchSize, concurrency } = ctx.config.appendBatch;
  const subject = `${ctx.subjectPrefix}.append-batch`;
  const rec = new Recorder();
  const { ok, seconds, timedOut, cpuMicros } = await publishWindows(ctx, subject, count, batchSize, concurrency, rec);
  const problems: string[] = [];
  await checkAndPurge(ctx, ok, problems);
  const params = { count, inFlight: batchSize * concurrency, window: batchSize, concurrency };
  return result("append-batch", NATS_SYSTEM, subject, rec, ok, seconds, `${batchSize} async publishes`, params, timedOut, problems, cpuMicros);
}

/**
 * Fills the subject (not timed), then `consumers` workers share one durable pull consumer, each fetching `readCount`
 * and acking them: every message acked, the last one confirmed by the server before the next fetch.
 */
async function fetchAck(ctx: Ctx, prefill: number, name: string): Promise<ScenarioResult> {
  const { config } = ctx;
  const { consumers, readCount } = config.groupRead;
  const subject = `${ctx.subjectPrefix}.${name}`;
  const problems: string[] = [];
  const fill = new Recorder();
  const filled = await publishWindows(ctx, subject, prefill, 1000, 4, fill);
  if (fill.errors > 0) problems.push(`prefill: ${fill.errors} failed publishes, e.g. ${fill.errorSamples[0]}`);
  const durable = `workers-${name}`;
  await ctx.jsm.consumers.add(ctx.stream, {
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: Math.max(1000, 2 * consumers * readCount),
  });
  const handles = await Promise.all(Array.from({ length: consumers }, () => ctx.js.consumers.get(ctx.stream, durable)));

  const rec = new Recorder();
  const fetching = new Set<ConsumerMessages>();
  let received = 0;
  let consumed = 0;
  const run = await withCpu(ctx.cpu, () => runWorkers(consumers, config.compare.maxSeconds, async (w) => {
    // Each non-empty fetch takes at least one message, so a worker never loops more than `prefill` times.
    if (received >= filled.ok) return false;
    const cycleStarted = performance.now();
    try {
      const batch = await handles[w]!.fetch({ max_messages: readCount, expires: FETCH_EXPIRES_MS });
      fetching.add(batch);
      if (received >= filled.ok) batch.stop();
      const msgs: JsMsg[] = [];
      for await (const m of batch) {
        msgs.push(m);
        // The server spreads the last messages over every open fetch, and a fetch short of its batch would wait out
        // its expiry: once every message has arrived somewhere, end the fetches so each acks what it holds.
        if (++received >= filled.ok) for (const other of fetching) other.stop();
      }
      fetching.delete(batch);
      if (msgs.length === 0) return false;
      for (const m of msgs.slice(0, -1)) m.ack();
      if (!(await msgs.at(-1)!.ackAck())) rec.error("ackAck: the server did not confirm the ack");
      rec.latency(performance.now() - cycleStarted);
      consumed += msgs.length;
    } catch (error) {
      rec.error(`fetch+ack: ${messageOf(error)}`);
      return false;
    }
    return true;
  }));
  if (!run.timedOut && consumed !== filled.ok) problems.push(`consumed ${consumed} messages, the subject holds ${filled.ok}`);
  const info = await ctx.jsm.consumers.info(ctx.stream, durable);
  if (!run.timedOut && (info.num_ack_pending !== 0 || info.num_pending !== 0)) {
    problems.push(`consumer left ack_pending=${info.num_ack_pending} pending=${info.num_pending}`);
  }
  await ctx.jsm.consumers.delete(ctx.stream, durable);
  await ctx.jsm.streams.purge(ctx.stream);
  const params = { prefill: filled.ok, consumers, readCount };
  return result("group-read-ack", NATS_SYSTEM, subject, rec, consumed, run.seconds, `fetch+ack (${readCount})`, params, run.timedOut, problems, run.cpuMicros);
}

/** Runs the workloads against JetStream at `config.compare.natsUrl` on a fresh file-backed stream, deleted at the end. */
export async function benchNats(config: BenchConfig, log: Log): Promise<NatsRun> {
  const nc = await open(config.compare.natsUrl);
  const id = randomBytes(4).toString("hex");
  const stream = `RUNNEL_BENCH_${id.toUpperCase()}`;
  const subjectPrefix = `runnel-bench.${id}`;
  let jsm: JetStreamManager | undefined;
  let created = false;
  const rows: ScenarioResult[] = [];
  try {
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`], storage: StorageType.File, num_replicas: 1 });
    created = true;
    const server: NatsServerInfo = { version: nc.info?.version ?? "unknown", stream, storage: "file", replicas: 1 };
    log(`# nats-server ${server.version} at ${config.compare.natsUrl} (JetStream stream ${stream}, file storage, 1 replica)`);
    const ctx: Ctx = { config, js: jetstream(nc), jsm, stream, subjectPrefix, cpu: probeOf(() => pidsNamed("nats-server")) };
    // Warm the client's code paths; these numbers are not kept.
    await publishOne(ctx, config.warmupRequests);
    await fetchAck(ctx, config.warmupRequests, "warmup-group");
    rows.push(await publishOne(ctx, config.appendOne.count));
    rows.push(await publishAsync(ctx));
    rows.push(await fetchAck(ctx, config.groupRead.prefill, "group"));
    return { server, rows };
  } finally {
    if (jsm && created) await jsm.streams.delete(stream).catch((error: unknown) => log(`# nats: could not delete stream ${stream}: ${messageOf(error)}`));
    await nc.close().catch(() => undefined);
  }
}
