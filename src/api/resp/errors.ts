// Error replies with Redis's texts, and how Runnel's typed errors become one.
import { IdTooSmallError, InvalidIdError, RunnelError } from "../../core/errors.js";

/** An error reply; `message` starts with the Redis error code (`ERR`, `NOGROUP`, `BUSYGROUP`, …). */
export class RespError extends Error {
  override name = "RespError";
  constructor(message: string) {
    super(message);
  }
}

export const SYNTAX = "ERR syntax error";
export const NOT_INTEGER = "ERR value is not an integer or out of range";
export const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";
export const ID_TOO_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
export const ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0";
export const BUSYGROUP = "BUSYGROUP Consumer Group name already exists";
export const NEEDS_KEY =
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

export function syntax(): RespError {
  return new RespError(SYNTAX);
}

export function wrongArity(command: string): RespError {
  return new RespError(`ERR wrong number of arguments for '${command.toLowerCase()}' command`);
}

export function unknownSubcommand(command: string, sub: string): RespError {
  return new RespError(`ERR unknown subcommand '${sub}'. Try ${command.toUpperCase()} HELP.`);
}

/** Redis's answer to a known subcommand given the wrong number of arguments or an unknown option. */
export function subcommandSyntax(command: string, sub: string): RespError {
  return new RespError(
    `ERR unknown subcommand or wrong number of arguments for '${sub.slice(0, 128)}'. Try ${command.toUpperCase()} HELP.`,
  );
}

/** Redis quotes at most a few of the arguments, each cut short. */
export function unknownCommand(name: string, args: readonly string[]): RespError {
  const shown = args
    .slice(0, 8)
    .map((a) => `'${a.length > 128 ? a.slice(0, 128) : a}' `)
    .join("");
  return new RespError(`ERR unknown command '${name}', with args beginning with: ${shown}`);
}

/** `NOGROUP No such key 'k' or consumer group 'g'`, the text XPENDING, XCLAIM and XAUTOCLAIM answer. */
export function noGroup(key: string, group: string, suffix = ""): RespError {
  return new RespError(`NOGROUP No such key '${key}' or consumer group '${group}'${suffix}`);
}

/** `NOGROUP No such consumer group 'g' for key name 'k'`, the text of the XGROUP and XINFO subcommands. */
export function noSuchGroup(key: string, group: string): RespError {
  return new RespError(`NOGROUP No such consumer group '${group}' for key name '${key}'`);
}

/** Answers true when `error` is Runnel's "not found" for the given field (`stream`, `group`, `consumer`). */
export function isMissing(error: unknown, field?: string): error is RunnelError {
  return error instanceof RunnelError && error.code === "RUNNEL_NOT_FOUND" && (field === undefined || error.field === field);
}

/**
 * Any error a command raised as an error reply. Runnel's own errors keep their message behind `ERR`; anything
 * else is a fault of the server, reported to `log` and answered without detail.
 */
export function toRespError(error: unknown, log: (error: unknown) => void): RespError {
  if (error instanceof RespError) return error;
  if (error instanceof InvalidIdError) {
    return new RespError(/greater than 0-0/.test(error.message) ? ID_ZERO : INVALID_ID);
  }
  if (error instanceof IdTooSmallError) return new RespError(ID_TOO_SMALL);
  if (error instanceof RunnelError) return new RespError(`ERR ${error.message}`);
  log(error);
  return new RespError("ERR internal error");
}
