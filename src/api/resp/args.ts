// Reading a command's arguments: integers, ids and options, with Redis's error texts for bad ones.
import { parseId, type StreamId } from "../../core/ids.js";
import { NOT_INTEGER, RespError, syntax } from "./errors.js";

const INTEGER = /^-?\d{1,16}$/;

/** A whole number as Redis reads one; `message` is the error reply for anything else. */
export function integer(text: string, message = NOT_INTEGER): number {
  if (!INTEGER.test(text)) throw new RespError(message);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RespError(message);
  return n;
}

/** A whole number not below 0; as Redis checks MAXLEN and LIMIT, a negative one has its own error text. */
export function nonNegative(text: string, negative = NOT_INTEGER): number {
  const n = integer(text);
  if (n < 0) throw new RespError(negative);
  return n;
}

/** A stream id `<ms>-<seq>` or `<ms>`; a bad one answers Redis's "Invalid stream ID". */
export function streamId(text: string, missingSeq = 0): StreamId {
  return parseId(text, "id", missingSeq);
}

/** The BLOCK argument: milliseconds, never negative. */
export function timeout(text: string): number {
  const n = integer(text, "ERR timeout is not an integer or out of range");
  if (n < 0) throw new RespError("ERR timeout is negative");
  return n;
}

/** Walks the arguments after a command's fixed ones: `XPENDING key group [IDLE ms] start end count`. */
export class ArgReader {
  private at: number;

  constructor(
    private readonly args: readonly string[],
    from: number,
  ) {
    this.at = from;
  }

  get done(): boolean {
    return this.at >= this.args.length;
  }

  get left(): number {
    return this.args.length - this.at;
  }

  /** The next argument upper-cased, without taking it. */
  peekWord(): string | undefined {
    return this.args[this.at]?.toUpperCase();
  }

  /** Takes the next argument; a missing one is a syntax error. */
  next(): string {
    const value = this.args[this.at];
    if (value === undefined) throw syntax();
    this.at++;
    return value;
  }

  /** Everything not taken yet. */
  rest(): string[] {
    const out = this.args.slice(this.at);
    this.at = this.args.length;
    return out;
  }
}
