// `runnel pending <stream> <group>`: a group's pending entries as a table.
import { clientFor, COMMON_HELP, intFlag, json, parseCommand, positionals, table, write } from "./shared.js";

export const PENDING_HELP = `Usage: runnel pending <stream> <group> [options]

Lists the group's pending entries (delivered, not yet acknowledged): id, consumer, idle time, deliveries.

Options:
  --consumer NAME        only this consumer's entries
  --count N              at most N entries (default 100)
  --json                 print JSON instead of a table
${COMMON_HELP}`;

export async function pending(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, {
    consumer: { type: "string" },
    count: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return write(PENDING_HELP);
  const [stream, group] = positionals(given, ["stream", "group"], "runnel pending <stream> <group>");
  const client = clientFor(values.url);
  const count = intFlag(values.count, "count", 1) ?? 100;
  const summary = await client.groups.pending(stream!, group!);
  const entries = await client.groups.pendingEntries(stream!, group!, {
    count,
    ...(values.consumer === undefined ? {} : { consumer: values.consumer }),
  });
  if (values.json) return json({ ...summary, entries });
  if (summary.count === 0) return write(`no pending entries in ${stream}/${group}\n`);
  const more = summary.count > entries.length && values.consumer === undefined ? ` (showing ${entries.length})` : "";
  write(`${summary.count} pending in ${stream}/${group}, ${summary.smallestId} .. ${summary.largestId}${more}\n\n`);
  write(table(["ID", "CONSUMER", "IDLE", "DELIVERIES"], entries.map((e) => [e.id, e.consumer, duration(e.idleMs), e.deliveryCount])));
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1000)}s`;
  return `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
}
