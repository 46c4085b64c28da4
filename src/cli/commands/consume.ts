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
  // A failed write is handled where its callback is awaited, below; this listener only keeps its 'error' event from
  // crashing the process.
  process.stdout.on("error", () => undefined);
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
    // Asking for the next message marks this one for the batch's ack, so it must be in stdout by then: a write into
    // a pipe whose reader has gone fails only in its callback (EPIPE), after the rest of the read was handed out.
    const failed = await written(print(msg, line));
    if (failed) {
      // Not printed: back to the group at once, for another consumer, rather than pending on this one.
      await msg.nack().catch(() => undefined);
      if (failed.code === "EPIPE") break;
      throw failed;
    }
    if (limit !== undefined && ++printed >= limit) {
      // Leaving the loop acks the ones printed before this one, not this one.
      if (ack) await msg.ack();
      break;
    }
  }
  // Interrupted: the acks above are sent; end as a Ctrl-C does (exit 130), so a calling script stops too.
  if (stop.signal.aborted) process.kill(process.pid, "SIGINT");
}

/** Writes to stdout; answers the write's error once it is known, or undefined once the text is written. */
function written(text: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => process.stdout.write(text, (error?: NodeJS.ErrnoException | null) => resolve(error ?? undefined)));
}
