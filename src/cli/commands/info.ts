// `runnel info <stream>`: a stream's length, last id and groups with pending and lag.
import { clientFor, COMMON_HELP, fields, json, parseCommand, positionals, table, write } from "./shared.js";

export const INFO_HELP = `Usage: runnel info <stream> [options]

Shows a stream's length, first and last id, options and consumer groups with pending and lag.

Options:
  --json                 print the server's JSON instead of a table
${COMMON_HELP}`;

export async function info(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, { json: { type: "boolean" } });
  if (values.help) return write(INFO_HELP);
  const [stream] = positionals(given, ["stream"], "runnel info <stream>");
  const s = await clientFor(values.url).streams.info(stream!);
  if (values.json) return json(s);
  write(
    fields([
      ["stream", s.name],
      ["length", s.length],
      ["first id", s.firstEntry?.id ?? "-"],
      ["last id", s.lastGeneratedId],
      ["entries added", s.entriesAdded],
      ["partitions", s.partitions],
      ["max length", s.maxLen ?? "-"],
    ]),
  );
  if (s.groups.length === 0) return write("\nno consumer groups\n");
  write("\n");
  write(
    table(
      ["GROUP", "CONSUMERS", "PENDING", "LAG", "LAST DELIVERED"],
      s.groups.map((g) => [g.name, g.consumers, g.pending, g.lag, g.lastDeliveredId]),
    ),
  );
}
