// The two phases of `runnel bench`: concurrent batch appends, then a consumer group reading and acking until empty.
import type { RunnelClient } from "../../client/index.js";

/** What `runnel bench` measures with, every value resolved. */
export interface BenchOptions {
  /** Entries to append, then consume. */
  count: number;
  /** About this many bytes of JSON payload per entry. */
  size: number;
  /** Entries per append request, and per group read. */
  batch: number;
  /** Append requests in flight at once. */
  concurrency: number;
  /** Consumers of the group reading at once. */
  consumers: number;
  stream: string;
  /** Keep the stream afterwards instead of deleting it. */
  keep: boolean;
}

export const DEFAULT_BENCH_OPTIONS = Object.freeze({ count: 100_000, size: 200, batch: 100, concurrency: 8, consumers: 8 });

/** The group the consume phase reads as. */
export const BENCH_GROUP = "bench";

export type PhaseName = "append" | "consume";

/** One row of the results. Latencies are per HTTP request of the phase. */
export interface PhaseResult {
  phase: PhaseName;
  entries: number;
  seconds: number;
  msgsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  requests: number;
}

/** Counts a phase's entries and times its requests; `done` is read by the progress line. */
export class Tally {
  done = 0;
  private readonly latencies: number[] = [];

  async time<T>(request: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await request();
    this.latencies.push(performance.now() - started);
    return result;
  }

  result(phase: PhaseName, seconds: number): PhaseResult {
    const sorted = Float64Array.from(this.latencies).sort();
    // Nearest rank, as bench/ reports it.
    const quantile = (q: number) => (sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!, 2));
    return {
      phase,
      entries: this.done,
      seconds: round(seconds, 3),
      msgsPerSec: seconds > 0 ? Math.round(this.done / seconds) : 0,
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      requests: sorted.length,
    };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Appends `count` entries in batches, `concurrency` requests at a time, to a stream that exists and is empty. */
export async function appendPhase(client: RunnelClient, o: BenchOptions, tally: Tally): Promise<PhaseResult> {
  const pad = "x".repeat(Math.max(0, o.size - JSON.stringify({ n: o.count, pad: "" }).length));
  let next = 0;
  const seconds = await loops(o.concurrency, async () => {
    if (next >= o.count) return false;
    const from = next;
    const n = Math.min(o.batch, o.count - from);
    next += n;
    const entries = Array.from({ length: n }, (_, i) => ({ payload: { n: from + i, pad } }));
    await tally.time(() => client.streams.appendBatch(o.stream, entries));
    tally.done += n;
    return true;
  });
  return tally.result("append", seconds);
}

/**
 * Reads the stream from its start as `consumers` consumers of a new group, acking each batch, until every
 * consumer's read comes back empty (all entries were appended before, so empty means all were handed out).
 */
export async function consumePhase(client: RunnelClient, o: BenchOptions, tally: Tally): Promise<PhaseResult> {
  await client.groups.create(o.stream, BENCH_GROUP, { startId: "0" });
  const seconds = await loops(o.consumers, async (worker) => {
    const { entries } = await tally.time(() => client.groups.read(o.stream, BENCH_GROUP, `consumer-${worker}`, { count: o.batch }));
    if (entries.length === 0) return false;
    await tally.time(() => client.groups.ack(o.stream, BENCH_GROUP, entries.map((e) => e.id)));
    tally.done += entries.length;
    return true;
  });
  return tally.result("consume", seconds);
}

/** Runs `n` loops of `step` until each answers false; the first failure stops the others and is thrown. Answers seconds. */
async function loops(n: number, step: (worker: number) => Promise<boolean>): Promise<number> {
  let failed = false;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, worker) => {
      try {
        while (!failed && (await step(worker)));
      } catch (error) {
        failed = true;
        throw error;
      }
    }),
  );
  return (performance.now() - started) / 1000;
}
