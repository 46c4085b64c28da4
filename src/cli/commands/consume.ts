// `runnel consume <stream> <group>`: reads as one consumer of a group, prints entries (JSON lines or pretty), acks them.
import { colourWanted, entryPrinter, FORMAT_HELP, resolveEntryFormat } from "./entry-format.js";
import { clientFor, COMMON_HELP, intFlag, parseCommand, positionals, write } from "./shared.js";

export const CONSUME_HELP = `Usage: runnel consume <stream> <group> [options]

Reads entries as a consumer of a consumer group (created at --start when missing), prints each (as a JSON
line or pretty) and acknowledges it once printed. Runs until --count entries were printed, or until interrupted.

Options:
  --consumer NAME        the consumer's name (default cli-<pid>)
  --count N              stop after N entries
  --start ID             where a new group starts: 0 for every entry, $ for new ones (default $)
  --no-ack               leave the entries pending instead of acknowledging them
  --claim-idle MS        also take over entries other consumers left idle this long
${FORMAT_HELP}${COMMON_HELP}`;

export async function consume(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, {
    consumer: { type: "string" },
    count: { type: "string" },
    start: { type: "string" },
    "no-ack": { type: "boolean" },
    "claim-idle": { type: "string" },
    format: { type: "string" },
  });
  if (values.help) return write(CONSUME_HELP);
  const [stream, group] = positionals(given, ["stream", "group"], "runnel consume <stream> <group>");
  const limit = intFlag(values.count, "count", 1);
  const claimIdle = intFlag(values["claim-idle"], "claim-idle", 1);
  const consumer = values.consumer ?? `cli-${process.pid}`;
  const terminal = process.stdout.isTTY === true;
  const print = entryPrinter(resolveEntryFormat(values.format, terminal), colourWanted(terminal));
  const client = clientFor(values.url);
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") stop.abort();
    else throw error;
  });
  // An unreachable server is one line and exit 1 at the start; later, while consuming, each retry is reported.
  await client.health();
  let printed = 0;
  const ack = !values["no-ack"];
  // Printed entries are acked together, before the next read (one request per read, not one per entry).
  const messages = client.consume(stream!, group!, consumer, {
    autoAck: ack,
    count: limit === undefined ? 100 : Math.min(100, limit),
    startId: values.start ?? "$",
    signal: stop.signal,
    rawPayloads: true,
    onError: (error) => process.stderr.write(`runnel: ${error instanceof Error ? error.message : String(error)}; retrying\n`),
    ...(claimIdle === undefined ? {} : { autoClaimIdleMs: claimIdle }),
  });
  for await (const msg of messages) {
    const { id, partition, offset, key, type, headers, payload, priority, correlationId, causationId, messageId } = msg;
    const { timestamp, deliverAt, deliveryCount } = msg;
    // The same fields as `runnel tail` prints, plus the delivery count.
    const line = { id, partition, offset, key, type, headers, payload, priority, correlationId, causationId, messageId, timestamp, deliverAt, deliveryCount };
    process.stdout.write(print(msg, line));
    if (limit !== undefined && ++printed >= limit) {
      // Leaving the loop acks the ones printed before this one, not this one.
      if (ack) await msg.ack();
      break;
    }
  }
}
