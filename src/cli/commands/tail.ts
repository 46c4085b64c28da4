// `runnel tail <stream>`: follows a stream with blocking reads and prints entries as JSON lines or for people.
import { NotFoundError, type RunnelClient } from "../../client/index.js";
import { colourWanted, entryPrinter, FORMAT_HELP, resolveEntryFormat } from "./entry-format.js";
import { clientFor, COMMON_HELP, intFlag, parseCommand, positionals, write } from "./shared.js";

export const TAIL_HELP = `Usage: runnel tail <stream> [options]

Prints a stream's entries, as JSON lines or pretty, and waits for new ones.

Options:
  --from ID              0 for the whole stream, $ for new entries only, or an id to start after (default $)
  --count N              stop after N entries, waiting for new ones while there are fewer
  --no-wait              print what the stream holds now (up to --count) and stop, instead of waiting
  --block MS             longest wait per read (default 20000)
${FORMAT_HELP}${COMMON_HELP}`;

export async function tail(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, {
    from: { type: "string" },
    count: { type: "string" },
    "no-wait": { type: "boolean" },
    block: { type: "string" },
    format: { type: "string" },
  });
  if (values.help) return write(TAIL_HELP);
  const [stream] = positionals(given, ["stream"], "runnel tail <stream>");
  const limit = intFlag(values.count, "count", 1);
  const block = intFlag(values.block, "block", 0) ?? 20_000;
  const terminal = process.stdout.isTTY === true;
  const print = entryPrinter(resolveEntryFormat(values.format, terminal), colourWanted(terminal));
  const client = clientFor(values.url);
  let after = await startAfter(client, stream!, values.from ?? "$");
  let printed = 0;
  const wait = !values["no-wait"];
  while (limit === undefined || printed < limit) {
    const count = Math.min(100, limit === undefined ? 100 : limit - printed);
    const entries = await client.streams.read(stream!, { after, count, rawPayloads: true, ...(wait ? { block } : {}) });
    for (const e of entries) process.stdout.write(print(e, e));
    printed += entries.length;
    after = entries.at(-1)?.id ?? after;
    // Without waiting, a short read has caught up with the stream: nothing more to print now.
    if (!wait && entries.length < count) break;
  }
}

/** `$` becomes the current last id once, so entries appended between two reads are not skipped. */
async function startAfter(client: RunnelClient, stream: string, from: string): Promise<string> {
  if (from === "0") return "0-0";
  if (from !== "$") return from;
  try {
    return (await client.streams.info(stream)).lastGeneratedId;
  } catch (error) {
    if (error instanceof NotFoundError) return "0-0";
    throw error;
  }
}
