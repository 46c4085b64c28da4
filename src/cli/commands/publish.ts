// `runnel publish <stream> [json...]`: appends payloads from the arguments, or JSON lines from --file or stdin, batched by a producer.
import { fstatSync } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { RawJson, UnavailableError, type AppendOptions, type AppendResult } from "../../client/index.js";
import { ConfigError } from "../errors.js";
import { PROGRESS_HELP, PROGRESS_OPTIONS, ProgressLine, progressWanted } from "./progress.js";
import { clientFor, COMMON_HELP, intFlag, onClosedPipe, parseCommand, write } from "./shared.js";

/** The longest timer Node keeps: a longer one would fire after 1 ms. */
const MAX_LINGER_MS = 2 ** 31 - 1;

export const PUBLISH_HELP = `Usage: runnel publish <stream> [json...] [options]

Appends one entry per JSON argument; with no payload arguments, one per line of JSON read from --file or
stdin (blank lines are skipped). Each payload is sent as written, so big numbers keep their digits. While
it runs, a progress line on stderr shows the entries stored, the rate over the last second and the time
taken, with a bar when the total is known (arguments, or a file's size); at the end it prints the count
and rate to stderr. At the first line that is not JSON or that the server refuses (one larger than its
body limit, say), it stops reading, lets the entries already sent finish (lines read just after the
failing one may be among them) and exits 1 with one line naming the failing line and the entries stored.

Options:
  --file PATH            read JSON lines from this file (- for stdin)
  --ids                  print each stored entry's id to stdout, in input order
  --type TYPE            the entries' type
  --key KEY              the entries' partition key
  --linger MS            how long a batch waits for more entries (default 5, at most ${MAX_LINGER_MS})
  --batch N              most entries per request (default 500, at most 10000)
${PROGRESS_HELP}  -q, --quiet            print nothing to stderr but errors (no progress line, no summary)
${COMMON_HELP}`;

/** Publishes not yet answered before reading more input: bounds memory on endless stdin. */
const WINDOW_BATCHES = 4;

/** One payload and where it came from, to name it if it fails: `data.jsonl line 7`, `argument 2`. */
interface Payload {
  payload: RawJson;
  where: string;
}

/** Where the payloads come from, and how far through it we are when that can be told. */
interface Input {
  payloads: AsyncIterable<Payload>;
  /** Entries expected, when known up front. */
  total?: number | undefined;
  /** Share of the input read so far (bytes of a regular file), when its size is known; else done/total. */
  fraction?: (() => number) | undefined;
  /** Whether the input is someone typing at the terminal (a redrawn line would garble their echo). */
  typed: boolean;
}

export async function publish(argv: string[]): Promise<void> {
  // The job is storing; the ids are a by-product: once their reader has gone (`| head -1`), stop printing them
  // and store the rest.
  let printing = true;
  onClosedPipe(() => (printing = false));
  const { values, positionals: given } = parseCommand(argv, {
    ids: { type: "boolean" },
    type: { type: "string" },
    key: { type: "string" },
    linger: { type: "string" },
    batch: { type: "string" },
    file: { type: "string" },
    quiet: { type: "boolean", short: "q" },
    ...PROGRESS_OPTIONS,
  });
  if (values.help) return write(PUBLISH_HELP);
  const [stream, ...args] = given;
  if (stream === undefined) throw new ConfigError("missing <stream>; usage: runnel publish <stream> [json...]");
  if (args.length > 0 && values.file !== undefined) throw new ConfigError("give payload arguments or --file, not both");
  const maxBatch = intFlag(values.batch, "batch", 1, 10_000) ?? 500;
  const lingerMs = intFlag(values.linger, "linger", 0, MAX_LINGER_MS) ?? 5;
  const quiet = values.quiet ?? false;
  const options: AppendOptions = {};
  if (values.type !== undefined) options.type = values.type;
  if (values.key !== undefined) options.key = values.key;
  const client = clientFor(values.url);
  const input = await openInput(args, values.file, quiet);
  // By default the line is drawn only on a terminal nothing else writes to: not while someone types the
  // input there, nor when --ids prints to the same terminal.
  const terminalToItself = process.stderr.isTTY === true && !input.typed && !(values.ids && process.stdout.isTTY);
  const showProgress = progressWanted(values, terminalToItself, quiet);

  const producer = client.producer(stream, { lingerMs, maxBatch });
  const answers = new Answers((id) => {
    if (values.ids && printing) process.stdout.write(`${id}\n`);
  });
  let read = 0;
  // The share of the input read, times the share of what was read that is stored: 100% only once all is stored.
  const { fraction } = input;
  const stored = fraction && (() => (read === 0 ? 0 : fraction() * (answers.stored / read)));
  const progress = showProgress
    ? new ProgressLine(process.stderr, { done: () => answers.stored, total: input.total, fraction: stored })
    : undefined;
  const started = performance.now();
  let unreadable: unknown;
  try {
    const payloads = input.payloads[Symbol.asyncIterator]();
    for (;;) {
      const next = await nextUnlessStopped(payloads, answers.failure);
      if (next === undefined || next.done) break;
      answers.track(next.value.where, producer.publish(next.value.payload, options));
      read++;
      while (answers.waiting >= maxBatch * WINDOW_BATCHES) await answers.oldest();
    }
  } catch (error) {
    unreadable = error; // a line that is not JSON, or input that could not be read: stop there, as for a failed publish
  }
  try {
    // The input is over: the last batch goes now, not after --linger; what is queued is sent and answered.
    await producer.close();
    await answers.all();
  } finally {
    progress?.stop();
  }
  if (answers.failed !== undefined || unreadable !== undefined) throw stoppedError(answers, unreadable);
  if (quiet) return;
  const count = answers.stored;
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(count / seconds) : count;
  process.stderr.write(`published ${count} ${count === 1 ? "entry" : "entries"} to ${stream} in ${seconds.toFixed(2)} s (${rate}/s, ${producer.requests} ${producer.requests === 1 ? "request" : "requests"})\n`);
}

/**
 * The publishes not yet printed, in input order. Each counts as stored the moment its answer comes; ids are
 * printed from the oldest on as far as answers have come, so they keep the input's order however slowly it
 * arrives. A failed publish is skipped there and remembered, and `failure` fires so the reading stops.
 */
class Answers {
  /** Entries stored so far. */
  stored = 0;
  /** The first publish that failed, in input order, once everything before it has its answer. */
  failed: { where: string; error: unknown } | undefined;
  /** Entries stored from input read after `failed`: they were already sent when it failed. */
  storedAfterFailure = 0;
  private readonly stop = new AbortController();
  private readonly queue: { where: string; answer?: { id: string } | { error: unknown }; settled: Promise<void> }[] = [];

  constructor(private readonly print: (id: string) => void) {}

  /** Fires at the first failed publish, wherever it is in the input. */
  get failure(): AbortSignal {
    return this.stop.signal;
  }

  /** Publishes not yet printed: the oldest has no answer yet. */
  get waiting(): number {
    return this.queue.length;
  }

  track(where: string, result: Promise<AppendResult>): void {
    const item: (typeof this.queue)[number] = { where, settled: Promise.resolve() };
    item.settled = result.then(
      ({ id }) => {
        this.stored++;
        item.answer = { id };
        this.printAnswered();
      },
      (error: unknown) => {
        item.answer = { error };
        this.stop.abort();
        this.printAnswered();
      },
    );
    this.queue.push(item);
  }

  /** Resolves once the oldest publish not yet printed has its answer. */
  async oldest(): Promise<void> {
    await this.queue[0]?.settled;
  }

  /** Resolves once every publish tracked so far has its answer. */
  async all(): Promise<void> {
    await Promise.all(this.queue.map((item) => item.settled));
  }

  private printAnswered(): void {
    for (;;) {
      const oldest = this.queue[0];
      if (oldest?.answer === undefined) return;
      this.queue.shift();
      const { where, answer } = oldest;
      if ("error" in answer) this.failed ??= { where, error: answer.error };
      else {
        if (this.failed) this.storedAfterFailure++;
        this.print(answer.id);
      }
    }
  }
}

/** The next payload, or undefined once `stop` fires first: a failed publish ends the reading even while the input is quiet (`tail -f`). */
function nextUnlessStopped<T>(items: AsyncIterator<T>, stop: AbortSignal): Promise<IteratorResult<T> | undefined> {
  if (stop.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const stopped = () => resolve(undefined);
    stop.addEventListener("abort", stopped, { once: true });
    items
      .next()
      .then(resolve, reject)
      .finally(() => stop.removeEventListener("abort", stopped));
  });
}

/**
 * Why the run stopped, as one line: the first publish that failed, named by its line (an unreachable server is
 * about no line in particular), else the input that could not be read; then the entries stored all the same.
 */
function stoppedError(answers: Answers, unreadable: unknown): Error {
  const { failed, stored, storedAfterFailure } = answers;
  const error = failed ? failed.error : unreadable;
  const message = error instanceof Error ? error.message : String(error);
  const named = failed !== undefined && !(error instanceof UnavailableError);
  const what = named ? `${failed.where} was not stored: ${message}` : message;
  const after = named && storedAfterFailure > 0 ? `, ${storedAfterFailure} of them read after it` : "";
  return new Error(`${what} (${stored} ${stored === 1 ? "entry" : "entries"} stored${after})`, { cause: error });
}

/** The payload arguments, else --file, else stdin (also for `--file -`). */
async function openInput(args: string[], file: string | undefined, quiet: boolean): Promise<Input> {
  if (args.length > 0) return argumentsInput(args);
  if (file !== undefined && file !== "-") return fileInput(file);
  return stdinInput(quiet);
}

function argumentsInput(args: string[]): Input {
  const payloads = args.map((text, i) => ({
    payload: parseJson(text, () => new ConfigError(`argument ${i + 1} is not JSON: ${text}`)),
    where: `argument ${i + 1}`,
  }));
  return { payloads: toAsync(payloads), total: payloads.length, typed: false };
}

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** A file the user named: one that cannot be opened is a mistake in the command line (exit 2), found before anything is sent. */
async function fileInput(path: string): Promise<Input> {
  if (path === "") throw new ConfigError("--file needs a value");
  const handle = await open(path, "r").catch((error: unknown) => {
    throw new ConfigError(`cannot read --file ${path}: ${reason(error)}`);
  });
  const stat = await handle.stat();
  if (stat.isDirectory()) {
    await handle.close();
    throw new ConfigError(`cannot read --file ${path}: it is a directory`);
  }
  const stream = handle.createReadStream();
  return { payloads: jsonLines(stream, path), fraction: sizeFraction(stream, stat.isFile() ? stat.size : 0), typed: false };
}

function stdinInput(quiet: boolean): Input {
  const typed = process.stdin.isTTY === true;
  if (typed && !quiet) process.stderr.write("runnel: reading JSON lines from stdin (Ctrl-D to finish)\n");
  // `runnel publish s < data.jsonl`: a redirected file has a size, so the bar can show.
  let size = 0;
  try {
    const stat = fstatSync(0);
    if (stat.isFile()) size = stat.size;
  } catch {
    // no size to tell: the line shows counts only
  }
  return { payloads: jsonLines(process.stdin, "stdin"), fraction: sizeFraction(process.stdin, size), typed };
}

function sizeFraction(input: { bytesRead: number }, size: number): (() => number) | undefined {
  return size > 0 ? () => input.bytesRead / size : undefined;
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

/** The text as a payload sent exactly as written (big numbers keep their digits), once it is known to be JSON. */
function parseJson(text: string, error: () => Error): RawJson {
  try {
    return new RawJson(text.trim());
  } catch {
    throw error();
  }
}

/** One payload per non-blank line, named `<name> line <n>`. */
async function* jsonLines(input: Readable, name: string): AsyncGenerator<Payload> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    const where = `${name} line ${line}`;
    yield { payload: parseJson(text, () => new Error(`${where} is not JSON: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`)), where };
  }
}
