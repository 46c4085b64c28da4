// The scanner that finds each entry's payload text in a POST /entries body, so payloads are stored as sent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { rawPayloads } from "../src/api/http/raw-payloads.js";

/** A small deterministic random source, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const AWKWARD_STRINGS = ["", "plain", 'quote " inside', "back\\slash", "ends with \\", "\\\"", "{[}]", "é ü 😀", "\n\t\u0001", ",:"];

function value(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rnd() < 0.5;
    case 2:
      return Math.round((rnd() - 0.5) * 1e6) / 100;
    case 3:
    case 4:
      return AWKWARD_STRINGS[Math.floor(rnd() * AWKWARD_STRINGS.length)];
    case 5:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => value(rnd, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--) o[AWKWARD_STRINGS[Math.floor(rnd() * AWKWARD_STRINGS.length)]!] = value(rnd, depth + 1);
      return o;
    }
  }
}

describe("finding payload texts in an entries body", () => {
  it("answers each payload's text as sent, whitespace included", () => {
    const body = '{ "entries" : [ {"type":"a", "payload" :  { "x" : [1, 2 ,{"y":"}"}] } } ,\n {"payload":"s\\"]"} , {"payload":7} ] }';
    assert.deepEqual(rawPayloads(body, true), ['{ "x" : [1, 2 ,{"y":"}"}] }', '"s\\"]"', "7"]);
  });

  it("takes the last of duplicate keys, as JSON.parse does, and reads escaped key names", () => {
    const body = '{"entries":[{"payload":1,"payload":2},{"pay\\u006coad":{"a":1}}],"entries":[{"payload":[3]}]}';
    assert.deepEqual(rawPayloads(body, true), ["[3]"]);
    assert.deepEqual(rawPayloads('{"entries":[{"payload":1,"payload":2},{"pay\\u006coad":{"a":1}}]}', true), ["2", '{"a":1}']);
    assert.deepEqual(rawPayloads('{"entries":[1],"entries":[{"payload":1}]}', true), ["1"]);
    assert.equal(rawPayloads('{"entries":[{"payload":1}],"entries":[2]}', true), undefined);
  });

  it("marks an entry without a payload, and gives up on bodies of another shape", () => {
    assert.deepEqual(rawPayloads('{"entries":[{"type":"x"},{"payload":null}]}', true), [undefined, "null"]);
    assert.deepEqual(rawPayloads('{"entries":[]}', true), []);
    assert.equal(rawPayloads('{"entries":[1,2]}', true), undefined);
    assert.equal(rawPayloads('{"entries":{"payload":1}}', true), undefined);
    assert.equal(rawPayloads("[1]", true), undefined);
  });

  it("reads a single entry's payload", () => {
    assert.deepEqual(rawPayloads(' {"key":"k","payload":{"a":"b"}} ', false), ['{"a":"b"}']);
    assert.deepEqual(rawPayloads('{"key":"k"}', false), [undefined]);
  });

  it("for random bodies, every text parses to the payload JSON.parse sees", () => {
    const rnd = random(7);
    for (let round = 0; round < 300; round++) {
      const entries = Array.from({ length: Math.floor(rnd() * 5) }, () => {
        const entry: Record<string, unknown> = { payload: value(rnd, 0) };
        if (rnd() < 0.5) entry.headers = { a: String(value(rnd, 3)) };
        return rnd() < 0.5 ? entry : { type: "t", ...entry, key: "k" };
      });
      const shape = round % 2 === 0 ? { note: value(rnd, 1), entries } : { entries, note: value(rnd, 1) };
      const body = JSON.stringify(shape, null, round % 3 === 0 ? 2 : undefined);
      const texts = rawPayloads(body, true);
      assert.ok(texts, body);
      const parsed = (JSON.parse(body) as { entries: { payload: unknown }[] }).entries;
      assert.equal(texts.length, parsed.length, body);
      texts.forEach((t, i) => assert.deepEqual(JSON.parse(t!), parsed[i]!.payload, body));
    }
  });
});
