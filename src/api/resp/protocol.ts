// RESP2 replies: the values a command answers with, and their encoding on the wire.
import { RespError } from "./errors.js";

/** A simple string (`+OK`); a plain JS string is sent as a bulk string. */
export class Simple {
  constructor(readonly value: string) {}
}

export const OK = new Simple("OK");

/** `*-1`: the null array, which XREAD and XREADGROUP answer when nothing arrived. */
export const NULL_ARRAY: unique symbol = Symbol("null array");

/**
 * What a command answers: a bulk string (string), an integer (number), the null bulk string (null), a simple
 * string, an error, the null array, or an array of replies.
 */
export type Reply = string | number | null | Simple | RespError | typeof NULL_ARRAY | readonly Reply[];

const CRLF = "\r\n";

/** Error and simple-string lines cannot hold a line break. */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, " ") : text;
}

function encodeInto(reply: Reply, out: string[]): void {
  if (typeof reply === "string") {
    out.push(`$${Buffer.byteLength(reply)}${CRLF}`, reply, CRLF);
  } else if (typeof reply === "number") {
    out.push(`:${Math.trunc(reply)}${CRLF}`);
  } else if (reply === null) {
    out.push(`$-1${CRLF}`);
  } else if (reply === NULL_ARRAY) {
    out.push(`*-1${CRLF}`);
  } else if (reply instanceof Simple) {
    out.push(`+${oneLine(reply.value)}${CRLF}`);
  } else if (reply instanceof RespError) {
    out.push(`-${oneLine(reply.message)}${CRLF}`);
  } else {
    out.push(`*${reply.length}${CRLF}`);
    for (const item of reply) encodeInto(item, out);
  }
}

/** The reply as RESP2 text (UTF-8 on the wire). */
export function encode(reply: Reply): string {
  const out: string[] = [];
  encodeInto(reply, out);
  return out.join("");
}
