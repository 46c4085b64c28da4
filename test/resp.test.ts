// The Redis protocol endpoint against every backend, through the real ioredis client: streams, groups, blocking, errors.
import assert from "node:assert/strict";
import { connect as connectSocket } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { ManualClock } from "../src/core/clock.js";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { InvalidCommand, RequestParser, type ParsedCommand } from "../src/api/resp/request-parser.js";
import { payloadOf } from "../src/api/resp/entries.js";
import { compareIds as cmp } from "./helpers/ids.js";

type Api = ReturnType<typeof client>;
/** An entry as Redis replies it: `[id, [field, value, …]]`. */
type RawEntry = [string, string[] | null];


function assertIncreasing(ids: readonly string[]): void {
  for (let i = 1; i < ids.length; i++) assert.ok(cmp(ids[i - 1]!, ids[i]!) < 0, `id ${ids[i]} at ${i} does not follow ${ids[i - 1]}`);
}

/** What the server wrote on a raw connection, and whether it closed the connection. */
interface RawReply {
  text: string;
  closed: boolean;
}

/**
 * Writes each part on a fresh socket (a pause between parts, so they arrive as separate chunks) and answers the
 * raw reply text once the server closes the socket, `until` accepts the text, or `ms` pass.
 */
function raw(port: number, parts: string | (string | Buffer)[], options: { until?: (text: string) => boolean; ms?: number } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connectSocket(port, "127.0.0.1");
    let text = "";
    let settled = false;
    const done = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), options.ms ?? 1000);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (options.until?.(text)) done(false);
    });
    socket.on("end", () => done(true));
    socket.on("close", () => done(true));
    socket.on("error", (error) => (settled ? undefined : reject(error)));
    socket.on("connect", async () => {
      for (const part of typeof parts === "string" ? [parts] : parts) {
        if (settled) return;
        socket.write(part);
        await sleep(10);
      }
    });
  });
}

/** A command as a RESP multibulk request. */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

describe("Redis protocol request parser", () => {
  const limits = { maxBulkBytes: 1024, maxCommandBytes: 4096, maxArgs: 8 };

  it("reads the same commands whether the bytes come at once or one by one", () => {
    const bytes = Buffer.from(`${resp("XADD", "s", "*", "f", "vé ✓")}PING\r\n*0\r\n\r\nECHO "a b" 'c\\'d' "\\x41\\n"\n${resp("ECHO", "")}`);
    const expected = [["XADD", "s", "*", "f", "vé ✓"], ["PING"], ["ECHO", "a b", "c'd", "A\n"], ["ECHO", ""]];
    assert.deepEqual(new RequestParser(limits).feed(bytes), expected);
    const parser = new RequestParser(limits);
    const got: ParsedCommand[] = [];
    for (let i = 0; i < bytes.length; i++) got.push(...parser.feed(bytes.subarray(i, i + 1)));
    assert.deepEqual(got, expected);
    assert.equal(parser.error, undefined);
  });

  it("refuses a command with an argument that is not UTF-8, and reads on after it", () => {
    const bad = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const bytes = Buffer.concat([
      Buffer.from("*4\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$4\r\n"),
      bad,
      Buffer.from(`\r\n${resp("PING")}ECHO "\\xff"\r\n`),
    ]);
    const parsed = new RequestParser(limits).feed(bytes);
    assert.equal(parsed.length, 3);
    assert.ok(parsed[0] instanceof InvalidCommand);
    assert.match(parsed[0].message, /^ERR argument 4 is not valid UTF-8/);
    assert.deepEqual(parsed[1], ["PING"]);
    assert.ok(parsed[2] instanceof InvalidCommand, "an inline \\xff escape is checked too");
  });

  it("refuses half a character even when the bytes around it make the whole buffer valid UTF-8", () => {
    // `$1` takes only the first byte of "é" (c3 a9); a9 and \r stand where \r\n should be, as Redis skips them.
    const bytes = Buffer.concat([Buffer.from("*2\r\n$4\r\nECHO\r\n$1\r\n"), Buffer.from([0xc3, 0xa9, 0x0d]), Buffer.from(`\n${resp("PING")}`)]);
    const parsed = new RequestParser(limits).feed(bytes);
    assert.ok(parsed[0] instanceof InvalidCommand, JSON.stringify(parsed));
    assert.match(parsed[0].message, /^ERR argument 2 is not valid UTF-8/);
  });

  it("refuses half a character that starts where a header's \\n should be", () => {
    // The byte after `$3\r` is skipped unread, as Redis does; here it is the lead byte of "é" (c3 a9), so the
    // argument a9 61 62 starts mid-character although the whole buffer is valid UTF-8.
    const head = Buffer.from("*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$1\r\nf\r\n$3\r");
    const parsed = new RequestParser(limits).feed(Buffer.concat([head, Buffer.from([0xc3, 0xa9, 0x61, 0x62, 0x0d, 0x0a])]));
    assert.ok(parsed[0] instanceof InvalidCommand, JSON.stringify(parsed));
    assert.match(parsed[0].message, /^ERR argument 5 is not valid UTF-8/);
  });

  it("reads lengths as Redis does: no sign but '-', no leading zero, at most 18 digits", () => {
    const ok = new RequestParser({ maxBulkBytes: 1 << 30, maxCommandBytes: 1 << 30, maxArgs: 8 });
    assert.deepEqual(ok.feed(Buffer.from("*1\r\n$0\r\n\r\n*-1\r\n*1\r\n$3\r\nabc\r\n")), [[""], ["abc"]]);
    for (const header of ["*+1", "*-0", "*1x", "*", "*1234567890123456789", "*\t1"]) {
      const parser = new RequestParser(limits);
      parser.feed(Buffer.from(`${header}\r\n`));
      assert.equal(parser.error, "invalid multibulk length", header);
    }
  });

  it("refuses a bulk, a command or an argument count over the limits from the header alone", () => {
    const cases: [string, string][] = [
      ["*1\r\n$1025\r\n", "invalid bulk length"],
      ["*9\r\n", "invalid multibulk length"],
      ["*1\r\n$-1\r\n", "invalid bulk length"],
      ["*1\r\n$04\r\n", "invalid bulk length"],
      ["*01\r\n", "invalid multibulk length"],
      ["*2\r\n$1\r\na\r\n+b\r\n", "expected '$', got '+'"],
      [`PING ${"x".repeat(70_000)}`, "too big inline request"],
      [`*${"1".repeat(70_000)}`, "too big mbulk count string"],
      ['ECHO "open\r\n', "unbalanced quotes in request"],
      ['ECHO "a"b\r\n', "unbalanced quotes in request"],
    ];
    for (const [input, error] of cases) {
      const parser = new RequestParser(limits);
      assert.deepEqual(parser.feed(Buffer.from(input)), [], input.slice(0, 40));
      assert.equal(parser.error, error, input.slice(0, 40));
    }
    const total = new RequestParser(limits);
    const big = "x".repeat(1000);
    total.feed(Buffer.from(`*6\r\n${`$1000\r\n${big}\r\n`.repeat(4)}$97\r\n`));
    assert.equal(total.error, "invalid bulk length", "a command's arguments together are capped too");
  });
});

describe("XADD fields as a JSON payload", () => {
  /** The rule written plainly: each field once, in its first place, with its last value. */
  function reference(pairs: readonly string[]): string {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(pairs[i]!, pairs[i + 1]!);
    return `{${[...fields].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;
  }

  it("matches the plain rule for awkward names and values, repeated fields and long commands", () => {
    const pool = ["a", "b", "type", "", "quo\"te", "back\\slash", "nl\n", "\u0000", "\u001f\u007f", "é", "😀", "\ud800", "\udc00x", "123", "__proto__"];
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) % 1_000_000) / 1_000_000;
    for (let round = 0; round < 500; round++) {
      const pairs = Array.from({ length: 2 * (1 + Math.floor(rnd() * (round % 10 === 0 ? 40 : 6))) }, () => pool[Math.floor(rnd() * pool.length)]!);
      const text = payloadOf(pairs);
      assert.equal(text, reference(pairs), JSON.stringify(pairs));
      JSON.parse(text);
    }
  });
});

async function rejectsWith(promise: Promise<unknown>, expected: string | RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    if (typeof expected === "string") assert.equal(error.message, expected);
    else assert.match(error.message, expected);
    return true;
  });
}

/** An ioredis client of the RESP listener at `port` that neither retries nor reconnects: a failure shows. */
async function connectResp(port: number): Promise<Redis> {
  const redis = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  await redis.connect();
  return redis;
}

for (const backend of await backends()) {
  describe(`Redis protocol (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    const clock = new ManualClock(1_700_000_000_000);
    const clients: Redis[] = [];

    async function connect(): Promise<Redis> {
      const redis = await connectResp(server.respPort!);
      clients.push(redis);
      return redis;
    }

    let redis: Redis;

    before(async () => {
      server = await startTestServer(await backend.fresh(), { clock, respPort: 0, maxBlockMs: 5000 });
      api = client(server.url);
      redis = await connect();
    });
    after(async () => {
      for (const c of clients) c.disconnect();
      await server.close();
      await backend.cleanup();
    });

    describe("connection and server commands", () => {
      it("answers PING, ECHO, INFO (with loading:0), SELECT 0 and CLIENT, and refuses other databases", async () => {
        assert.equal(await redis.ping(), "PONG");
        assert.equal(await redis.call("PING", "hello"), "hello");
        assert.equal(await redis.echo("echo me"), "echo me");
        const info = await redis.info();
        assert.match(info, /^# Server\r\n/);
        assert.match(info, /\r\nredis_version:7\.\d+\.\d+\r\n/);
        assert.match(info, /\r\nrunnel_version:\d+\.\d+\.\d+/);
        assert.match(info, /\r\nloading:0\r\n/);
        assert.equal(await redis.select(0), "OK");
        await rejectsWith(redis.select(3), "ERR DB index is out of range");
        assert.equal(await redis.call("CLIENT", "SETNAME", "worker-1"), "OK");
        assert.equal(await redis.call("CLIENT", "GETNAME"), "worker-1");
        assert.equal(typeof (await redis.call("CLIENT", "ID")), "number");
        assert.deepEqual(await redis.call("COMMAND", "DOCS"), []);
        assert.equal(await redis.call("CLIENT", "SETINFO", "LIB-NAME", "test"), "OK");
        const names = (await redis.call("COMMAND", "LIST")) as string[];
        assert.ok(names.includes("xreadgroup") && names.includes("xautoclaim"), names.join(" "));
        assert.equal(await redis.call("COMMAND", "COUNT"), names.length);
        await rejectsWith(redis.call("CONFIG", "GET", "save"), /^ERR unknown command 'CONFIG'/);
      });

      it("speaks RESP2 only: HELLO 2 answers the server map, HELLO 3 is NOPROTO; AUTH has no password to check", async () => {
        const hello = (await redis.call("HELLO", "2")) as unknown[];
        assert.deepEqual(hello.slice(0, 6), ["server", "redis", "version", "7.0.0", "proto", 2]);
        await rejectsWith(redis.call("HELLO", "3"), /^NOPROTO /);
        await rejectsWith(redis.call("AUTH", "secret"), /^ERR AUTH <password> called without any password configured/);
      });

      it("refuses MULTI/EXEC with a clear error and keeps serving the connection", async () => {
        await rejectsWith(redis.call("MULTI"), /^ERR MULTI is not supported/);
        await rejectsWith(redis.call("EXEC"), /^ERR EXEC is not supported/);
        assert.equal(await redis.ping(), "PONG");
      });

      it("answers an unknown command and a wrong arity with Redis's texts", async () => {
        await rejectsWith(redis.call("SET", "k", "v"), "ERR unknown command 'SET', with args beginning with: 'k' 'v' ");
        await rejectsWith(redis.call("XLEN"), "ERR wrong number of arguments for 'xlen' command");
        await rejectsWith(redis.call("XADD", "s"), "ERR wrong number of arguments for 'xadd' command");
        await rejectsWith(redis.call("XGROUP", "CREATE", "s"), "ERR wrong number of arguments for 'xgroup|create' command");
        await rejectsWith(redis.call("XGROUP", "NOPE"), "ERR unknown subcommand 'NOPE'. Try XGROUP HELP.");
      });
    });

    describe("the wire, byte for byte", () => {
      const port = () => server.respPort!;

      it("runs and answers the commands before a protocol error in the same chunk, then the error, then closes", async () => {
        const s = unique("wire");
        const bad = `${resp("PING")}${resp("XADD", s, "1-1", "a", "1")}${resp("ECHO", "hi")}*x\r\n${resp("XADD", s, "2-1", "a", "2")}`;
        const reply = await raw(port(), bad);
        assert.deepEqual(reply, { text: "+PONG\r\n$3\r\n1-1\r\n$2\r\nhi\r\n-ERR Protocol error: invalid multibulk length\r\n", closed: true });
        assert.deepEqual(((await redis.xrange(s, "-", "+")) as RawEntry[]).map((e) => e[0]), ["1-1"]);
      });

      it("refuses a value that is not UTF-8 with an error, stores nothing and keeps the connection", async () => {
        const s = unique("wire");
        const head = `*5\r\n$4\r\nXADD\r\n$${Buffer.byteLength(s)}\r\n${s}\r\n$1\r\n*\r\n$1\r\nf\r\n$4\r\n`;
        const request = Buffer.concat([Buffer.from(head), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from(`\r\n${resp("PING")}`)]);
        const reply = await raw(port(), [request], { until: (text) => text.endsWith("+PONG\r\n") });
        assert.deepEqual(reply, { text: "-ERR argument 5 is not valid UTF-8 text; Runnel stores text only\r\n+PONG\r\n", closed: false });
        assert.equal(await redis.exists(s), 0);
      });

      it("answers an invalid bulk or multibulk length, or a type other than a bulk string, with an error and closes", async () => {
        assert.deepEqual(await raw(port(), "*1\r\n$abc\r\n"), { text: "-ERR Protocol error: invalid bulk length\r\n", closed: true });
        assert.deepEqual(await raw(port(), "*abc\r\n"), { text: "-ERR Protocol error: invalid multibulk length\r\n", closed: true });
        assert.deepEqual(await raw(port(), "*1\r\n:4\r\n"), { text: "-ERR Protocol error: expected '$', got ':'\r\n", closed: true });
        assert.deepEqual(await raw(port(), "*2\r\n$4\r\nECHO\r\n$-1\r\n"), { text: "-ERR Protocol error: invalid bulk length\r\n", closed: true });
      });

      it("refuses a bulk longer than the payload limit from its header, before any of its data is sent", async () => {
        const header = `*3\r\n$4\r\nECHO\r\n$${1024 * 1024 + 1}\r\n`;
        assert.deepEqual(await raw(port(), header), { text: "-ERR Protocol error: invalid bulk length\r\n", closed: true });
        // At the limit the server waits for the data: no reply, the connection stays open.
        assert.deepEqual(await raw(port(), `*2\r\n$4\r\nECHO\r\n$${1024 * 1024}\r\n`, { ms: 300 }), { text: "", closed: false });
      });

      it("reads a large argument that arrives in many chunks", async () => {
        const value = "é".repeat(400_000);
        const bytes = Buffer.from(resp("ECHO", value));
        const parts: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += 64 * 1024) parts.push(bytes.subarray(i, i + 64 * 1024));
        const expected = `$${Buffer.byteLength(value)}\r\n${value}\r\n`;
        const reply = await raw(port(), [...parts, "PING\r\n"], { until: (t) => t.endsWith("+PONG\r\n"), ms: 5000 });
        assert.equal(reply.text, `${expected}+PONG\r\n`);
      });

      it("serves inline commands as telnet and nc send them, quotes included", async () => {
        const s = unique("wire");
        const reply = await raw(port(), `PING\r\nECHO "a b"\nXADD ${s} 5-1 name 'ann lee'\r\n`, { until: (t) => t.includes("5-1") });
        assert.equal(reply.text, "+PONG\r\n$3\r\na b\r\n$3\r\n5-1\r\n");
        assert.deepEqual(await redis.xrange(s, "-", "+"), [["5-1", ["name", "ann lee"]]]);
      });

      it("QUIT answers +OK and closes; nothing after it runs", async () => {
        assert.deepEqual(await raw(port(), `PING\r\nQUIT\r\n${resp("PING")}*x\r\n`), { text: "+PONG\r\n+OK\r\n", closed: true });
      });

      it("XPENDING of a group with nothing pending ends in a nil array; XREAD that times out is a nil array", async () => {
        const s = unique("wire");
        await redis.xgroup("CREATE", s, "g", "$", "MKSTREAM");
        const summary = await raw(port(), resp("XPENDING", s, "g"), { until: (t) => t.endsWith("*-1\r\n") });
        assert.equal(summary.text, "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n");
        const timedOut = await raw(port(), resp("XREAD", "BLOCK", "50", "STREAMS", s, "$"), { until: (t) => t.includes("\r\n"), ms: 3000 });
        assert.equal(timedOut.text, "*-1\r\n");
        const range = await raw(port(), resp("XRANGE", s, "-", "+", "COUNT", "0") + resp("XRANGE", unique("missing"), "-", "+", "COUNT", "0"), {
          until: (t) => t.split("\r\n").length > 2,
        });
        assert.equal(range.text, "*-1\r\n*0\r\n", "COUNT 0 is nil on a stream and an empty array on a missing key, as in Redis");
      });
    });

    describe("streams", () => {
      it("XADD then XLEN, XRANGE and XREVRANGE with COUNT, - and +, exclusive and incomplete ids", async () => {
        const s = unique("rs");
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await redis.xadd(s, "*", "n", String(i), "tag", "t"))!);
        assertIncreasing(ids);
        assert.equal(await redis.xlen(s), 5);
        const all = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(all.map((e) => e[0]), ids);
        assert.deepEqual(all[2]![1], ["n", "2", "tag", "t"]);
        assert.deepEqual(((await redis.xrange(s, "-", "+", "COUNT", 2)) as RawEntry[]).map((e) => e[0]), ids.slice(0, 2));
        assert.deepEqual(((await redis.xrange(s, `(${ids[1]}`, `(${ids[4]}`)) as RawEntry[]).map((e) => e[0]), ids.slice(2, 4));
        assert.deepEqual(((await redis.xrevrange(s, "+", "-", "COUNT", 2)) as RawEntry[]).map((e) => e[0]), [ids[4], ids[3]]);
        // A bare millisecond time covers every sequence in it, on either end.
        const ms = ids[0]!.split("-")[0]!;
        const sameMs = ids.filter((id) => id.startsWith(`${ms}-`));
        assert.deepEqual(((await redis.xrange(s, ms, ms)) as RawEntry[]).map((e) => e[0]), sameMs);
        assert.deepEqual(await redis.xrange(unique("missing"), "-", "+"), []);
        assert.equal(await redis.xlen(unique("missing")), 0);
        // An exclusive bound with nothing beyond it is an error, as in Redis.
        await rejectsWith(redis.xrange(s, "-", "(0-0"), "ERR invalid end ID for the interval");
        await rejectsWith(redis.xrevrange(s, "(0-0", "-"), "ERR invalid end ID for the interval");
        await rejectsWith(redis.xrange(s, "(9007199254740991-9007199254740991", "+"), "ERR invalid start ID for the interval");
      });

      it("XADD with an explicit id, <ms>-*, NOMKSTREAM and MAXLEN", async () => {
        const s = unique("rs");
        assert.equal(await redis.xadd(s, "5-1", "a", "1"), "5-1");
        assert.equal(await redis.xadd(s, "5-*", "a", "2"), "5-2");
        assert.equal(await redis.xadd(s, "7", "a", "3"), "7-0");
        await rejectsWith(redis.xadd(s, "6-0", "a", "x"), "ERR The ID specified in XADD is equal or smaller than the target stream top item");
        await rejectsWith(redis.xadd(s, "0-0", "a", "x"), "ERR The ID specified in XADD must be greater than 0-0");
        const missing = unique("none");
        assert.equal(await redis.call("XADD", missing, "NOMKSTREAM", "*", "a", "1"), null);
        assert.equal(await redis.exists(missing), 0);
        assert.equal(await redis.call("XADD", s, "MAXLEN", "~", "2", "*", "a", "4") !== null, true);
        const left = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(left.map((e) => e[1]![1]), ["3", "4"]);
      });

      it("pipelined XADDs answer in request order with increasing ids, interleaved with other commands", async () => {
        const s = unique("rs");
        const other = unique("rs");
        const p = redis.pipeline();
        // An explicit id far ahead in the middle: the `*` ids after it must follow it.
        const explicit = "1900000000000-0";
        for (let i = 0; i < 300; i++) {
          p.xadd(s, i === 150 ? explicit : "*", "i", String(i));
          if (i % 50 === 49) p.xlen(s);
          if (i % 70 === 0) p.xadd(other, "*", "i", String(i));
        }
        const replies = (await p.exec())!;
        for (const [error] of replies) assert.equal(error, null);
        const ids: string[] = [];
        let seen = 0;
        let i = 0;
        for (let n = 0; n < 300; n++) {
          ids.push(replies[i++]![1] as string);
          seen++;
          if (n % 50 === 49) assert.equal(replies[i++]![1], seen, "XLEN sees every XADD before it in the pipeline");
          if (n % 70 === 0) i++;
        }
        assertIncreasing(ids);
        assert.equal(ids[150], explicit);
        const stored = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(stored.map((e) => e[0]), ids);
        assert.deepEqual(stored.map((e) => e[1]![1]), ids.map((_, n) => String(n)));
        assert.equal(await redis.xlen(other), 5);
      });

      it("pipelined XADDs with NUL and multi-byte characters are all stored (no value makes a batch append fail)", async () => {
        const s = unique("rs");
        const values = ["plain", "nul\u0000inside", "\u0000", "Zürich ✓ 😀"];
        const p = redis.pipeline();
        for (const v of values) p.xadd(s, "*", "v", v);
        const replies = (await p.exec())!;
        assert.deepEqual(replies.map(([error]) => error), [null, null, null, null]);
        assert.deepEqual(((await redis.xrange(s, "-", "+")) as RawEntry[]).map((e) => e[1]![1]), values);
      });

      it("replies past 10,000 entries hold all that COUNT asks for, or all there are without it", async () => {
        const s = unique("rs");
        const p = redis.pipeline();
        for (let i = 0; i < 10_050; i++) p.xadd(s, "*", "i", String(i));
        await p.exec();
        assert.equal(await redis.xlen(s), 10_050);
        const all = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(all.map((e) => e[1]![1]), Array.from({ length: 10_050 }, (_, i) => String(i)));
        const ids = all.map((e) => e[0]!);
        assert.equal(((await redis.xrange(s, "-", "+", "COUNT", 10_020)) as RawEntry[]).length, 10_020);
        const newestFirst = (await redis.xrevrange(s, "+", "-", "COUNT", 20_000)) as RawEntry[];
        assert.deepEqual(newestFirst.map((e) => e[0]), [...ids].reverse());
        assert.equal(await redis.xrange(s, "-", "+", "COUNT", 0), null);

        const [[, read]] = (await redis.xread("STREAMS", s, "0")) as [string, RawEntry[]][];
        assert.deepEqual(read!.map((e) => e[0]), ids);
        await redis.xgroup("CREATE", s, "g", "0");
        const [[, fresh]] = (await redis.xreadgroup("GROUP", "g", "c", "COUNT", 10_030, "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.deepEqual(fresh!.map((e) => e[0]), ids.slice(0, 10_030));
        const [[, history]] = (await redis.xreadgroup("GROUP", "g", "c", "STREAMS", s, "0")) as [string, RawEntry[]][];
        assert.deepEqual(history!.map((e) => e[0]), ids.slice(0, 10_030));
        const listed = (await redis.xpending(s, "g", "-", "+", 20_000)) as [string, string, number, number][];
        assert.deepEqual(listed.map((row) => [row[0], row[3]]), ids.slice(0, 10_030).map((id) => [id, 2]));
        const [[, rest]] = (await redis.xreadgroup("GROUP", "g", "c", "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.deepEqual(rest!.map((e) => e[0]), ids.slice(10_030));
      });

      it("XDEL and XTRIM (MAXLEN and MINID) remove entries and say how many", async () => {
        const s = unique("rs");
        const ids: string[] = [];
        for (let i = 0; i < 10; i++) ids.push((await redis.xadd(s, "*", "i", String(i)))!);
        assert.equal(await redis.xdel(s, ids[0]!, ids[1]!, "999999999999999-0"), 2);
        assert.equal(await redis.xlen(s), 8);
        assert.equal(await redis.xtrim(s, "MAXLEN", 6), 2);
        assert.deepEqual(((await redis.xrange(s, "-", "+")) as RawEntry[]).map((e) => e[0]), ids.slice(4));
        assert.equal(await redis.xtrim(s, "MINID", "=", ids[7]!), 3);
        assert.deepEqual(((await redis.xrange(s, "-", "+")) as RawEntry[]).map((e) => e[0]), ids.slice(7));
        assert.equal(await redis.xtrim(unique("missing"), "MAXLEN", 0), 0);
        await rejectsWith(redis.call("XTRIM", s, "MAXLEN", "=", "2", "LIMIT", "5"), "ERR syntax error, LIMIT cannot be used without the special ~ option");
      });

      it("DEL, EXISTS and TYPE see streams as keys", async () => {
        const s = unique("rs");
        await redis.xadd(s, "*", "a", "1");
        assert.equal(await redis.exists(s, unique("missing"), s), 2);
        assert.equal(await redis.type(s), "stream");
        assert.equal(await redis.del(s, unique("missing")), 1);
        assert.equal(await redis.type(s), "none");
        assert.equal((await api.get(`/stream/${s}/info`)).status, 404);
      });

      it("XINFO STREAM reports length, last id, entries added, groups and the first and last entry", async () => {
        const s = unique("rs");
        const a = (await redis.xadd(s, "*", "x", "1"))!;
        const b = (await redis.xadd(s, "*", "x", "2"))!;
        await redis.xgroup("CREATE", s, "g", "0");
        const flat = (await redis.call("XINFO", "STREAM", s)) as unknown[];
        const info = new Map<string, unknown>();
        for (let i = 0; i < flat.length; i += 2) info.set(flat[i] as string, flat[i + 1]);
        assert.equal(info.get("length"), 2);
        assert.equal(info.get("last-generated-id"), b);
        assert.equal(info.get("entries-added"), 2);
        assert.equal(info.get("groups"), 1);
        assert.deepEqual(info.get("first-entry"), [a, ["x", "1"]]);
        assert.deepEqual(info.get("last-entry"), [b, ["x", "2"]]);
        await rejectsWith(redis.call("XINFO", "STREAM", unique("missing")), "ERR no such key");
      });
    });

    describe("entry mapping between HTTP and RESP", () => {
      it("an object payload added over HTTP reads as its fields over RESP, in order, non-strings as JSON text", async () => {
        const s = unique("map");
        const body = '{"b":"x","2":"two","a":1,"n":{"k":[1,"2"]},"t":true,"z":null}';
        const res = await api.post(`/stream/${s}/add`, body);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const [entry] = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.equal(entry![0], res.body.id);
        assert.deepEqual(entry![1], ["b", "x", "2", "two", "a", "1", "n", '{"k":[1,"2"]}', "t", "true", "z", "null"]);
        // Written with spaces and escapes, as a client may send it: values come out as text, arrays as written.
        const spaced = await api.post(`/stream/${s}/add`, ' { "a" : "x\\"y\\u00e9" , "b\\n" : [ 1 ] } ');
        assert.equal(spaced.status, 201, JSON.stringify(spaced.body));
        const [, second] = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(second![1], ["a", 'x"yé', "b\n", "[ 1 ]"]);
      });

      it("a payload that is not an object reads as the field 'payload' holding its JSON text", async () => {
        const s = unique("map");
        const res = await api.post(`/stream/${s}/entries`, { entries: [{ payload: [1, 2] }, { payload: "hi" }, { payload: 42 }] });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const entries = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(entries.map((e) => e[1]), [["payload", "[1,2]"], ["payload", '"hi"'], ["payload", "42"]]);
      });

      it("fields added over RESP read over HTTP as a JSON object of strings; a repeated field keeps its last value", async () => {
        const s = unique("map");
        const id = await redis.xadd(s, "*", "name", "ann", "age", "30", "quote", 'say "hi"\n', "name", "bob", "city", "Zürich ✓");
        const res = await api.get(`/stream/${s}/range`);
        assert.equal(res.status, 200);
        assert.equal(res.body.entries[0].id, id);
        assert.deepEqual(res.body.entries[0].payload, { name: "bob", age: "30", quote: 'say "hi"\n', city: "Zürich ✓" });
        const [entry] = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(entry![1], ["name", "bob", "age", "30", "quote", 'say "hi"\n', "city", "Zürich ✓"]);
      });
    });

    describe("consumer groups", () => {
      async function fill(s: string, n: number): Promise<string[]> {
        const p = redis.pipeline();
        for (let i = 0; i < n; i++) p.xadd(s, "*", "i", String(i));
        return ((await p.exec()) ?? []).map(([, id]) => id as string);
      }

      it("XGROUP CREATE, XREADGROUP >, XACK and XPENDING (summary and extended)", async () => {
        const s = unique("g");
        const ids = await fill(s, 5);
        assert.equal(await redis.xgroup("CREATE", s, "workers", "0"), "OK");
        const got = (await redis.xreadgroup("GROUP", "workers", "c1", "COUNT", 3, "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.equal(got[0]![0], s);
        assert.deepEqual(got[0]![1].map((e) => e[0]), ids.slice(0, 3));
        assert.deepEqual(got[0]![1][0]![1], ["i", "0"]);
        const rest = (await redis.xreadgroup("GROUP", "workers", "c2", "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.deepEqual(rest[0]![1].map((e) => e[0]), ids.slice(3));
        assert.equal(await redis.xreadgroup("GROUP", "workers", "c2", "STREAMS", s, ">"), null);

        assert.deepEqual(await redis.xpending(s, "workers"), [5, ids[0], ids[4], [["c1", "3"], ["c2", "2"]]]);
        clock.advance(1500);
        const extended = (await redis.xpending(s, "workers", "-", "+", 10, "c1")) as [string, string, number, number][];
        assert.deepEqual(extended, ids.slice(0, 3).map((id) => [id, "c1", 1500, 1]));
        assert.deepEqual(await redis.xpending(s, "workers", "IDLE", 2000, "-", "+", 10), []);

        assert.equal(await redis.xack(s, "workers", ids[0]!, ids[1]!, ids[0]!), 2);
        assert.equal(await redis.xack(s, "workers", ids[0]!), 0);
        const after = (await redis.xpending(s, "workers")) as unknown[];
        assert.equal(after[0], 3);
        assert.equal(after[1], ids[2]);
        assert.equal(await redis.xack(s, "nogroup", ids[2]!), 0);
      });

      it("XREADGROUP with an id re-reads the consumer's own pending entries and counts the deliveries", async () => {
        const s = unique("g");
        const ids = await fill(s, 3);
        await redis.xgroup("CREATE", s, "g", "0");
        await redis.xreadgroup("GROUP", "g", "c1", "COUNT", 2, "STREAMS", s, ">");
        const own = (await redis.xreadgroup("GROUP", "g", "c1", "STREAMS", s, "0")) as [string, RawEntry[]][];
        assert.deepEqual(own[0]![1].map((e) => e[0]), ids.slice(0, 2));
        assert.deepEqual(own[0]![1][1]![1], ["i", "1"]);
        const afterFirst = (await redis.xreadgroup("GROUP", "g", "c1", "STREAMS", s, ids[0]!)) as [string, RawEntry[]][];
        assert.deepEqual(afterFirst[0]![1].map((e) => e[0]), [ids[1]]);
        // Nothing pending for another consumer: the stream is still listed, with no entries.
        assert.deepEqual(await redis.xreadgroup("GROUP", "g", "c9", "STREAMS", s, "0"), [[s, []]]);
        const rows = (await redis.xpending(s, "g", "-", "+", 10)) as [string, string, number, number][];
        assert.deepEqual(rows.map((r) => r[3]), [2, 3], "each read of the history counts as a delivery");
      });

      it("XCLAIM and XAUTOCLAIM take over entries idle long enough; JUSTID answers ids only", async () => {
        const s = unique("g");
        const ids = await fill(s, 4);
        await redis.xgroup("CREATE", s, "g", "0");
        await redis.xreadgroup("GROUP", "g", "dead", "STREAMS", s, ">");
        assert.deepEqual(await redis.xclaim(s, "g", "alive", 10_000, ids[0]!), [], "not idle long enough yet");
        clock.advance(20_000);
        const claimed = (await redis.xclaim(s, "g", "alive", 10_000, ids[0]!)) as RawEntry[];
        assert.deepEqual(claimed, [[ids[0], ["i", "0"]]]);
        assert.deepEqual(await redis.xclaim(s, "g", "alive", 10_000, ids[1]!, "JUSTID"), [ids[1]]);

        await redis.xdel(s, ids[3]!);
        const auto = (await redis.xautoclaim(s, "g", "alive", 10_000, "0", "COUNT", 10)) as [string, RawEntry[], string[]];
        assert.equal(auto[0], "0-0");
        assert.deepEqual(auto[1].map((e) => e[0]), [ids[2]]);
        assert.deepEqual(auto[1][0]![1], ["i", "2"]);
        assert.deepEqual(auto[2], [ids[3]], "a deleted entry is reported and leaves the PEL");

        const summary = (await redis.xpending(s, "g")) as [number, string, string, [string, string][]];
        assert.equal(summary[0], 3);
        assert.deepEqual(summary[3], [["alive", "3"]]);
        const rows = (await redis.xpending(s, "g", "-", "+", 10)) as [string, string, number, number][];
        assert.deepEqual(rows.map((r) => [r[0], r[3]]), [[ids[0], 2], [ids[1], 1], [ids[2], 2]]);
        const justIds = (await redis.xautoclaim(s, "g", "other", 0, "-", "COUNT", 1, "JUSTID")) as [string, string[], string[]];
        assert.deepEqual(justIds[1], [ids[0]]);
        assert.equal(justIds[0], ids[1]);
      });

      it("XCLAIM with IDLE, RETRYCOUNT and FORCE; XREADGROUP NOACK leaves nothing pending", async () => {
        const s = unique("g");
        const ids = await fill(s, 3);
        await redis.xgroup("CREATE", s, "g", "0");
        await redis.xreadgroup("GROUP", "g", "c1", "COUNT", 1, "STREAMS", s, ">");
        await redis.xclaim(s, "g", "c2", 0, ids[0]!, "IDLE", 7000, "RETRYCOUNT", 5);
        assert.deepEqual(await redis.xpending(s, "g", "-", "+", 10), [[ids[0], "c2", 7000, 5]]);
        // FORCE takes an entry that was never delivered into the PEL, whatever the min-idle time, counted as
        // delivered once (as Redis counts it; without JUSTID the claim counts one more).
        assert.deepEqual(await redis.xclaim(s, "g", "c2", 3_600_000, ids[2]!, "FORCE", "JUSTID"), [ids[2]]);
        const forced = (await redis.xpending(s, "g", "-", "+", 10)) as [string, string, number, number][];
        assert.deepEqual(forced.map(([id, consumer, , count]) => [id, consumer, count]), [[ids[0], "c2", 5], [ids[2], "c2", 1]]);
        assert.deepEqual(((await redis.xclaim(s, "g", "c3", 0, ids[1]!, "FORCE")) as RawEntry[]).map((e) => e[0]), [ids[1]]);
        const again = (await redis.xpending(s, "g", ids[1]!, ids[1]!, 1)) as [string, string, number, number][];
        assert.deepEqual(again.map(([, consumer, , count]) => [consumer, count]), [["c3", 2]]);
        await rejectsWith(redis.xclaim(s, "g", "c2", 0, ids[1]!, "BOGUS"), "ERR Unrecognized XCLAIM option 'BOGUS'");

        const t = unique("g");
        await fill(t, 2);
        await redis.xgroup("CREATE", t, "g", "0");
        const got = (await redis.xreadgroup("GROUP", "g", "c1", "NOACK", "STREAMS", t, ">")) as [string, RawEntry[]][];
        assert.equal(got[0]![1].length, 2);
        assert.deepEqual(await redis.xpending(t, "g"), [0, null, null, null]);
      });

      it("an entry deleted while pending comes back from XREADGROUP … 0 as its id and a nil array, as Redis sends it", async () => {
        const s = unique("g");
        const ids = await fill(s, 2);
        await redis.xgroup("CREATE", s, "g", "0");
        await redis.xreadgroup("GROUP", "g", "c", "STREAMS", s, ">");
        await redis.xdel(s, ids[0]!);
        const reply = await raw(server.respPort!, `XREADGROUP GROUP g c STREAMS ${s} 0\r\n`, { until: (text) => text.includes(`${ids[1]}\r\n*2`) });
        assert.ok(reply.text.includes(`$${ids[0]!.length}\r\n${ids[0]}\r\n*-1\r\n`), JSON.stringify(reply.text));
      });

      it("XGROUP CREATECONSUMER, DELCONSUMER, SETID and DESTROY; XINFO GROUPS and CONSUMERS", async () => {
        const s = unique("g");
        const ids = await fill(s, 3);
        await redis.xgroup("CREATE", s, "g", "$");
        assert.equal(await redis.xreadgroup("GROUP", "g", "c1", "STREAMS", s, ">"), null, "$ starts after the last entry");
        const unread = (await redis.call("XINFO", "GROUPS", s)) as unknown[][];
        assert.deepEqual(unread[0]!.slice(8), ["entries-read", null, "lag", 0], "nil until the group has read something");
        assert.equal(await redis.xgroup("SETID", s, "g", ids[0]!), "OK");
        await redis.xreadgroup("GROUP", "g", "c1", "STREAMS", s, ">");
        assert.equal(await redis.call("XGROUP", "CREATECONSUMER", s, "g", "c2"), 1);
        assert.equal(await redis.call("XGROUP", "CREATECONSUMER", s, "g", "c2"), 0);

        const groups = (await redis.call("XINFO", "GROUPS", s)) as unknown[][];
        assert.equal(groups.length, 1);
        // As in Redis, entries-read is the group's place among the 3 entries ever added: lag = entries-added - entries-read.
        assert.deepEqual(groups[0], ["name", "g", "consumers", 2, "pending", 2, "last-delivered-id", ids[2], "entries-read", 3, "lag", 0]);

        // Entries deleted past a group's position make its standing unknown: its own count of entries read stands in.
        const t = unique("g");
        const tids = await fill(t, 5);
        await redis.xgroup("CREATE", t, "h", "0");
        await redis.xreadgroup("GROUP", "h", "c", "COUNT", 1, "STREAMS", t, ">");
        await redis.xdel(t, tids[4]!);
        const afterDelete = (await redis.call("XINFO", "GROUPS", t)) as unknown[][];
        assert.deepEqual(afterDelete[0]!.slice(8), ["entries-read", 1, "lag", 3]);
        clock.advance(1234);
        assert.deepEqual(await redis.call("XINFO", "CONSUMERS", s, "g"), [
          ["name", "c1", "pending", 2, "idle", 1234, "inactive", 1234],
          ["name", "c2", "pending", 0, "idle", 1234, "inactive", -1],
        ]);

        assert.equal(await redis.call("XGROUP", "DELCONSUMER", s, "g", "c1"), 2);
        assert.equal(await redis.call("XGROUP", "DELCONSUMER", s, "g", "nobody"), 0);
        const again = (await redis.xreadgroup("GROUP", "g", "c2", "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.deepEqual(again[0]![1].map((e) => e[0]), ids.slice(1), "the deleted consumer's entries went back to the group");
        assert.ok(((await redis.call("XGROUP", "HELP")) as string[]).some((line) => line.startsWith("CREATECONSUMER")));
        assert.equal(await redis.xgroup("DESTROY", s, "g"), 1);
        assert.equal(await redis.xgroup("DESTROY", s, "g"), 0);
        assert.deepEqual(await redis.call("XINFO", "GROUPS", s), []);
      });

      it("XGROUP CREATE takes MKSTREAM and ENTRIESREAD in any order; an unknown option is Redis's syntax error", async () => {
        const s = unique("g");
        assert.equal(await redis.call("XGROUP", "CREATE", s, "g", "0", "ENTRIESREAD", "5", "MKSTREAM"), "OK");
        assert.equal(await redis.type(s), "stream");
        assert.equal(await redis.call("XGROUP", "CREATE", s, "g2", "0", "MKSTREAM", "ENTRIESREAD", "5"), "OK");
        await rejectsWith(
          redis.call("XGROUP", "create", s, "g3", "0", "BOGUS"),
          "ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP.",
        );
        await rejectsWith(
          redis.call("XGROUP", "SETID", s, "g", "0", "MKSTREAM"),
          "ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.",
        );
        assert.deepEqual(((await redis.call("XINFO", "GROUPS", s)) as unknown[][]).map((g) => g[1]), ["g", "g2"]);
      });

      it("XREADGROUP over several streams answers each stream's entries; a missing group on one delivers nothing", async () => {
        const a = unique("g");
        const b = unique("g");
        const idsA = await fill(a, 2);
        const idsB = await fill(b, 1);
        await redis.xgroup("CREATE", a, "g", "0");
        await redis.xgroup("CREATE", b, "g", "0");
        const got = (await redis.xreadgroup("GROUP", "g", "c1", "STREAMS", a, b, ">", ">")) as [string, RawEntry[]][];
        assert.deepEqual(got.map(([key, entries]) => [key, entries.map((e) => e[0])]), [[a, idsA], [b, idsB]]);

        const c = unique("g");
        await fill(c, 1);
        const late = await redis.xadd(a, "*", "i", "late");
        await rejectsWith(redis.xreadgroup("GROUP", "g", "c1", "STREAMS", a, c, ">", ">"), /^NOGROUP No such key '.*' or consumer group 'g'/);
        assert.equal(((await redis.xpending(a, "g")) as unknown[])[0], 2, "the new entry of the first stream was not delivered");
        const next = (await redis.xreadgroup("GROUP", "g", "c2", "STREAMS", a, ">")) as [string, RawEntry[]][];
        assert.deepEqual(next[0]![1].map((e) => e[0]), [late]);
      });

      it("XGROUP CREATE MKSTREAM makes the stream; without it a missing stream is an error", async () => {
        const s = unique("g");
        await rejectsWith(redis.xgroup("CREATE", s, "g", "$"), /^ERR The XGROUP subcommand requires the key to exist/);
        assert.equal(await redis.exists(s), 0);
        assert.equal(await redis.xgroup("CREATE", s, "g", "$", "MKSTREAM"), "OK");
        assert.equal(await redis.type(s), "stream");
      });
    });

    describe("blocking reads", () => {
      it("XREAD BLOCK with $ is woken by an XADD from another connection", async () => {
        const s = unique("b");
        await redis.xadd(s, "*", "old", "1");
        const reader = await connect();
        const read = reader.xread("BLOCK", 4000, "STREAMS", s, "$") as Promise<[string, RawEntry[]][] | null>;
        await sleep(100);
        const id = await redis.xadd(s, "*", "new", "2");
        const got = await read;
        assert.deepEqual(got, [[s, [[id, ["new", "2"]]]]]);
      });

      it("XREAD BLOCK over several streams answers the one that got an entry; a timeout answers nil", async () => {
        const a = unique("b");
        const b = unique("b");
        const reader = await connect();
        assert.equal(await reader.xread("BLOCK", 50, "STREAMS", a, b, "$", "$"), null);
        const read = reader.xread("COUNT", 10, "BLOCK", 4000, "STREAMS", a, b, "$", "$") as Promise<[string, RawEntry[]][] | null>;
        await sleep(100);
        const id = await redis.xadd(b, "*", "k", "v");
        assert.deepEqual(await read, [[b, [[id, ["k", "v"]]]]]);
        const history = (await redis.xread("STREAMS", a, b, "0", "0")) as [string, RawEntry[]][];
        assert.deepEqual(history.map((r) => r[0]), [b]);
      });

      it("XREADGROUP BLOCK is woken by a new entry and delivers it to the waiting consumer", async () => {
        const s = unique("b");
        await redis.xgroup("CREATE", s, "g", "$", "MKSTREAM");
        const reader = await connect();
        const read = reader.xreadgroup("GROUP", "g", "c1", "BLOCK", 4000, "STREAMS", s, ">") as Promise<[string, RawEntry[]][] | null>;
        await sleep(100);
        const id = await redis.xadd(s, "*", "job", "1");
        assert.deepEqual(await read, [[s, [[id, ["job", "1"]]]]]);
        assert.deepEqual(await redis.xpending(s, "g"), [1, id, id, [["c1", "1"]]]);
      });
    });

    describe("blocking reads and failures", () => {
      it("XREADGROUP BLOCK over several streams stops waiting on all of them when one fails", async () => {
        const a = unique("b");
        const b = unique("b");
        await redis.xgroup("CREATE", a, "g", "$", "MKSTREAM");
        await redis.xgroup("CREATE", b, "g", "$", "MKSTREAM");
        const reader = await connect();
        const read = reader.xreadgroup("GROUP", "g", "c1", "BLOCK", 3000, "STREAMS", a, b, ">", ">").then(
          (value) => ({ value }),
          (error: Error) => ({ error: error.message }),
        );
        await sleep(150);
        assert.equal(await redis.del(a), 1);
        assert.deepEqual(await read, { error: `NOGROUP No such key '${a}' or consumer group 'g' in XREADGROUP with GROUP option` });
        const id = await redis.xadd(b, "*", "k", "v");
        await sleep(200);
        assert.deepEqual(await redis.xpending(b, "g"), [0, null, null, null], "nobody was handed the entry");
        const got = (await redis.xreadgroup("GROUP", "g", "c2", "STREAMS", b, ">")) as [string, RawEntry[]][];
        assert.deepEqual(got[0]![1].map((e) => e[0]), [id]);
      });
    });

    describe("blocking reads and disconnects", () => {
      it("a client that disconnects while blocked in XREADGROUP is not handed the next entry", async () => {
        const s = unique("b");
        await redis.xgroup("CREATE", s, "g", "$", "MKSTREAM");
        const gone = await connect();
        void gone.xreadgroup("GROUP", "g", "gone", "BLOCK", 4000, "STREAMS", s, ">").catch(() => undefined);
        await sleep(100);
        gone.disconnect();
        await sleep(100);
        const id = await redis.xadd(s, "*", "job", "1");
        const got = (await redis.xreadgroup("GROUP", "g", "alive", "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.deepEqual(got[0]![1].map((e) => e[0]), [id]);
      });
    });

    describe("errors change nothing", () => {
      it("bad ids, numbers and options are refused with Redis's texts", async () => {
        const s = unique("e");
        await redis.xadd(s, "*", "a", "1");
        await rejectsWith(redis.xrange(s, "nope", "+"), "ERR Invalid stream ID specified as stream command argument");
        await rejectsWith(redis.xrange(s, "-", "+", "COUNT", "many"), "ERR value is not an integer or out of range");
        await rejectsWith(redis.xack(s, "g", "1-x"), "ERR Invalid stream ID specified as stream command argument");
        await rejectsWith(redis.call("XREAD", "BLOCK", "-1", "STREAMS", s, "$"), "ERR timeout is negative");
        await rejectsWith(redis.call("XREAD", "STREAMS", s, s, "0"), "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        await rejectsWith(redis.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", s, s, ">"), /^ERR Unbalanced XREAD list of streams/);
        await rejectsWith(redis.call("XREAD", "STREAMS", s, ">"), /^ERR The > ID can be specified only when calling XREADGROUP/);
        await rejectsWith(redis.call("XREAD", "NOACK", "STREAMS", s, "0"), "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        await rejectsWith(redis.call("XADD", s, "MAXLEN", "abc", "*", "a", "1"), "ERR value is not an integer or out of range");
        await rejectsWith(redis.call("XTRIM", s, "MAXLEN", "~", "1", "LIMIT", "abc"), "ERR value is not an integer or out of range");
        await rejectsWith(redis.call("XTRIM", s, "MAXLEN", "~", "1", "LIMIT", "-1"), "ERR The LIMIT argument must be >= 0.");
        await rejectsWith(redis.call("XINFO", "STREAM", s, "FULL", "COUNT", "5"), "ERR XINFO STREAM FULL is not supported by Runnel");
        await rejectsWith(redis.call("XINFO", "STREAM", s, "BOGUS"), "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.");
        await redis.xgroup("CREATE", s, "g", "0");
        await rejectsWith(redis.xautoclaim(s, "g", "c", 0, "0", "COUNT", "abc"), "ERR COUNT must be > 0");
        assert.equal(await redis.xlen(s), 1);
      });

      it("XPENDING with COUNT 0 or an empty range answers [] for a group and NOGROUP without one; RETRYCOUNT -1 is ignored", async () => {
        const s = unique("e");
        const id = (await redis.xadd(s, "*", "a", "1"))!;
        await redis.xgroup("CREATE", s, "g", "0");
        await redis.xreadgroup("GROUP", "g", "c1", "STREAMS", s, ">");
        assert.deepEqual(await redis.xpending(s, "g", "-", "+", 0), []);
        assert.deepEqual(await redis.xpending(s, "g", "(0-1", "(0-2", 10), []);
        await rejectsWith(redis.xpending(s, "nope", "-", "+", 0), `NOGROUP No such key '${s}' or consumer group 'nope'`);
        await redis.xclaim(s, "g", "c2", 0, id, "RETRYCOUNT", "-1");
        assert.deepEqual(((await redis.xpending(s, "g", "-", "+", 10)) as unknown[][]).map((r) => [r[1], r[3]]), [["c2", 2]]);
      });

      it("a missing group is NOGROUP and an existing one is BUSYGROUP", async () => {
        const s = unique("e");
        await redis.xadd(s, "*", "a", "1");
        await rejectsWith(
          redis.xreadgroup("GROUP", "nope", "c", "STREAMS", s, ">"),
          `NOGROUP No such key '${s}' or consumer group 'nope' in XREADGROUP with GROUP option`,
        );
        await rejectsWith(redis.xpending(s, "nope"), `NOGROUP No such key '${s}' or consumer group 'nope'`);
        await rejectsWith(redis.xautoclaim(s, "nope", "c", 0, "0"), /^NOGROUP /);
        await rejectsWith(redis.call("XINFO", "CONSUMERS", s, "nope"), `NOGROUP No such consumer group 'nope' for key name '${s}'`);
        await redis.xgroup("CREATE", s, "g", "0");
        await rejectsWith(redis.xgroup("CREATE", s, "g", "0"), "BUSYGROUP Consumer Group name already exists");
      });

      it("a bad XADD stores nothing, alone or in the middle of a pipeline", async () => {
        const s = unique("e");
        await redis.xadd(s, "*", "a", "1");
        await rejectsWith(redis.xadd(s, "not-an-id", "a", "1"), "ERR Invalid stream ID specified as stream command argument");
        await rejectsWith(redis.call("XADD", s, "*", "a", "1", "b"), "ERR wrong number of arguments for 'xadd' command");
        await rejectsWith(redis.call("XADD", s, "MAXLEN", "-1", "*", "a", "1"), "ERR The MAXLEN argument must be >= 0.");
        await rejectsWith(redis.call("XADD", "bad name!", "*", "a", "1"), /^ERR stream must be/);
        assert.equal(await redis.xlen(s), 1);
        const p = redis.pipeline();
        p.xadd(s, "*", "n", "1");
        p.call("XADD", s, "*", "odd");
        p.xadd(s, "*", "n", "2");
        const replies = (await p.exec())!;
        assert.equal(replies[0]![0], null);
        assert.match(String(replies[1]![0]), /wrong number of arguments/);
        assert.equal(replies[2]![0], null);
        const entries = (await redis.xrange(s, "-", "+")) as RawEntry[];
        assert.deepEqual(entries.map((e) => e[1]), [["a", "1"], ["n", "1"], ["n", "2"]]);
        assert.equal(await redis.xlen("bad name!"), 0);
      });

      it("keys with Redis hash tags work, and are the streams HTTP serves under the same name", async () => {
        const s = unique("app:{user1}:events");
        const id = await redis.xadd(s, "*", "a", "1");
        await redis.xgroup("CREATE", s, "{g}", "0");
        const [[, got]] = (await redis.xreadgroup("GROUP", "{g}", "c", "STREAMS", s, ">")) as [string, RawEntry[]][];
        assert.deepEqual(got!.map((e) => e[0]), [id]);
        const res = await fetch(`${server.url}/stream/${encodeURIComponent(s)}/range`);
        assert.deepEqual(((await res.json()) as { entries: { id: string }[] }).entries.map((e) => e.id), [id]);
      });
    });
  });

  describe(`Redis protocol limits and shutdown (${backend.name})`, () => {
    // A test timeout, not an assertion on time: a read that did not end as promised hangs the test instead.
    it("BLOCK 0 waits at most --max-block, then answers nil", { timeout: 20_000 }, async () => {
      const server = await startTestServer(await backend.fresh(), { respPort: 0, maxBlockMs: 300 });
      const redis = await connectResp(server.respPort!);
      try {
        const started = Date.now();
        assert.equal(await redis.xread("BLOCK", 0, "STREAMS", unique("s"), "$"), null);
        const waited = Date.now() - started;
        assert.ok(waited >= 250, `it answered after ${waited} ms, before --max-block`);
      } finally {
        redis.disconnect();
        await server.close();
      }
    });

    it("closing the server ends a blocked XREAD and closes the RESP connection", { timeout: 20_000 }, async () => {
      // With an hour of --max-block, only the shutdown can end the read within the test's timeout.
      const server = await startTestServer(await backend.fresh(), { respPort: 0, maxBlockMs: 3_600_000 });
      const redis = await connectResp(server.respPort!);
      try {
        const s = unique("shut");
        const read = redis.xread("BLOCK", 0, "STREAMS", s, "$").then(
          (value) => ({ value }),
          (error: Error) => ({ error }),
        );
        await sleep(100);
        await server.close();
        assert.deepEqual(await read, { value: null });
        await sleep(50);
        assert.notEqual(redis.status, "ready");
      } finally {
        redis.disconnect();
        await server.close();
        await backend.cleanup();
      }
    });
  });
}
