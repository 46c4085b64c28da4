// Key commands over streams, the only kind of key Runnel has: DEL, EXISTS, TYPE.
import { isMissing } from "../errors.js";
import { Simple } from "../protocol.js";
import type { Command, CommandContext } from "./types.js";

async function exists(ctx: CommandContext, key: string): Promise<boolean> {
  try {
    await ctx.engine.streams.get(ctx.namespace, key);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

export const keyCommands: Command[] = [
  {
    name: "del",
    arity: -2,
    async run(ctx, keys) {
      let deleted = 0;
      for (const key of keys) {
        try {
          await ctx.engine.streams.delete(ctx.namespace, key);
          deleted++;
        } catch (error) {
          if (!isMissing(error)) throw error;
        }
      }
      return deleted;
    },
  },
  {
    name: "exists",
    arity: -2,
    async run(ctx, keys) {
      let n = 0;
      for (const key of keys) if (await exists(ctx, key)) n++;
      return n;
    },
  },
  {
    name: "type",
    arity: 2,
    async run(ctx, [key]) {
      return new Simple((await exists(ctx, key!)) ? "stream" : "none");
    },
  },
];
