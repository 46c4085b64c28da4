// `runnel publish <stream> [json...]`: appends payloads from the arguments or JSON lines from stdin, batched by a producer.
import { createInterface } from "node:readline";
import type { AppendOptions, AppendResult } from "../../client/index.js";
import { ConfigError } from "../config.js";
import { clientFor, COMMON_HELP, intFlag, parseCommand, write } from "./shared.js";

export const PUBLISH_HELP = `Usage: runnel publish <stream> [json...] [options]

Appends one entry per JSON argument; with no payload arguments, one per line of JSON read from stdin
(blank lines are skipped). Prints the count and rate to stderr.

Options:
  --ids                  print each new entry's id to stdout, in order
  --type TYPE            the entries' type
  --key KEY              the entries' partition key
  --linger MS            how long a batch waits for more entries (default 5)
  --batch N              most entries per request (default 500)
${COMMON_HELP}`;

/** Publishes not yet answered before reading more input: bounds memory on endless stdin. */
const WINDOW_BATCHES = 4;

export async function publish(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, {
    ids: { type: "boolean" },
    type: { type: "string" },
    key: { type: "string" },
    linger: { type: "string" },
    batch: { type: "string" },
  });
  if (values.help) return write(PUBLISH_HELP);
  const [stream, ...args] = given;
  if (stream === undefined) throw new ConfigError("missing <stream>; usage: runnel publish <stream> [json...]");
  const payloads = args.map((text, i) => parseJson(text, () => new ConfigError(`argument ${i + 1} is not JSON: ${text}`)));
  const maxBatch = intFlag(values.batch, "batch", 1) ?? 500;
  if (maxBatch > 10_000) throw new ConfigError(`--batch must be at most 10000, got ${maxBatch}`);
  const lingerMs = intFlag(values.linger, "linger", 0) ?? 5;
  const options: AppendOptions = {};
  if (values.type !== undefined) options.type = values.type;
  if (values.key !== undefined) options.key = values.key;

  const producer = clientFor(values.url).producer(stream, { lingerMs, maxBatch });
  const inFlight: Promise<AppendResult>[] = [];
  let count = 0;
  const settleOldest = async () => {
    const { id } = await inFlight.shift()!;
    count++;
    if (values.ids) process.stdout.write(`${id}\n`);
  };
  const started = performance.now();
  try {
    for await (const payload of payloads.length > 0 ? toAsync(payloads) : stdinJson()) {
      const p = producer.publish(payload, options);
      p.catch(() => undefined); // awaited in order below; this keeps a failure from going unhandled meanwhile
      inFlight.push(p);
      if (inFlight.length >= maxBatch * WINDOW_BATCHES) await settleOldest();
    }
    while (inFlight.length > 0) await settleOldest();
  } finally {
    await producer.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = seconds > 0 ? Math.round(count / seconds) : count;
  process.stderr.write(`published ${count} ${count === 1 ? "entry" : "entries"} to ${stream} in ${seconds.toFixed(2)} s (${rate}/s, ${producer.requests} requests)\n`);
}

function parseJson(text: string, error: () => Error): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw error();
  }
}

async function* toAsync<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function* stdinJson(): AsyncGenerator<unknown> {
  if (process.stdin.isTTY) process.stderr.write("runnel: reading JSON lines from stdin (Ctrl-D to finish)\n");
  let line = 0;
  for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === "") continue;
    yield parseJson(text, () => new Error(`stdin line ${line} is not JSON: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`));
  }
}
