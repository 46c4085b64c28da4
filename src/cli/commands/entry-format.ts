// How tail and consume print entries: JSON lines for scripts, or a header line and the indented payload for people.
import { RawJson, type StreamEntry } from "../../client/index.js";
import { indentJson, jsonText } from "./json-out.js";
import { ConfigError } from "../errors.js";

export const ENTRY_FORMATS = ["json", "pretty"] as const;
export type EntryFormat = (typeof ENTRY_FORMATS)[number];

export const FORMAT_HELP = `  --format FORMAT        json (one JSON object per line) or pretty (a header line per entry and the
                         indented payload, coloured on a terminal unless NO_COLOR is set);
                         default pretty when stdout is a terminal, json otherwise
`;

/** The entry fields the pretty format shows; `deliveryCount` only for entries read by a group. */
export type PrintableEntry = Pick<StreamEntry, "id" | "type" | "partition" | "key" | "timestamp" | "headers" | "payload" | "priority"> & {
  deliveryCount?: number;
};

/** --format as given, or pretty for a terminal and json for a pipe or file, so scripts see stable JSON lines. */
export function resolveEntryFormat(value: string | undefined, terminal: boolean): EntryFormat {
  if (value === undefined) return terminal ? "pretty" : "json";
  if (!(ENTRY_FORMATS as readonly string[]).includes(value)) throw new ConfigError(`--format must be json or pretty, got '${value}'`);
  return value as EntryFormat;
}

/** Colours only on a terminal, and never when NO_COLOR is set to anything but "" (https://no-color.org). */
export function colourWanted(terminal: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return terminal && !env.NO_COLOR;
}

const STYLES = { id: "\x1b[1;33m", type: "\x1b[36m", dim: "\x1b[2m" } as const;
type Style = keyof typeof STYLES;

/**
 * A function that turns an entry into its printed text, newline included. `json` prints `shown` (what the
 * command chose to expose) as one line; `pretty` prints a header and the payload below it.
 *
 * @example
 * ```ts
 * const print = entryPrinter("pretty", true);
 * process.stdout.write(print(entry, entry));
 * ```
 */
export function entryPrinter(format: EntryFormat, colour: boolean): (entry: PrintableEntry, shown: unknown) => string {
  if (format === "json") return (_entry, shown) => `${jsonText(shown)}\n`;
  const paint = (style: Style, text: string) => (colour ? `${STYLES[style]}${text}\x1b[0m` : text);
  return (e) => {
    const header = [
      paint("id", e.id),
      e.type === null ? paint("dim", "-") : paint("type", e.type),
      `${paint("dim", "partition")} ${e.partition}`,
      `${paint("dim", "key")} ${e.key ?? "-"}`,
      paint("dim", new Date(e.timestamp).toISOString()),
    ];
    if (e.priority !== "NORMAL") header.push(`${paint("dim", "priority")} ${e.priority}`);
    if (e.deliveryCount !== undefined) header.push(`${paint("dim", "delivery")} ${e.deliveryCount}`);
    const headers = Object.entries(e.headers);
    const headerLine = headers.length === 0 ? "" : `  ${paint("dim", "headers")} ${headers.map(([k, v]) => `${k}=${v}`).join(" ")}\n`;
    const text = e.payload instanceof RawJson ? indentJson(e.payload.text) : (JSON.stringify(e.payload, null, 2) ?? "null");
    const payload = text.replace(/^/gm, "  ");
    return `${header.join("  ")}\n${headerLine}${payload}\n\n`;
  };
}
