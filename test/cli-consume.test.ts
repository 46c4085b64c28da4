// `runnel consume`, `bench`, `info --json` and `serve` where a reader goes away, Ctrl-C comes or a value is odd: run
// as child processes against a real server (SQLite only: these check the command line, not storage).
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { NotFoundError, RawJson, RunnelClient } from "../src/client/index.js";
import { ensureBuilt } from "./helpers/build.js";
import { backends, type Backend } from "./helpers/backends.js";
import { MAIN, startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** A started command: what it printed so far, and its end. */
function start(command: string, args: string[], env: NodeJS.ProcessEnv, timeout = 60_000): { proc: ChildProcess; out: () => string; ended: Promise<Ended> } {
  // The timeout ends a command that should have stopped by itself (a server on a port it should have refused).
  const proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], timeout });
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const ended = new Promise<Ended>((resolve, reject) => {
    proc.once("error", reject);
    proc.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { proc, out: () => stdout, ended };
}

describe("runnel consume, bench, info and serve at the edges", () => {
  let sqlite: Backend;
  let server: RunningServer;
  let client: RunnelClient;
  const runnel = (args: string[], timeout?: number) => start(process.execPath, [MAIN, ...args], { RUNNEL_URL: server.url }, timeout);
  const scratch = mkdtempSync(join(tmpdir(), "runnel-cli-consume-"));

  before(async () => {
    ensureBuilt();
    sqlite = (await backends()).find((b) => b.name === "sqlite")!;
    server = await startTestServer(await sqlite.fresh());
    client = new RunnelClient({ url: server.url });
  });

  after(async () => {
    await server?.close();
    await sqlite?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("consume | head -1 acknowledges only what went into the pipe; the rest goes to another consumer", async () => {
    const stream = unique("epipe");
    // 50 entries of 40 KB: a 64 KiB pipe holds about one and a half, so most writes fail once head has gone.
    for (const from of [0, 25]) {
      // Two requests: one would pass the server's 1 MB body limit.
      await client.streams.appendBatch(stream, Array.from({ length: 25 }, (_, i) => ({ payload: { n: from + i, pad: "x".repeat(40_000) } })));
    }
    // timeout ends a consume that misses the closed pipe and would wait for new entries forever (exit 124).
    const pipeline = `timeout 60 "$@" | head -1 >/dev/null; exit \${PIPESTATUS[0]}`;
    const run = start("bash", ["-c", pipeline, "bash", process.execPath, MAIN, "consume", stream, "g", "--start", "0"], { RUNNEL_URL: server.url });
    const { code, stderr } = await run.ended;
    assert.equal(code, 0, stderr);
    assert.equal(stderr, "");
    const [group] = await client.groups.list(stream);
    const acked = 50 - group!.lag;
    // The line head printed, and what the pipe held when head exited (at most 64 KiB and what head had buffered).
    assert.ok(acked >= 1 && acked <= 3, `acknowledged ${acked} of 50`);
    assert.equal(group!.pending, 0, "the entries not printed were given back to the group");
    const { entries } = await client.groups.read(stream, "g", "other", { count: 100 });
    assert.equal(entries.length, 50 - acked);
  });

  it("Ctrl-C on consume acknowledges what it printed and ends as interrupted (exit 130), as tail does", async () => {
    const stream = unique("sigint");
    await client.streams.append(stream, { n: 1 });
    const run = runnel(["consume", stream, "g", "--start", "0", "--count", "100"]);
    await until(() => run.out().includes("\n"), "the first entry");
    run.proc.kill("SIGINT");
    const { code, signal, stdout, stderr } = await run.ended;
    // Ended by the signal, which shells report as exit 130 (and which stops a calling script).
    assert.deepEqual([code, signal], [null, "SIGINT"], stderr);
    assert.equal(JSON.parse(stdout).payload.n, 1);
    const [group] = await client.groups.list(stream);
    assert.deepEqual([group!.pending, group!.lag], [0, 0]);
  });

  it("Ctrl-C on bench stops it and deletes its stream", async () => {
    const stream = unique("bench");
    const run = runnel(["bench", "--count", "1000000", "--size", "50", "--stream", stream]);
    await until(async () => (await client.streams.len(stream).catch(() => 0)) > 0, "bench's first entries");
    run.proc.kill("SIGINT");
    const { code, signal, stderr } = await run.ended;
    await assert.rejects(client.streams.info(stream), NotFoundError);
    assert.deepEqual([code, signal], [null, "SIGINT"], stderr);
    assert.equal(stderr, `runnel: interrupted; deleted stream ${stream}\n`);
  });

  it("info --json prints the first and last payloads as stored: 12345678901234567890 and 1.50 stay", async () => {
    const stream = unique("digits");
    await client.streams.append(stream, new RawJson('{"big":12345678901234567890}'));
    await client.streams.append(stream, new RawJson('{"price":1.50}'));
    const { code, stdout, stderr } = await runnel(["info", stream, "--json"]).ended;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\n {2}"firstEntry": \{\n(?: {4}.*\n)*? {4}"payload": \{\n {6}"big": 12345678901234567890\n {4}\},\n/);
    assert.match(stdout, /\n {2}"lastEntry": \{\n(?: {4}.*\n)*? {4}"payload": \{\n {6}"price": 1\.50\n {4}\},\n/);
  });

  it("serve --port with a blank or a non-decimal value exits 2 with one line", async () => {
    for (const port of [" ", "0x1F90", "1e3"]) {
      // Without the check ' ' was port 0: a server on a random port, which the timeout ends.
      const { code, stderr } = await runnel(["serve", "--port", port, "--data", join(scratch, "data"), "--log-level", "warn"], 15_000).ended;
      assert.equal(code, 2, `--port '${port}': ${stderr}`);
      assert.equal(stderr, `runnel: port must be an integer from 0 to 65535, got '${port}'\n`);
    }
  });
});
