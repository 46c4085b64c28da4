// `runnel dlq list|reprocess <stream>`: a stream's dead letters, and sending them back to the stream.
import { ConfigError } from "../errors.js";
import { clientFor, COMMON_HELP, intFlag, json, parseCommand, positionals, table, write } from "./shared.js";

export const DLQ_HELP = `Usage: runnel dlq list <stream> [options]
       runnel dlq reprocess <stream> [ids...] [options]

list       shows the stream's dead letters, oldest first, with why they died
reprocess  appends dead letters to their stream again and removes them from the dead-letter stream:
           the given ids, or the oldest --count

Options:
  --count N              list: at most N (default 100); reprocess without ids: the oldest N (default 100)
  --start ID             list: from this id (default -)
  --json                 print JSON instead of a table
${COMMON_HELP}`;

export async function dlq(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, {
    count: { type: "string" },
    start: { type: "string" },
    json: { type: "boolean" },
  });
  if (values.help) return write(DLQ_HELP);
  const [action, ...rest] = given;
  const count = intFlag(values.count, "count", 1);
  if (action === "list") {
    const [stream] = positionals(rest, ["stream"], "runnel dlq list <stream>");
    const list = await clientFor(values.url).deadLetters.list(stream!, {
      rawPayloads: true,
      ...(count === undefined ? {} : { count }),
      ...(values.start === undefined ? {} : { start: values.start }),
    });
    if (values.json) return json(list);
    if (list.entries.length === 0) return write(`no dead letters in ${list.deadLetterStream}\n`);
    const h = (e: (typeof list.entries)[number], k: string) => e.headers[`runnel-dead-${k}`] ?? "-";
    return write(
      table(
        ["ID", "ORIGINAL ID", "GROUP", "DELIVERIES", "REASON"],
        list.entries.map((e) => [e.id, h(e, "id"), h(e, "group"), h(e, "deliveries"), h(e, "reason")]),
      ),
    );
  }
  if (action === "reprocess") {
    const [stream, ...ids] = rest;
    if (stream === undefined) throw new ConfigError("missing <stream>; usage: runnel dlq reprocess <stream> [ids...]");
    if (ids.length > 0 && count !== undefined) throw new ConfigError("give ids or --count, not both");
    const result = await clientFor(values.url).deadLetters.reprocess(stream, ids.length > 0 ? { ids } : count === undefined ? {} : { count });
    if (values.json) return json(result);
    write(`reprocessed ${result.reprocessed} dead ${result.reprocessed === 1 ? "letter" : "letters"}\n`);
    for (const e of result.entries) write(`${e.deadLetterId} -> ${e.stream} ${e.id}\n`);
    return;
  }
  throw new ConfigError(action === undefined ? "missing action: list or reprocess; try runnel dlq --help" : `unknown dlq action '${action}'; use list or reprocess`);
}
