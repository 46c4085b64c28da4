// Every command the RESP endpoint serves, by lower-case name.
import { groupCommands } from "./groups.js";
import { keyCommands } from "./keys.js";
import { readCommands } from "./read.js";
import { serverCommands } from "./server.js";
import { streamCommands } from "./streams.js";
import type { Command } from "./types.js";
import { xinfoCommand } from "./xinfo.js";

export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  [...serverCommands, ...keyCommands, ...streamCommands, ...readCommands, ...groupCommands, xinfoCommand].map((c) => [c.name, c]),
);
