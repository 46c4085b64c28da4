// The client commands of `runnel` (publish, tail, consume, info, pending, trim, dlq, bench) run as child processes against a real server.
// SQLite only: these tests check the command line (arguments, output, exit codes), not storage, which the
// conformance suites cover on every backend.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { NotFoundError, RawJson, RunnelClient } from "../src/client/index.js";
import { ensureBuilt } from "./helpers/build.js";
import { backends, type Backend } from "./helpers/backends.js";
import { lines, runnel, type Run } from "./helpers/cli.js";
import { unique } from "./helpers/http.js";
import { MAIN, startTestServer } from "./helpers/server.js";

/** The frames a progress line drew on stderr: the pieces between carriage returns that are not blank. */
const frames = (stderr: string) => stderr.split("\r").filter((f) => f.trim() !== "" && !f.startsWith("published"));

/** `script` gives a command a terminal (util-linux syntax); without it the terminal defaults cannot be checked. */
const scriptMissing = (() => {
  if (process.platform !== "linux") return "needs util-linux script";
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return false;
  } catch {
    return "script is not installed";
  }
})();

/** Runs `node dist/cli/main.js ...args` with stdin, stdout and stderr on a pseudo-terminal; answers what it printed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, MAIN, ...args].map(quote).join(" ");
  const proc = spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ code, stdout: stdout.replace(/\r\n/g, "\n"), stderr: "" }));
  });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("runnel client commands", () => {
  let sqlite: Backend;
  let server: RunningServer;
  let url: string;
  let client: RunnelClient;
  const cli = (args: string[], input?: string) => runnel(args, { url, ...(input === undefined ? {} : { input }) });

  const scratch = mkdtempSync(join(tmpdir(), "runnel-cli-"));

  before(async () => {
    ensureBuilt();
    sqlite = (await backends()).find((b) => b.name === "sqlite")!;
    server = await startTestServer(await sqlite.fresh());
    url = server.url;
    client = new RunnelClient({ url });
  });

  after(async () => {
    await server?.close();
    await sqlite?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("publishes arguments, and info shows the length", async () => {
    const stream = unique("args");
    const pub = await cli(["publish", stream, '{"n":1}', '{"n":2}', '"three"', "--ids"]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(lines(pub.stdout).length, 3);
    assert.match(pub.stderr, /published 3 entries to \S+ in [\d.]+ s \(\d+\/s, 1 request\)/);
    const info = await cli(["info", stream]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^length\s+3$/m);
    assert.match(info.stdout, new RegExp(`^last id\\s+${lines(pub.stdout)[2]}$`, "m"));
    const raw = await cli(["info", stream, "--json"]);
    assert.equal(JSON.parse(raw.stdout).length, 3);
  });

  it("a reader that closes the pipe early (runnel info | head) ends the command quietly", async () => {
    const stream = unique("pipe");
    assert.equal((await cli(["publish", stream, '{"n":1}'])).code, 0);
    for (const args of [["info", stream], ["pending", stream, "nobody"], ["dlq", "list", stream]]) {
      const proc = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, RUNNEL_URL: url }, stdio: ["ignore", "pipe", "pipe"] });
      // Our end of its stdout closes before it writes anything, as `head` does once it has its lines.
      proc.stdout.destroy();
      let stderr = "";
      proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => proc.once("close", resolve));
      assert.doesNotMatch(stderr, /EPIPE|at .*\.js:\d+/, `${args[0]}: ${stderr}`);
      assert.ok(code === 0 || /does not exist|not found/.test(stderr), `${args[0]} exited ${code}: ${stderr}`);
    }
  });

  it("publishes 1000 JSON lines piped to stdin", async () => {
    const stream = unique("stdin");
    const input = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i })).join("\n") + "\n";
    const pub = await cli(["publish", stream], input);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout, "");
    assert.match(pub.stderr, /published 1000 entries .*\/s/);
    assert.equal(await client.streams.len(stream), 1000);
    const [first] = await client.streams.range<{ i: number }>(stream, { count: 1 });
    assert.deepEqual(first?.payload, { i: 0 });
  });

  it("publishes each line's JSON as written: numbers beyond double precision keep their digits", async () => {
    const stream = unique("digits");
    const lines = ['{"id":12345678901234567890}', "  [1.50, 2]  "];
    const pub = await cli(["publish", stream], lines.join("\n") + "\n");
    assert.equal(pub.code, 0, pub.stderr);
    const raw = await (await fetch(`${url}/stream/${stream}/range`)).text();
    assert.ok(raw.includes('"payload":{"id":12345678901234567890}'), raw);
    assert.ok(raw.includes('"payload":[1.50, 2]'), raw);
  });

  it("tail, consume and dlq list print payloads as stored: digits beyond double precision and 1.50 are kept", async () => {
    const stream = unique("exact");
    const payload = '{"id":12345678901234567890,"price":1.50,"tags":[]}';
    await client.streams.append(stream, new RawJson(payload), { type: "t" });
    await client.streams.append(`${stream}:dlq`, new RawJson(payload));
    const tailed = await cli(["tail", stream, "--from", "0", "--count", "1", "--format", "json"]);
    assert.equal(tailed.code, 0, tailed.stderr);
    const line = lines(tailed.stdout)[0]!;
    assert.ok(line.includes(`"payload":${payload},"priority":"NORMAL"`), line);
    assert.deepEqual(
      Object.keys(JSON.parse(line)),
      ["id", "partition", "offset", "key", "type", "headers", "payload", "priority", "correlationId", "causationId", "messageId", "timestamp", "deliverAt"],
    );
    const consumed = await cli(["consume", stream, "g", "--start", "0", "--count", "1", "--format", "json"]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.ok(consumed.stdout.includes(`"payload":${payload},`), consumed.stdout);
    const pretty = await cli(["tail", stream, "--from", "0", "--count", "1", "--format", "pretty"]);
    assert.match(pretty.stdout, /\n {2}\{\n {4}"id": 12345678901234567890,\n {4}"price": 1\.50,\n {4}"tags": \[\]\n {2}\}\n/);
    const dead = await cli(["dlq", "list", stream, "--json"]);
    assert.equal(dead.code, 0, dead.stderr);
    assert.match(dead.stdout, /\n {6}"payload": \{\n {8}"id": 12345678901234567890,\n {8}"price": 1\.50,/);
    assert.equal(JSON.parse(dead.stdout).entries.length, 1);

    // A payload stored with line breaks still prints as one JSON line.
    await client.streams.append(stream, new RawJson('{\n  "text": "a b\\n c",\n\t"n": [ 1 ,\r\n 2 ]\n}'));
    const both = lines((await cli(["tail", stream, "--from", "0", "--count", "2", "--format", "json"])).stdout);
    assert.equal(both.length, 2, both.join("\n"));
    assert.ok(both[1]!.includes('"payload":{"text":"a b\\n c","n":[1,2]},'), both[1]);
  });

  it("publishes JSON lines from --file, in order, skipping blank lines", async () => {
    const stream = unique("file");
    const path = join(scratch, `${stream}.jsonl`);
    const payloads = Array.from({ length: 500 }, (_, i) => ({ i, name: `n${i}` }));
    writeFileSync(path, payloads.map((p, i) => JSON.stringify(p) + (i === 200 ? "\n\n" : "\n")).join(""));
    const pub = await cli(["publish", stream, "--file", path, "--ids"]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stderr, /^published 500 entries to \S+ in [\d.]+ s \(\d+\/s, \d+ requests?\)\n$/);
    const stored = await client.streams.range(stream, { count: 1000 });
    assert.deepEqual(stored.map((e) => e.payload), payloads);
    assert.deepEqual(lines(pub.stdout), stored.map((e) => e.id));
  });

  it("--file that cannot be read is one line: a missing file or a folder exits 2, a bad line exits 1", async () => {
    const missing = join(scratch, "nope.jsonl");
    const gone = await cli(["publish", unique("file"), "--file", missing]);
    assert.equal(gone.code, 2, gone.stderr);
    assert.equal(gone.stderr, `runnel: cannot read --file ${missing}: no such file\n`);
    const folder = await cli(["publish", unique("file"), "--file", scratch]);
    assert.equal(folder.code, 2, folder.stderr);
    assert.equal(folder.stderr, `runnel: cannot read --file ${scratch}: it is a directory\n`);
    const bad = join(scratch, "bad.jsonl");
    writeFileSync(bad, '{"ok":1}\nnot json\n');
    const run = await cli(["publish", unique("file"), "--file", bad]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr, `runnel: ${bad} line 2 is not JSON: not json (1 entry stored)\n`);
  });

  it("--progress draws a progress line with the rate on stderr; without a terminal there is none unless asked", async () => {
    const stream = unique("progress");
    const forced = await cli(["publish", stream, '{"n":1}', '{"n":2}', '{"n":3}', "--progress"]);
    assert.equal(forced.code, 0, forced.stderr);
    const drawn = frames(forced.stderr);
    assert.ok(drawn.length >= 2, forced.stderr);
    // The last frame is the final state: the whole bar, the count of the total, a rate and the time taken.
    assert.match(drawn.at(-1)!, /^\[#{20}\]\s+100%\s+3\/3 entries\s+[1-9]\d*\/s\s+0:00\s*$/);
    assert.match(forced.stderr, /\rpublished 3 entries to \S+ in/);

    const path = join(scratch, `${stream}.jsonl`);
    writeFileSync(path, Array.from({ length: 300 }, (_, i) => JSON.stringify({ i })).join("\n") + "\n");
    const byBytes = await cli(["publish", stream, "--file", path, "--progress"]);
    assert.equal(byBytes.code, 0, byBytes.stderr);
    assert.match(frames(byBytes.stderr).at(-1)!, /^\[#{20}\]\s+100%\s+300 entries\s+[1-9]\d*\/s\s+0:00\s*$/);
    for (const frame of frames(byBytes.stderr)) {
      if (/\s100%\s/.test(frame)) assert.match(frame, /\s300 entries/, "100% only once every entry is stored");
    }
    const piped = await cli(["publish", stream, "--progress"], '{"a":1}\n{"a":2}\n');
    assert.match(frames(piped.stderr).at(-1)!, /^2 entries\s+[1-9]\d*\/s\s+0:00\s*$/, "no total, no bar");

    const plain = await cli(["publish", stream, "--file", path]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.ok(!plain.stderr.includes("\r"), plain.stderr);
    assert.equal(lines(plain.stderr).length, 1, plain.stderr);
    const quiet = await cli(["publish", stream, "--file", path, "--quiet"]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, "");
    assert.equal(await client.streams.len(stream), 3 + 300 + 2 + 300 + 300);
    const both = await cli(["publish", stream, "1", "--progress", "--no-progress"]);
    assert.equal(both.code, 2, both.stderr);
  });

  it("tails from the start and stops after --count", async () => {
    const stream = unique("tail");
    await client.streams.appendBatch(stream, [1, 2, 3, 4, 5].map((n) => ({ payload: { n } })));
    const run = await cli(["tail", stream, "--from", "0", "--count", "3"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(
      lines(run.stdout).map((l) => JSON.parse(l).payload),
      [{ n: 1 }, { n: 2 }, { n: 3 }],
    );
  });

  it("tail --no-wait prints what the stream holds, up to --count, and stops", async () => {
    const stream = unique("nowait");
    await client.streams.appendBatch(stream, [1, 2, 3].map((n) => ({ payload: { n } })));
    const run = await cli(["tail", stream, "--from", "0", "--count", "10", "--no-wait"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(lines(run.stdout).map((l) => JSON.parse(l).payload), [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const all = await cli(["tail", stream, "--from", "0", "--no-wait"]);
    assert.equal(lines(all.stdout).length, 3, all.stderr);
  });

  it("tails entries appended after it started", async () => {
    const stream = unique("follow");
    await client.streams.append(stream, { old: true });
    const running = cli(["tail", stream, "--count", "1"]);
    // Append a few times: the tail may not have read the current last id yet when the first one lands.
    let seen: Run | undefined;
    void running.then((r) => (seen = r));
    for (let i = 0; !seen && i < 50; i++) {
      await client.streams.append(stream, { fresh: i });
      await new Promise((r) => setTimeout(r, 100));
    }
    const run = await running;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(lines(run.stdout).length, 1);
    assert.ok("fresh" in JSON.parse(run.stdout).payload, run.stdout);
  });

  it("consumes as a group member: prints and acks, or leaves pending with --no-ack", async () => {
    const stream = unique("jobs");
    await client.streams.appendBatch(stream, [1, 2, 3].map((n) => ({ payload: { n } })));
    const acked = await cli(["consume", stream, "workers", "--start", "0", "--count", "2", "--consumer", "c1"]);
    assert.equal(acked.code, 0, acked.stderr);
    assert.deepEqual(
      lines(acked.stdout).map((l) => [JSON.parse(l).payload, JSON.parse(l).deliveryCount]),
      [[{ n: 1 }, 1], [{ n: 2 }, 1]],
    );
    assert.equal((await client.groups.pending(stream, "workers")).count, 0);
    // A consumed entry's JSON line has the fields tail prints, plus its delivery count.
    const tailed = JSON.parse(lines((await cli(["tail", stream, "--from", "0", "--count", "1"])).stdout)[0]!);
    assert.deepEqual(Object.keys(JSON.parse(lines(acked.stdout)[0]!)), [...Object.keys(tailed), "deliveryCount"]);
    const kept = await cli(["consume", stream, "workers", "--count", "1", "--no-ack", "--consumer", "c2"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.deepEqual(lines(kept.stdout).map((l) => JSON.parse(l).payload), [{ n: 3 }]);
    const pending = await client.groups.pending(stream, "workers");
    assert.equal(pending.count, 1);
    assert.deepEqual(pending.consumers.map((c) => c.name), ["c2"]);
  });

  it("tail and consume --format pretty print a header per entry and the indented payload", async () => {
    const stream = unique("pretty");
    const [first, second] = await client.streams.appendBatch(stream, [
      { payload: { order: 7, lines: [1, 2] }, type: "OrderCreated", key: "customer-1" },
      { payload: "plain" },
    ]);
    const stored = await client.streams.range(stream);
    const iso = (i: number) => new Date(stored[i]!.timestamp).toISOString();
    const tailed = await cli(["tail", stream, "--from", "0", "--count", "2", "--format", "pretty"]);
    assert.equal(tailed.code, 0, tailed.stderr);
    assert.equal(
      tailed.stdout,
      [
        `${first!.id}  OrderCreated  partition 0  key customer-1  ${iso(0)}`,
        "  {",
        '    "order": 7,',
        '    "lines": [',
        "      1,",
        "      2",
        "    ]",
        "  }",
        "",
        `${second!.id}  -  partition 0  key -  ${iso(1)}`,
        '  "plain"',
        "",
        "",
      ].join("\n"),
    );
    const consumed = await cli(["consume", stream, "g", "--start", "0", "--count", "1", "--format", "pretty"]);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.equal(lines(consumed.stdout)[0], `${first!.id}  OrderCreated  partition 0  key customer-1  ${iso(0)}  delivery 1`);
    assert.match(consumed.stdout, /^ {4}"order": 7,$/m);
  });

  it("--format json prints the JSON lines of before; a wrong --format exits 2 naming the choices", async () => {
    const stream = unique("json");
    await client.streams.appendBatch(stream, [{ payload: { n: 1 }, type: "t" }, { payload: { n: 2 } }]);
    const stored = await client.streams.range(stream);
    const explicit = await cli(["tail", stream, "--from", "0", "--count", "2", "--format", "json"]);
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.deepEqual(lines(explicit.stdout).map((l) => JSON.parse(l)), stored);
    const byDefault = await cli(["tail", stream, "--from", "0", "--count", "2"]);
    assert.equal(byDefault.stdout, explicit.stdout);
    const consumed = await cli(["consume", stream, "g", "--start", "0", "--count", "2", "--format", "json"]);
    assert.deepEqual(
      lines(consumed.stdout).map((l) => JSON.parse(l)),
      stored.map((e) => ({ ...e, deliveryCount: 1 })),
    );
    for (const args of [["tail", stream, "--format", "xml"], ["consume", stream, "g", "--format", "Pretty"]]) {
      const run = await cli(args);
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, `runnel: --format must be json or pretty, got '${args.at(-1)}'\n`);
    }
  });

  it("on a terminal, tail is pretty and coloured unless NO_COLOR, and publish shows progress", { skip: scriptMissing }, async () => {
    const stream = unique("tty");
    const { id } = await client.streams.append(stream, { hello: "terminal" }, { type: "greeting" });
    const tail = ["tail", stream, "--from", "0", "--count", "1"];
    const coloured = await onTerminal(tail, { RUNNEL_URL: url, NO_COLOR: "" });
    assert.equal(coloured.code, 0, coloured.stdout);
    assert.ok(coloured.stdout.includes(`\x1b[1;33m${id}\x1b[0m`), JSON.stringify(coloured.stdout));
    assert.match(coloured.stdout, /^ {4}"hello": "terminal"$/m);
    const plain = await onTerminal(tail, { RUNNEL_URL: url, NO_COLOR: "1" });
    assert.ok(!plain.stdout.includes("\x1b["), JSON.stringify(plain.stdout));
    assert.match(plain.stdout, new RegExp(`^${id}  greeting  partition 0  key -  \\S+Z$`, "m"));
    const pub = await onTerminal(["publish", stream, "1", "2"], { RUNNEL_URL: url });
    assert.equal(pub.code, 0, pub.stdout);
    assert.match(pub.stdout, /\r\[#{20}\]\s+100%\s+2\/2 entries/);
    assert.match(pub.stdout, /published 2 entries/);
  });

  it("shows a group's pending entries as a table", async () => {
    const stream = unique("pending");
    const ids = (await client.streams.appendBatch(stream, [{ payload: 1 }, { payload: 2 }, { payload: 3 }])).map((r) => r.id);
    await client.groups.create(stream, "billing", { startId: "0" });
    await client.groups.read(stream, "billing", "w1", { count: 2 });
    const run = await cli(["pending", stream, "billing"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^2 pending/);
    assert.match(run.stdout, /^ID\s+CONSUMER\s+IDLE\s+DELIVERIES$/m);
    assert.match(run.stdout, new RegExp(`^${ids[0]}\\s+w1\\s+\\S+\\s+1$`, "m"));
    assert.match(run.stdout, new RegExp(`^${ids[1]}\\s+w1\\s+\\S+\\s+1$`, "m"));
    const info = await cli(["info", stream]);
    assert.match(info.stdout, /^billing\s+1\s+2\s+\d+\s+\S+$/m);
  });

  it("trims by --maxlen and by --minid", async () => {
    const stream = unique("trim");
    const ids = (await client.streams.appendBatch(stream, [1, 2, 3, 4, 5].map((n) => ({ payload: n })))).map((r) => r.id);
    const byLen = await cli(["trim", stream, "--maxlen", "3"]);
    assert.equal(byLen.code, 0, byLen.stderr);
    assert.match(byLen.stdout, /trimmed 2 entries/);
    const byId = await cli(["trim", stream, "--minid", ids[4]!]);
    assert.match(byId.stdout, /trimmed 2 entries/);
    assert.equal(await client.streams.len(stream), 1);
    const neither = await cli(["trim", stream]);
    assert.equal(neither.code, 2);
  });

  it("lists no dead letters for a stream without any, and reprocesses none", async () => {
    const stream = unique("dlq");
    await client.streams.append(stream, { ok: true });
    const list = await cli(["dlq", "list", stream]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `no dead letters in ${stream}:dlq\n`);
    const json = await cli(["dlq", "list", stream, "--json"]);
    assert.deepEqual(JSON.parse(json.stdout).entries, []);
    const reprocess = await cli(["dlq", "reprocess", stream]);
    assert.equal(reprocess.code, 0, reprocess.stderr);
    assert.match(reprocess.stdout, /reprocessed 0/);
  });

  it("bench --count 2000 appends and consumes, prints both phases, and deletes its stream", async () => {
    const stream = unique("bench");
    const run = await cli(["bench", "--count", "2000", "--stream", stream]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^PHASE\s+ENTRIES\s+SECONDS\s+MSGS\/S\s+P50 MS\s+P99 MS\s+REQUESTS$/m);
    assert.match(run.stdout, /^append\s+2000\s+[\d.]+\s+[1-9]\d*\s+[\d.]+\s+[\d.]+\s+20$/m);
    assert.match(run.stdout, /^consume\s+2000\s+[\d.]+\s+[1-9]\d*\s+[\d.]+\s+[\d.]+\s+\d+$/m);
    assert.match(run.stdout, new RegExp(`^deleted stream ${stream}$`, "m"));
    await assert.rejects(client.streams.info(stream), NotFoundError);
  });

  it("bench --json --keep prints the phases as JSON and leaves the stream fully consumed; a used stream exits 1", async () => {
    const stream = unique("bench");
    const run = await cli(["bench", "--count", "500", "--batch", "50", "--size", "64", "--consumers", "3", "--stream", stream, "--keep", "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.stream, stream);
    assert.equal(result.deleted, false);
    assert.deepEqual(result.phases.map((p: { phase: string }) => p.phase), ["append", "consume"]);
    for (const p of result.phases) {
      assert.equal(p.entries, 500);
      assert.ok(p.msgsPerSec > 0 && p.p50Ms > 0 && p.p99Ms >= p.p50Ms, JSON.stringify(p));
    }
    assert.equal(result.phases[0].requests, 10);
    const [first] = await client.streams.range(stream, { count: 1 });
    assert.ok(Math.abs(JSON.stringify(first!.payload).length - 64) <= 2, JSON.stringify(first!.payload));
    const info = await client.streams.info(stream);
    assert.equal(info.length, 500);
    assert.deepEqual(info.groups.map((g) => [g.name, g.pending, g.lag]), [["bench", 0, 0]]);
    const again = await cli(["bench", "--count", "10", "--stream", stream]);
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stderr, `runnel: stream '${stream}' exists already; bench needs a fresh one (another --stream, or none)\n`);
    assert.equal(await client.streams.len(stream), 500, "the existing stream is left alone");
  });

  for (const command of [["publish"], ["tail"], ["consume"], ["info"], ["pending"], ["trim"], ["dlq"], ["dlq", "list"], ["bench"]]) {
    it(`${command.join(" ")} --help exits 0 with usage`, async () => {
      const run = await cli([...command, "--help"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^Usage: runnel ${command[0]}`));
      assert.match(run.stdout, /--url URL/);
    });
  }

  it("version --help explains the command; version prints the package's version", async () => {
    const help = await cli(["version", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: runnel version/);
    const version = await cli(["version"]);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  it("lists the new commands in runnel --help", async () => {
    const run = await cli(["--help"]);
    for (const c of ["publish", "tail", "consume", "info", "pending", "trim", "dlq", "bench"]) assert.match(run.stdout, new RegExp(`^  ${c}\\s`, "m"));
  });

  it("each command's --help lists its flags", async () => {
    const flags: Record<string, string[]> = {
      publish: ["--file PATH", "--progress", "--no-progress", "-q, --quiet"],
      tail: ["--format FORMAT"],
      consume: ["--format FORMAT"],
      bench: ["--count N", "--size BYTES", "--batch N", "--concurrency N", "--consumers N", "--stream NAME", "--keep", "--json", "--progress"],
    };
    for (const [command, expected] of Object.entries(flags)) {
      const run = await cli([command, "--help"]);
      for (const flag of expected) assert.match(run.stdout, new RegExp(`^  ${flag}\\s`, "m"), `${command}: ${flag}`);
    }
  });

  it("an unreachable server exits 1 with one line naming the URL", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [["info", "x"], ["publish", "x", "1"], ["bench", "--count", "10"], ["consume", "x", "g"]]) {
      const run = await runnel([...args, "--url", dead]);
      assert.equal(run.code, 1, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(lines(run.stderr).length, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`^runnel: cannot reach Runnel at ${dead}/`));
    }
    const fromEnv = await runnel(["info", "x"], { url: dead });
    assert.equal(fromEnv.code, 1);
    assert.ok(fromEnv.stderr.includes(dead), fromEnv.stderr);
  });

  it("a server error exits 1 with one line", async () => {
    const run = await cli(["pending", unique("none"), "nogroup"]);
    assert.equal(run.code, 1);
    assert.equal(lines(run.stderr).length, 1, run.stderr);
    assert.match(run.stderr, /^runnel: /);
  });

  it("runnel without a command prints the usage on stderr and exits 2; runnel help exits 0", async () => {
    const bare = await runnel([]);
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, "");
    assert.match(bare.stderr, /^Usage: runnel <command>/m);
    const help = await runnel(["help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: runnel <command>/m);
  });

  it("usage errors exit 2", async () => {
    for (const args of [
      ["info", "x", "--bogus"],
      ["info"],
      ["pending", "x"],
      ["tail", "x", "--count", "zero"],
      ["publish", "x", "not-json"],
      ["dlq", "purge", "x"],
      ["info", "x", "--url", "ftp://nowhere"],
      ["publish", "x", "1", "--file", "data.jsonl"],
      ["bench", "--count", "0"],
      ["bench", "--batch", "20000"],
      ["bench", "extra"],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(lines(run.stderr).length, 1, run.stderr);
      assert.match(run.stderr, /^runnel: /);
    }
  });
});
