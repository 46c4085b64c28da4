// `runnel trim <stream> --maxlen N | --minid ID`: drops a stream's oldest entries.
import type { TrimOptions } from "../../client/index.js";
import { ConfigError } from "../errors.js";
import { clientFor, COMMON_HELP, intFlag, parseCommand, positionals, write } from "./shared.js";

export const TRIM_HELP = `Usage: runnel trim <stream> (--maxlen N | --minid ID) [options]

Removes a stream's oldest entries and prints how many went.

Options:
  --maxlen N             keep the newest N entries
  --minid ID             remove entries with ids below ID
${COMMON_HELP}`;

export async function trim(argv: string[]): Promise<void> {
  const { values, positionals: given } = parseCommand(argv, { maxlen: { type: "string" }, minid: { type: "string" } });
  if (values.help) return write(TRIM_HELP);
  const [stream] = positionals(given, ["stream"], "runnel trim <stream> --maxlen N | --minid ID");
  const maxLen = intFlag(values.maxlen, "maxlen", 0);
  if (values.minid === "") throw new ConfigError("--minid needs a value");
  let by: TrimOptions;
  if (maxLen !== undefined && values.minid !== undefined) throw new ConfigError("give --maxlen or --minid, not both");
  else if (maxLen !== undefined) by = { maxLen };
  else if (values.minid !== undefined) by = { minId: values.minid };
  else throw new ConfigError("give --maxlen N or --minid ID");
  const trimmed = await clientFor(values.url).streams.trim(stream!, by);
  write(`trimmed ${trimmed} ${trimmed === 1 ? "entry" : "entries"} from ${stream}\n`);
}
