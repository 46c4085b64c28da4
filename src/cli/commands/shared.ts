// What every client command shares: --url/--help parsing, the client, integer flags and plain-text tables.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { RunnelClient } from "../../client/index.js";
import { ConfigError } from "../errors.js";
import { indentJson, jsonText } from "./json-out.js";

export const DEFAULT_URL = "http://127.0.0.1:8080";

/** The options every client command takes. */
export const COMMON_OPTIONS = {
  url: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

export const COMMON_HELP = `  --url URL              the server [RUNNEL_URL] (default ${DEFAULT_URL})
  -h, --help             show this help
`;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs, strict, with the common options added; a wrong flag becomes a usage error (exit 2). */
export function parseCommand<O extends Options>(argv: string[], options: O) {
  return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
}

/** The client for --url, then RUNNEL_URL, then the default; a malformed URL is a usage error. */
export function clientFor(url: string | undefined, env: NodeJS.ProcessEnv = process.env): RunnelClient {
  if (url === "") throw new ConfigError("--url needs a value");
  const target = url ?? (env.RUNNEL_URL || DEFAULT_URL);
  try {
    return new RunnelClient({ url: target });
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
}

/** Exactly `names.length` positionals, named in the error when one is missing or extra. */
export function positionals(given: string[], names: string[], usage: string): string[] {
  if (given.length < names.length) throw new ConfigError(`missing <${names[given.length]}>; usage: ${usage}`);
  if (given.length > names.length) throw new ConfigError(`unexpected argument '${given[names.length]}'; usage: ${usage}`);
  return given;
}

/**
 * A whole number given as digits only: a blank value, `0x10`, `1e3`, `-1` or `1.5` is a usage error (exit 2), never
 * a number Number() happens to read (' ' would be 0). `max` bounds it where the value has a limit.
 */
export function intFlag(value: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`--${name} must be an integer ${range}, got '${value}'`);
  }
  return n;
}

/** Left-aligned columns under an upper-case header, two spaces apart. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

/** "label  value" lines with the labels padded to one width. */
export function fields(pairs: [string, string | number][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n") + "\n";
}

export function write(text: string): void {
  process.stdout.write(text);
}

export function json(value: unknown): void {
  process.stdout.write(`${indentJson(jsonText(value))}\n`);
}

/** A reader of `runnel … | head` going away is a normal end, not an error: exit quietly. */
export function exitOnClosedPipe(): void {
  onClosedPipe(() => process.exit(0));
}

/** Calls `onClosed` when stdout's reader goes away (EPIPE), for a command with more to do than print: publish stores on. */
export function onClosedPipe(onClosed: () => void): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    onClosed();
  });
}
