// `runnel bench`: a load generator against a running server: appends to a fresh stream, reads it back as a group, reports rates and latencies.
import { randomBytes } from "node:crypto";
import { ConflictError } from "../../client/index.js";
import { ConfigError } from "../errors.js";
import { appendPhase, BENCH_GROUP, consumePhase, DEFAULT_BENCH_OPTIONS, Tally, type BenchOptions, type PhaseResult } from "./bench-run.js";
import { PROGRESS_HELP, PROGRESS_OPTIONS, ProgressLine, progressWanted } from "./progress.js";
import { clientFor, COMMON_HELP, intFlag, json, parseCommand, positionals, table, write } from "./shared.js";

const D = DEFAULT_BENCH_OPTIONS;

export const BENCH_HELP = `Usage: runnel bench [options]

Measures a running server. Appends --count entries of about --size bytes of JSON to a fresh stream, in
batches of --batch with --concurrency requests in flight; then reads them back as --consumers consumers of
a group (reads of --batch entries, each acknowledged) until none are left. Prints, per phase, the entries,
seconds, entries per second and the p50 and p99 latency of the phase's requests (append: one POST of a
batch; consume: each read and each ack). Deletes the stream at the end unless --keep is given.

Options:
  --count N              entries to append and consume (default ${D.count})
  --size BYTES           JSON payload per entry, about (default ${D.size})
  --batch N              entries per append request and per read (default ${D.batch}, at most 10000)
  --concurrency N        append requests in flight (default ${D.concurrency})
  --consumers N          consumers reading the group at once (default ${D.consumers})
  --stream NAME          the stream; must not exist yet (default bench-<random>)
  --keep                 keep the stream and its group afterwards
  --json                 print the results as JSON instead of a table
${PROGRESS_HELP}${COMMON_HELP}`;

type BenchFlags = Partial<Record<"count" | "size" | "batch" | "concurrency" | "consumers" | "stream", string>> & { keep?: boolean | undefined };

/** The flags, checked, with defaults filled in and a fresh stream name when none is given. */
export function resolveBenchOptions(flags: BenchFlags): BenchOptions {
  const batch = intFlag(flags.batch, "batch", 1) ?? D.batch;
  if (batch > 10_000) throw new ConfigError(`--batch must be at most 10000, got ${batch}`);
  if (flags.stream === "") throw new ConfigError("--stream needs a value");
  return {
    count: intFlag(flags.count, "count", 1) ?? D.count,
    size: intFlag(flags.size, "size", 1) ?? D.size,
    batch,
    concurrency: intFlag(flags.concurrency, "concurrency", 1) ?? D.concurrency,
    consumers: intFlag(flags.consumers, "consumers", 1) ?? D.consumers,
    stream: flags.stream ?? `bench-${randomBytes(4).toString("hex")}`,
    keep: flags.keep ?? false,
  };
}

export async function bench(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, {
    count: { type: "string" },
    size: { type: "string" },
    batch: { type: "string" },
    concurrency: { type: "string" },
    consumers: { type: "string" },
    stream: { type: "string" },
    keep: { type: "boolean" },
    json: { type: "boolean" },
    ...PROGRESS_OPTIONS,
  });
  if (values.help) return write(BENCH_HELP);
  positionals(given, [], "runnel bench [options]");
  const o = resolveBenchOptions(values);
  const showProgress = progressWanted(values, process.stderr.isTTY === true);
  const client = clientFor(values.url);
  // A Ctrl-C from here on stops the run and deletes the stream (unless --keep) before exiting.
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once("SIGINT", interrupt);

  await client.streams.create(o.stream).catch((error: unknown) => {
    if (error instanceof ConflictError) throw new Error(`stream '${o.stream}' exists already; bench needs a fresh one (another --stream, or none)`);
    throw error;
  });
  const running = new Set<Promise<unknown>>();
  const phase = async (unit: string, run: (tally: Tally) => Promise<PhaseResult>) => {
    const tally = new StoppableTally(stop.signal, running);
    const line = showProgress ? new ProgressLine(process.stderr, { done: () => tally.done, total: o.count }, unit) : undefined;
    try {
      return await run(tally);
    } finally {
      line?.stop();
    }
  };
  let phases: PhaseResult[];
  try {
    phases = [await phase("appended", (t) => appendPhase(client, o, t)), await phase("consumed", (t) => consumePhase(client, o, t))];
  } catch (error) {
    // The run failed or was interrupted: remove what it made, if the server still answers. The requests still
    // under way end first, as an append landing after the delete would create the stream again.
    await Promise.allSettled(running);
    if (!o.keep) await client.streams.delete(o.stream).catch(() => undefined);
    if (!stop.signal.aborted) throw error;
    process.stderr.write(o.keep ? `runnel: interrupted; kept stream ${o.stream}\n` : `runnel: interrupted; deleted stream ${o.stream}\n`);
    // End as a Ctrl-C does (exit 130), so a calling script stops too.
    process.kill(process.pid, "SIGINT");
    return;
  }
  // From here a Ctrl-C stops at once: the run is measured, only the delete and the report are left.
  process.removeListener("SIGINT", interrupt);
  if (!o.keep) await client.streams.delete(o.stream);

  const { stream, count, size, batch, concurrency, consumers } = o;
  if (values.json) json({ stream, count, size, batch, concurrency, consumers, deleted: !o.keep, phases });
  else {
    write(`${count} entries of about ${size} bytes to ${stream}: batches of ${batch}, ${concurrency} appends in flight, ${consumers} consumers\n\n`);
    write(
      table(
        ["PHASE", "ENTRIES", "SECONDS", "MSGS/S", "P50 MS", "P99 MS", "REQUESTS"],
        phases.map((p) => [p.phase, p.entries, p.seconds.toFixed(2), p.msgsPerSec, ms(p.p50Ms), ms(p.p99Ms), p.requests]),
      ),
    );
    write(o.keep ? `\nkept stream ${stream} (group ${BENCH_GROUP})\n` : `\ndeleted stream ${stream}\n`);
  }
  const short = phases.find((p) => p.entries !== count);
  if (short) throw new Error(`the ${short.phase} phase handled ${short.entries} of ${count} entries`);
}

/** A Tally that starts no request once the run is interrupted, and keeps those under way in `running` until they end. */
class StoppableTally extends Tally {
  constructor(
    private readonly stop: AbortSignal,
    private readonly running: Set<Promise<unknown>>,
  ) {
    super();
  }

  override time<T>(request: () => Promise<T>): Promise<T> {
    if (this.stop.aborted) return Promise.reject(new Error("interrupted"));
    const timed = super.time(request);
    this.running.add(timed);
    const done = () => this.running.delete(timed);
    timed.then(done, done);
    return timed;
  }
}

function ms(value: number | null): string {
  return value === null ? "-" : value.toFixed(2);
}
