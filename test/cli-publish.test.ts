// `runnel publish` when things go wrong or go slowly (a reader that leaves, a line the server refuses, input
// that trickles in, an odd --linger) and the integer flags every command shares, run as child processes
// against a real server. SQLite only: these tests check the command line, not storage.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { NotFoundError, RunnelClient } from "../src/client/index.js";
import { ensureBuilt } from "./helpers/build.js";
import { backends, type Backend } from "./helpers/backends.js";
import { lines, runnel, startRunnel, type Run } from "./helpers/cli.js";
import { unique } from "./helpers/http.js";
import { MAIN, startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** The server's body limit here: a line of BODY_LIMIT bytes or more can never be stored. */
const BODY_LIMIT = 64 * 1024;

/** Runs a bash pipeline with RUNNEL_URL set, where `"$NODE" "$MAIN"` is the command. */
function pipeline(script: string, url: string): Promise<Run> {
  const proc = spawn("bash", ["-c", script], {
    env: { ...process.env, RUNNEL_URL: url, NODE: process.execPath, MAIN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("runnel publish and integer flags", () => {
  let sqlite: Backend;
  let server: RunningServer;
  let url: string;
  let client: RunnelClient;
  const scratch = mkdtempSync(join(tmpdir(), "runnel-cli-publish-"));

  before(async () => {
    ensureBuilt();
    sqlite = (await backends()).find((b) => b.name === "sqlite")!;
    server = await startTestServer(await sqlite.fresh(), { bodyLimit: BODY_LIMIT });
    url = server.url;
    client = new RunnelClient({ url });
  });

  after(async () => {
    await server?.close();
    await sqlite?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** The stream's length, 0 when it was never created. */
  const length = (stream: string) => client.streams.len(stream).catch((error: unknown) => (error instanceof NotFoundError ? 0 : Promise.reject(error)));

  it("publish --ids | head -1 stores every line and exits 0 once all are stored", async () => {
    const stream = unique("head");
    // seq prints JSON numbers, one a line; PIPESTATUS[1] is publish's exit code.
    const run = await pipeline(`seq 20000 | "$NODE" "$MAIN" publish ${stream} --ids | head -1; echo "publish exited \${PIPESTATUS[1]}" >&2`, url);
    assert.match(run.stdout, /^\d+-\d+\n$/);
    assert.match(run.stderr, /^published 20000 entries to \S+ in [\d.]+ s/m);
    assert.match(run.stderr, /^publish exited 0$/m);
    assert.equal(await length(stream), 20000);
  });

  it("a line too large for the server: exit 1, one line naming the line and the entries stored", async () => {
    const stream = unique("large");
    const path = join(scratch, `${stream}.jsonl`);
    const payloads = Array.from({ length: 20_000 }, (_, i) => (i === 4 ? { n: i + 1, pad: "y".repeat(BODY_LIMIT) } : { n: i + 1 }));
    writeFileSync(path, payloads.map((p) => JSON.stringify(p) + "\n").join(""));
    const run = await runnel(["publish", stream, "--file", path], { url });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(lines(run.stderr).length, 1, run.stderr);
    const stored = await client.streams.range<{ n: number }>(stream, { count: 10_000 });
    const ns = stored.map((e) => e.payload.n);
    // The lines before it are stored, the line itself is not; lines read while it was in flight may be, but the
    // reading stopped there: the rest of the file is not.
    assert.deepEqual(ns.slice(0, 4), [1, 2, 3, 4]);
    assert.ok(!ns.includes(5), `${ns}`);
    assert.ok(ns.length < 10_000, `${ns.length} entries stored`);
    const after = ns.length - 4;
    const count = `${ns.length} entries stored${after > 0 ? `, ${after} of them read after it` : ""}`;
    assert.ok(run.stderr.startsWith(`runnel: ${path} line 5 was not stored: `), run.stderr);
    assert.ok(run.stderr.endsWith(` (${count})\n`), run.stderr);
    assert.match(run.stderr, /large/);
  });

  it("a line that is not JSON reads alike: named, exit 1, and the entries stored before it are counted", async () => {
    const stream = unique("notjson");
    const run = await runnel(["publish", stream], { url, input: '{"n":1}\n\n{"n":2}\nnot json\n{"n":4}\n' });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.stderr, "runnel: stdin line 4 is not JSON: not json (2 entries stored)\n");
    assert.equal(await length(stream), 2);
  });

  it("--ids prints the id of every stored entry, in order, when a later line fails", async () => {
    const stream = unique("ids");
    const path = join(scratch, `${stream}.jsonl`);
    writeFileSync(path, Array.from({ length: 10_000 }, (_, i) => (i === 4999 ? "{not json\n" : `{"n":${i + 1}}\n`)).join(""));
    const run = await runnel(["publish", stream, "--file", path, "--ids"], { url });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /line 5000 is not JSON/);
    const ids = lines(run.stdout);
    const stored = (await client.streams.range(stream, { count: 5000 })).map((e) => e.id);
    assert.equal(stored.length, 4999);
    assert.deepEqual(ids, stored);
  });

  it("input that arrives slowly: ids and the progress line show each entry once stored, before the input ends", async () => {
    const stream = unique("slow");
    const { proc, run, closed } = startRunnel(["publish", stream, "--ids", "--progress"], url);
    for (const n of [1, 2, 3]) {
      proc.stdin.write(`{"n":${n}}\n`);
      await until(() => lines(run.stdout).length === n, `id ${n} while the input is still open`);
    }
    await until(() => /(^|\r)3 entries/.test(run.stderr), "the progress line to count 3 entries while the input is still open");
    proc.stdin.end();
    const done = await closed;
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(lines(done.stdout), (await client.streams.range(stream, { count: 10 })).map((e) => e.id));
  });

  it("--linger does not hold the last batch once the input has ended", async () => {
    const stream = unique("linger");
    const start = performance.now();
    const run = await runnel(["publish", stream, '{"n":1}', "--linger", "10000"], { url });
    const seconds = (performance.now() - start) / 1000;
    assert.equal(run.code, 0, run.stderr);
    assert.ok(seconds < 5, `took ${seconds.toFixed(2)} s with --linger 10000`);
    assert.equal(await length(stream), 1);
  });

  it("--linger beyond what a timer holds is a usage error, before anything is sent", async () => {
    const stream = unique("linger");
    const run = await runnel(["publish", stream, '{"n":1}', "--linger", "99999999999"], { url });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr, "runnel: --linger must be an integer from 0 to 2147483647, got '99999999999'\n");
    assert.equal(await length(stream), 0);
  });

  it("an integer flag that is blank, hex, exponent, negative or fractional is a usage error and changes nothing", async () => {
    const stream = unique("trim");
    assert.equal((await runnel(["publish", stream, "1", "2", "3", "-q"], { url })).code, 0);
    for (const value of [" ", "", "0x10", "1e3", "-1", "1.5", "+2"]) {
      const run = await runnel(["trim", stream, `--maxlen=${value}`], { url });
      assert.equal(run.code, 2, `--maxlen '${value}': ${run.stderr}`);
      assert.equal(run.stderr, `runnel: --maxlen must be an integer of at least 0, got '${value}'\n`);
    }
    assert.equal(await length(stream), 3);
    const trimmed = await runnel(["trim", stream, "--maxlen", "01"], { url });
    assert.equal(trimmed.code, 0, trimmed.stderr);
    assert.equal(await length(stream), 1);
  });
});
