// Reads what clients send in Redis's protocol: RESP multibulk requests and inline (telnet-style) commands.
import { isUtf8 } from "node:buffer";

/** How large a request may be; anything larger is a protocol error before its data is buffered. */
export interface RequestLimits {
  /** Most bytes in one argument. */
  maxBulkBytes: number;
  /** Most bytes in all the arguments of one command together. */
  maxCommandBytes: number;
  /** Most arguments in one command, the command name included. */
  maxArgs: number;
}

/** Redis's limit on a line (an inline command, a `*N` or `$N` header) that has not ended yet. */
export const MAX_LINE_BYTES = 64 * 1024;
/** Redis 6 and older refused more arguments than this (Redis 7 allows more; Runnel keeps this cap). */
export const MAX_ARGS = 1024 * 1024;

const STAR = 0x2a;
const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;
const EMPTY = Buffer.alloc(0);

/**
 * A command that was read whole but cannot be run: an argument is not valid UTF-8. Runnel stores text, so
 * such a value is refused rather than stored with its bad bytes replaced.
 */
export class InvalidCommand {
  constructor(readonly message: string) {}
}

/** What the parser answers for each command: its arguments, or why it is refused. */
export type ParsedCommand = string[] | InvalidCommand;

function invalidUtf8(index: number): InvalidCommand {
  return new InvalidCommand(`ERR argument ${index + 1} is not valid UTF-8 text; Runnel stores text only`);
}

/**
 * A length as Redis's string2ll reads it: `0`, or an optional `-` and at most 18 digits without a leading zero.
 * Read from the bytes, since every argument of every command has one.
 */
function lengthAt(buf: Buffer, start: number, end: number): number | undefined {
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  if (i >= end || end - i > 18) return undefined;
  if (buf[i] === 0x30) return !negative && end - i === 1 ? 0 : undefined;
  let n = 0;
  for (; i < end; i++) {
    const digit = buf[i]! - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    n = n * 10 + digit;
  }
  return negative ? -n : n;
}

/** What C's isspace() accepts: space, \t, \n, \v, \f, \r. */
function isSpace(c: number | undefined): boolean {
  return c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

const ESCAPES: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

/**
 * An inline line split into arguments as Redis's sdssplitargs does: on whitespace, with "double quotes"
 * (escapes `\n \r \t \b \a \xHH`) and 'single quotes'. Undefined when a quote is not closed, or a closing
 * quote is followed by something other than a space.
 */
export function splitInline(buf: Buffer, start: number, end: number): ParsedCommand | undefined {
  const nul = buf.indexOf(0, start);
  if (nul !== -1 && nul < end) end = nul;
  const args: string[] = [];
  let invalid = -1;
  let p = start;
  const at = (i: number): number | undefined => (i < end ? buf[i] : undefined);
  for (;;) {
    while (p < end && isSpace(buf[p])) p++;
    if (p >= end) return invalid >= 0 ? invalidUtf8(invalid) : args;
    const bytes: number[] = [];
    let quote: 0 | 0x22 | 0x27 = 0;
    for (let done = false; !done; p++) {
      const c = at(p);
      if (quote === 0x22) {
        if (c === undefined) return undefined;
        if (c === 0x5c && at(p + 1) === 0x78 && hexValue(at(p + 2)) >= 0 && hexValue(at(p + 3)) >= 0) {
          bytes.push(hexValue(at(p + 2)) * 16 + hexValue(at(p + 3)));
          p += 3;
        } else if (c === 0x5c && at(p + 1) !== undefined) {
          const next = at(++p)!;
          bytes.push(ESCAPES[next] ?? next);
        } else if (c === 0x22) {
          if (at(p + 1) !== undefined && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else bytes.push(c);
      } else if (quote === 0x27) {
        if (c === undefined) return undefined;
        if (c === 0x5c && at(p + 1) === 0x27) {
          bytes.push(0x27);
          p++;
        } else if (c === 0x27) {
          if (at(p + 1) !== undefined && !isSpace(at(p + 1))) return undefined;
          done = true;
        } else bytes.push(c);
      } else if (c === undefined || c === 0x20 || c === LF || c === CR || c === 0x09) {
        done = true;
      } else if (c === 0x22 || c === 0x27) {
        quote = c;
      } else bytes.push(c);
    }
    const arg = Buffer.from(bytes);
    if (invalid < 0 && !isUtf8(arg)) invalid = args.length;
    args.push(arg.toString("utf8"));
  }
}

/**
 * Turns the bytes of one connection into commands (arrays of UTF-8 strings), chunk by chunk. A bulk that has
 * not fully arrived is kept as its chunks and the count of bytes still needed, so a large argument costs one
 * copy however many chunks it comes in. After a protocol error, `error` holds Redis's text (without the
 * leading `ERR Protocol error: `) and nothing more is read.
 */
export class RequestParser {
  error: string | undefined;
  private buf: Buffer = EMPTY;
  /**
   * Whether `buf` is valid UTF-8 as a whole. An argument inside it that comes right after a \n and right before a
   * \r\n then is too: a multi-byte character cannot straddle an ASCII byte. (Like Redis, the parser does not
   * insist on either; an argument without them is checked on its own.)
   */
  private bufUtf8 = true;
  private pos = 0;
  /** The arguments of the multibulk command being read, or null between commands. */
  private args: string[] | null = null;
  private argsLeft = 0;
  /** The index of the command's first argument that is not valid UTF-8, or -1. */
  private invalidArg = -1;
  private commandBytes = 0;
  /** The length of the bulk whose data is being collected, or -1. */
  private bulkLength = -1;
  private bulkParts: Buffer[] = [];
  private bulkHave = 0;

  constructor(private readonly limits: RequestLimits) {}

  /** Reads `chunk` after everything before it; answers the commands it completes, in order. */
  feed(chunk: Buffer): ParsedCommand[] {
    const out: ParsedCommand[] = [];
    if (this.error !== undefined) return out;
    if (this.bulkLength >= 0) {
      const need = this.bulkLength + 2 - this.bulkHave;
      const take = Math.min(need, chunk.length);
      this.bulkParts.push(chunk.subarray(0, take));
      this.bulkHave += take;
      if (take < need) return out;
      const whole = Buffer.concat(this.bulkParts, this.bulkHave);
      this.bulkParts = [];
      this.bulkHave = 0;
      this.pushArg(whole, 0, this.bulkLength, false, out);
      this.bulkLength = -1;
      chunk = chunk.subarray(take);
    }
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.bufUtf8 = isUtf8(this.buf);
    this.pos = 0;
    this.parse(out);
    if (this.pos >= this.buf.length || this.error !== undefined) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return out;
  }

  private fail(message: string): void {
    this.error = message;
    this.args = null;
    this.bulkParts = [];
  }

  /** `known` tells that the bytes are valid UTF-8 already (see `bufUtf8`). */
  private pushArg(buf: Buffer, start: number, end: number, known: boolean, out: ParsedCommand[]): void {
    if (!known && this.invalidArg < 0 && !isUtf8(buf.subarray(start, end))) this.invalidArg = this.args!.length;
    this.args!.push(buf.toString("utf8", start, end));
    if (--this.argsLeft === 0) {
      out.push(this.invalidArg >= 0 ? invalidUtf8(this.invalidArg) : this.args!);
      this.args = null;
      this.invalidArg = -1;
    }
  }

  private parse(out: ParsedCommand[]): void {
    const buf = this.buf;
    for (;;) {
      if (this.pos >= buf.length) return;
      if (this.args === null) {
        if (buf[this.pos] !== STAR) {
          if (!this.inline(out)) return;
          continue;
        }
        const cr = buf.indexOf(CR, this.pos + 1);
        // Like Redis, a header counts once its \r and one byte after it have arrived.
        if (cr === -1 || cr + 1 >= buf.length) {
          if (buf.length - this.pos > MAX_LINE_BYTES) this.fail("too big mbulk count string");
          return;
        }
        const n = lengthAt(buf, this.pos + 1, cr);
        if (n === undefined || n > this.limits.maxArgs) return this.fail("invalid multibulk length");
        this.pos = cr + 2;
        if (n > 0) {
          this.args = [];
          this.argsLeft = n;
          this.commandBytes = 0;
        }
        continue;
      }
      if (buf[this.pos] !== DOLLAR) return this.fail(`expected '$', got '${String.fromCharCode(buf[this.pos]!)}'`);
      const cr = buf.indexOf(CR, this.pos + 1);
      if (cr === -1 || cr + 1 >= buf.length) {
        if (buf.length - this.pos > MAX_LINE_BYTES) this.fail("too big bulk count string");
        return;
      }
      const length = lengthAt(buf, this.pos + 1, cr);
      if (
        length === undefined ||
        length < 0 ||
        length > this.limits.maxBulkBytes ||
        this.commandBytes + length > this.limits.maxCommandBytes
      ) {
        return this.fail("invalid bulk length");
      }
      this.pos = cr + 2;
      this.commandBytes += length;
      // Like Redis, the two bytes after the data are skipped unread (they should be \r\n).
      if (buf.length - this.pos >= length + 2) {
        const start = this.pos;
        this.pos += length + 2;
        const known = this.bufUtf8 && buf[start - 1] === LF && buf[start + length] === CR && buf[start + length + 1] === LF;
        this.pushArg(buf, start, start + length, known, out);
      } else {
        this.bulkLength = length;
        this.bulkParts = this.pos < buf.length ? [buf.subarray(this.pos)] : [];
        this.bulkHave = buf.length - this.pos;
        this.pos = buf.length;
        return;
      }
    }
  }

  /** Reads one inline line; false when it has not ended yet or is invalid. */
  private inline(out: ParsedCommand[]): boolean {
    const buf = this.buf;
    const lf = buf.indexOf(LF, this.pos);
    if (lf === -1) {
      if (buf.length - this.pos > MAX_LINE_BYTES) this.fail("too big inline request");
      return false;
    }
    const end = lf > this.pos && buf[lf - 1] === CR ? lf - 1 : lf;
    const args = splitInline(buf, this.pos, end);
    this.pos = lf + 1;
    if (args === undefined) {
      this.fail("unbalanced quotes in request");
      return false;
    }
    if (args instanceof InvalidCommand || args.length > 0) out.push(args);
    return true;
  }
}
