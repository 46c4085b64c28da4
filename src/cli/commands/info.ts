// `runnel info <stream>`: a stream's length, last id and groups with pending and lag.
import type { RawJson, RunnelClient, StreamInfo } from "../../client/index.js";
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
  const client = clientFor(values.url);
  const s = await client.streams.info(stream!);
  if (values.json) return json(await withStoredPayloads(client, stream!, s));
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

/**
 * Info's first and last entries come with their payloads parsed (12345678901234567890 rounded, 1.50 as 1.5):
 * read those two again as stored text, as tail prints them. One trimmed meanwhile keeps the parsed payload.
 */
async function withStoredPayloads(client: RunnelClient, stream: string, s: StreamInfo): Promise<StreamInfo> {
  await Promise.all(
    [s.firstEntry, s.lastEntry].map(async (entry) => {
      if (!entry) return;
      const [stored] = await client.streams.range<RawJson>(stream, { start: entry.id, end: entry.id, count: 1, rawPayloads: true });
      if (stored) entry.payload = stored.payload;
    }),
  );
  return s;
}
