// The client commands of `runnel` (publish, tail, info, pending, trim, dlq) run as child processes against a real server.
// SQLite only: these tests check the command line (arguments, output, exit codes), not storage, which the
// conformance suites cover on every backend.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { RunnelClient } from "../src/client/index.js";
import { backends, type Backend } from "./helpers/backends.js";
import { MAIN, startTestServer } from "./helpers/server.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** Runs `node dist/cli/main.js ...args`, feeding `input` to stdin. */
function runnel(args: string[], options: { input?: string; url?: string } = {}): Promise<Run> {
  const env = { ...process.env };
  if (options.url !== undefined) env.RUNNEL_URL = options.url;
  const proc = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  proc.stdin.end(options.input ?? "");
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const lines = (text: string) => text.split("\n").filter((l) => l !== "");

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

  before(async () => {
    execFileSync("npm", ["run", "build", "--silent"], { stdio: "inherit" });
    sqlite = (await backends()).find((b) => b.name === "sqlite")!;
    server = await startTestServer(await sqlite.fresh());
    url = server.url;
    client = new RunnelClient({ url });
  });

  after(async () => {
    await server?.close();
    await sqlite?.cleanup();
  });

  it("publishes arguments, and info shows the length", async () => {
    const stream = unique("args");
    const pub = await cli(["publish", stream, '{"n":1}', '{"n":2}', '"three"', "--ids"]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(lines(pub.stdout).length, 3);
    assert.match(pub.stderr, /published 3 entries/);
    const info = await cli(["info", stream]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^length\s+3$/m);
    assert.match(info.stdout, new RegExp(`^last id\\s+${lines(pub.stdout)[2]}$`, "m"));
    const raw = await cli(["info", stream, "--json"]);
    assert.equal(JSON.parse(raw.stdout).length, 3);
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
    const kept = await cli(["consume", stream, "workers", "--count", "1", "--no-ack", "--consumer", "c2"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.deepEqual(lines(kept.stdout).map((l) => JSON.parse(l).payload), [{ n: 3 }]);
    const pending = await client.groups.pending(stream, "workers");
    assert.equal(pending.count, 1);
    assert.deepEqual(pending.consumers.map((c) => c.name), ["c2"]);
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

  for (const command of [["publish"], ["tail"], ["consume"], ["info"], ["pending"], ["trim"], ["dlq"], ["dlq", "list"]]) {
    it(`${command.join(" ")} --help exits 0 with usage`, async () => {
      const run = await cli([...command, "--help"]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^Usage: runnel ${command[0]}`));
      assert.match(run.stdout, /--url URL/);
    });
  }

  it("lists the new commands in runnel --help", async () => {
    const run = await cli(["--help"]);
    for (const c of ["publish", "tail", "info", "pending", "trim", "dlq"]) assert.match(run.stdout, new RegExp(`^  ${c}\\s`, "m"));
  });

  it("an unreachable server exits 1 with one line naming the URL", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [["info", "x"], ["publish", "x", "1"]]) {
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

  it("usage errors exit 2", async () => {
    for (const args of [
      ["info", "x", "--bogus"],
      ["info"],
      ["pending", "x"],
      ["tail", "x", "--count", "zero"],
      ["publish", "x", "not-json"],
      ["dlq", "purge", "x"],
      ["info", "x", "--url", "ftp://nowhere"],
    ]) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(lines(run.stderr).length, 1, run.stderr);
      assert.match(run.stderr, /^runnel: /);
    }
  });
});
