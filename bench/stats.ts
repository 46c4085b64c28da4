// Measurements: request latencies with percentiles, error tallies, and the result row each scenario produces.

/** Collects request latencies (ms) and failures while a scenario runs. */
export class Recorder {
  private latencies: number[] = [];
  errors = 0;
  readonly errorSamples: string[] = [];

  latency(ms: number): void {
    this.latencies.push(ms);
  }

  error(what: string): void {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(what.slice(0, 500));
  }

  /** The q-th quantile (0..1) by nearest rank, or null with no samples. */
  percentiles(...qs: number[]): (number | null)[] {
    const sorted = Float64Array.from(this.latencies).sort();
    return qs.map((q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!));
  }

  get samples(): number {
    return this.latencies.length;
  }
}

/**
 * Runs `workers` loops until each one's `step` answers false or `maxSeconds` pass; answers the elapsed seconds and
 * whether the cap cut the run short. (bench/scenarios.ts keeps its own copy; the comparison systems use this one.)
 */
export async function runWorkers(
  workers: number,
  maxSeconds: number,
  step: (worker: number) => Promise<boolean>,
): Promise<{ seconds: number; timedOut: boolean }> {
  const deadline = performance.now() + maxSeconds * 1000;
  let timedOut = false;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (await step(w)) {
        if (performance.now() > deadline) {
          timedOut = true;
          return;
        }
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, timedOut };
}

export type ScenarioName = "append-one" | "append-batch" | "group-read-ack";

export interface ScenarioResult {
  scenario: ScenarioName;
  backend: string;
  /** The stream the scenario used (a fresh name each time). */
  stream: string;
  /** Entries appended or consumed in the measured window. */
  messages: number;
  seconds: number;
  msgsPerSec: number;
  /** Which request the percentiles time, e.g. "POST /add" or "read+ack cycle". */
  latencyOf: string;
  p50Ms: number | null;
  p99Ms: number | null;
  requests: number;
  errors: number;
  errorSamples: string[];
  /** The scenario's parameters, so a results file explains itself. */
  params: Record<string, number>;
  /** True when the phase hit the time cap before its count; the rate covers what it finished. */
  capped: boolean;
  /** Set when the numbers are not trustworthy: failed requests, counts that do not add up. */
  problems: string[];
  /**
   * CPU time (µs, every thread) the server's processes spent per message in the measured phase; null when it could
   * not be read. PostgreSQL rows count the database's processes too.
   */
  serverCpuMicrosPerMsg: number | null;
}

export function result(
  scenario: ScenarioName,
  backend: string,
  stream: string,
  rec: Recorder,
  messages: number,
  seconds: number,
  latencyOf: string,
  params: Record<string, number>,
  capped: boolean,
  problems: string[],
  cpuMicros: number | null = null,
): ScenarioResult {
  const [p50, p99] = rec.percentiles(0.5, 0.99);
  return {
    scenario,
    backend,
    stream,
    messages,
    seconds: round(seconds, 3),
    msgsPerSec: seconds > 0 ? Math.round(messages / seconds) : 0,
    latencyOf,
    p50Ms: p50 === null || p50 === undefined ? null : round(p50, 2),
    p99Ms: p99 === null || p99 === undefined ? null : round(p99, 2),
    requests: rec.samples,
    errors: rec.errors,
    errorSamples: rec.errorSamples,
    params,
    capped,
    problems,
    serverCpuMicrosPerMsg: cpuMicros === null || messages === 0 ? null : round(cpuMicros / messages, 2),
  };
}

/** A row's server CPU per message for a table cell. */
export function cpuCell(row: { serverCpuMicrosPerMsg: number | null }): string {
  return row.serverCpuMicrosPerMsg === null ? "-" : row.serverCpuMicrosPerMsg.toFixed(1);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The results as an aligned plain-text table, one row per scenario and backend. */
export function formatTable(rows: readonly ScenarioResult[]): string {
  const header = ["scenario", "backend", "msgs/s", "p50 ms", "p99 ms", "cpu µs/msg", "latency of", "msgs", "errors"];
  const body = rows.map((r) => [
    r.scenario,
    r.backend,
    r.msgsPerSec.toLocaleString("en-US"),
    r.p50Ms === null ? "-" : r.p50Ms.toFixed(1),
    r.p99Ms === null ? "-" : r.p99Ms.toFixed(1),
    cpuCell(r),
    r.latencyOf,
    r.messages.toLocaleString("en-US") + (r.capped ? "*" : ""),
    String(r.errors) + (r.problems.length > 0 ? " !" : ""),
  ]);
  const numeric = new Set([2, 3, 4, 5, 7, 8]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  const lines = [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
  lines.push("cpu µs/msg: CPU time the server's processes (every thread; with PostgreSQL, the database's too) spent per message");
  if (rows.some((r) => r.capped)) lines.push("* hit the time cap (BENCH_MAX_SECONDS) before its count; the rate covers the entries it finished");
  if (rows.some((r) => r.problems.length > 0)) lines.push("! see the problems listed below");
  return lines.join("\n");
}
