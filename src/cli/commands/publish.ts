// `runnel publish <stream> [json...]`: appends payloads from the arguments, or JSON lines from --file or stdin, batched by a producer.
import { fstatSync } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { RawJson, type AppendOptions, type AppendResult } from "../../client/index.js";
import { ConfigError } from "../errors.js";
import { PROGRESS_HELP, PROGRESS_OPTIONS, ProgressLine, progressWanted } from "./progress.js";
import { clientFor, COMMON_HELP, intFlag, parseCommand, write } from "./shared.js";

export const PUBLISH_HELP = `Usage: runnel publish <stream> [json...] [options]

Appends one entry per JSON argument; with no payload arguments, one per line of JSON read from --file or
stdin (blank lines are skipped). Each payload is sent as written, so big numbers keep their digits. While
it runs, a progress line on stderr shows the entries stored, the rate over the last second and the time
taken, with a bar when the total is known (arguments, or a file's size); at the end it prints the count
and rate to stderr.

Options:
  --file PATH            read JSON lines from this file (- for stdin)
  --ids                  print each new entry's id to stdout, in order
  --type TYPE            the entries' type
  --key KEY              the entries' partition key
  --linger MS            how long a batch waits for more entries (default 5)
  --batch N              most entries per request (default 500)
${PROGRESS_HELP}  -q, --quiet            print nothing to stderr but errors (no progress line, no summary)
${COMMON_HELP}`;

/** Publishes not yet answered before reading more input: bounds memory on endless stdin. */
const WINDOW_BATCHES = 4;

/** Where the payloads come from, and how far through it we are when that can be told. */
interface Input {
  payloads: AsyncIterable<RawJson>;
  /** Entries expected, when known up front. */
  total?: number | undefined;
  /** Share of the input read so far (bytes of a regular file), when its size is known; else done/total. */
  fraction?: (() => number) | undefined;
  /** Whether the input is someone typing at the terminal (a redrawn line would garble their echo). */
  typed: boolean;
}

export async function publish(argv: string[]): Promise<void> {
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
  const maxBatch = intFlag(values.batch, "batch", 1) ?? 500;
  if (maxBatch > 10_000) throw new ConfigError(`--batch must be at most 10000, got ${maxBatch}`);
  const lingerMs = intFlag(values.linger, "linger", 0) ?? 5;
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
  const inFlight: Promise<AppendResult>[] = [];
  let read = 0;
  let count = 0;
  const settleOldest = async () => {
    const { id } = await inFlight.shift()!;
    count++;
    if (values.ids) process.stdout.write(`${id}\n`);
  };
  // The share of the input read, times the share of what was read that is stored: 100% only once all is stored.
  const { fraction } = input;
  const stored = fraction && (() => (read === 0 ? 0 : fraction() * (count / read)));
  const progress = showProgress
    ? new ProgressLine(process.stderr, { done: () => count, total: input.total, fraction: stored })
    : undefined;
  const started = performance.now();
  try {
    for await (const payload of input.payloads) {
      const p = producer.publish(payload, options);
      p.catch(() => undefined); // awaited in order below; this keeps a failure from going unhandled meanwhile
      inFlight.push(p);
      read++;
      if (inFlight.length >= maxBatch * WINDOW_BATCHES) await settleOldest();
    }
    while (inFlight.length > 0) await settleOldest();
  } finally {
    await producer.close();
    progress?.stop();
  }
  if (quiet) return;
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(count / seconds) : count;
  process.stderr.write(`published ${count} ${count === 1 ? "entry" : "entries"} to ${stream} in ${seconds.toFixed(2)} s (${rate}/s, ${producer.requests} ${producer.requests === 1 ? "request" : "requests"})\n`);
}

/** The payload arguments, else --file, else stdin (also for `--file -`). */
async function openInput(args: string[], file: string | undefined, quiet: boolean): Promise<Input> {
  if (args.length > 0) return argumentsInput(args);
  if (file !== undefined && file !== "-") return fileInput(file);
  return stdinInput(quiet);
}

function argumentsInput(args: string[]): Input {
  const payloads = args.map((text, i) => parseJson(text, () => new ConfigError(`argument ${i + 1} is not JSON: ${text}`)));
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

/** One payload per non-blank line; `name` says where a line that is not JSON came from. */
async function* jsonLines(input: Readable, name: string): AsyncGenerator<RawJson> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    yield parseJson(text, () => new Error(`${name} line ${line} is not JSON: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`));
  }
}
