// Stream ids in tests: `<ms>-<seq>` text ordered by its numbers, exactly (BigInt), with a clear failure for a malformed id.
import assert from "node:assert/strict";

/** The two numbers of an id; a malformed id fails the test. */
export function idParts(id: string): [bigint, bigint] {
  const m = /^(\d+)-(\d+)$/.exec(id);
  assert.ok(m, `'${id}' is not an id of the form <ms>-<seq>`);
  return [BigInt(m[1]!), BigInt(m[2]!)];
}

/** Orders two `<ms>-<seq>` ids: negative, zero or positive, as for `Array.prototype.sort`. */
export function compareIds(a: string, b: string): number {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
