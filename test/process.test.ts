// `runnel serve` as a real child process: restarts, kill -9, graceful shutdown and configuration.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import pg from "pg";
import { backends, PG_URL } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { MAIN, spawnServer, storeArgs, type ChildServer } from "./helpers/server.js";
import type { StoreOptions } from "../src/storage/index.js";

type Api = ReturnType<typeof client>;

interface Entry {
  id: string;
  payload: unknown;
}

/** Compares `<ms>-<seq>` ids. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

/** Every entry of a stream, page by page. */
async function readAll(api: Api, stream: string): Promise<Entry[]> {
  const all: Entry[] = [];
  let start = "-";
  for (;;) {
    const page = await api.get(`/stream/${stream}/range?start=${encodeURIComponent(start)}&count=10000`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    all.push(...(page.body.entries as Entry[]));
    if (page.body.entries.length < 10000) return all;
    start = `(${all.at(-1)!.id}`;
  }
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "runnel-process-"));
}

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli/main.js ...args` (no defaults added) to its end; for commands that should exit on their own. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exited> {
  const proc = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  return new Promise((resolve) =>
    proc.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Servers a failed test may leave running; ended by the `after` hook below. */
const leftovers = new Set<() => void>();
after(() => {
  for (const kill of leftovers) kill();
});

/** Starts `runnel serve` with exactly these arguments (no --host added) and answers the URL it reports. */
function serveRaw(args: string[], env: NodeJS.ProcessEnv): Promise<{ url: string; stop(): Promise<number | null> }> {
  const proc = spawn(process.execPath, [MAIN, "serve", "--log-level", "warn", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const kill = () => proc.kill("SIGKILL");
  leftovers.add(kill);
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  void exited.then(() => leftovers.delete(kill));
  let err = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`server did not start in 15 s:\n${err}`));
    }, 15_000);
    proc.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
          return exited;
        },
      });
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${err}`));
    });
  });
}

/**
 * A POST on a keep-alive connection that the server has surely begun (it answered `100 Continue` to the headers)
 * and whose body is held back after its first bytes; `finish()` sends the rest.
 */
async function heldRequest(base: string, path: string, body: string, agent: http.Agent) {
  const url = new URL(path, base);
  let begun!: () => void;
  const started = new Promise<void>((resolve) => (begun = resolve));
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname,
    method: "POST",
    agent,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), expect: "100-continue" },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
  });
  response.catch(() => undefined); // awaited by the caller; this only keeps an early reset from going unhandled
  req.on("continue", () => {
    req.write(body.slice(0, 5));
    begun();
  });
  req.flushHeaders();
  await Promise.race([started, response]);
  return { response, finish: () => req.end(body.slice(5)) };
}

/** Resolves once the server stops taking new requests (a 503 or a refused connection): its HTTP close has begun. */
async function stoppedAccepting(base: string): Promise<void> {
  const url = new URL("/health", base);
  for (;;) {
    const status = await new Promise<number | string>((resolve) => {
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      req.end();
    });
    if (status !== 200) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function schemaExists(schema: string): Promise<boolean> {
  const db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  try {
    const r = await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [schema]);
    return r.rowCount === 1;
  } finally {
    await db.end();
  }
}

for (const backend of await backends()) {
  describe(`runnel serve as a process (${backend.name})`, () => {
    const running: ChildServer[] = [];
    async function serve(store: StoreOptions, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
      const child = await spawnServer([...storeArgs(store), ...args], env);
      running.push(child);
      return child;
    }
    after(async () => {
      // A failed test may leave its server running; the data stays for inspection until cleanup.
      await Promise.all(running.map((c) => c.stop("SIGKILL")));
      await backend.cleanup();
    });

    it("finds every entry, the group, its pending entries and lastDeliveredId after a restart", async () => {
      const store = await backend.fresh();
      const stream = unique("restart");
      const first = await serve(store);
      let api = client(first.url);
      const added = await api.post(`/stream/${stream}/entries`, {
        entries: [1, 2, 3, 4, 5].map((n) => ({ payload: { n }, key: `k${n}`, headers: { h: String(n) } })),
      });
      assert.equal(added.status, 201);
      const ids = added.body.ids as string[];
      assert.equal((await api.post(`/stream/${stream}/group/workers`, { startId: "0" })).status, 201);
      const read = await api.get(`/stream/${stream}/group/workers/consumer/c1?count=3`);
      assert.deepEqual(
        read.body.entries.map((e: Entry) => e.id),
        ids.slice(0, 3),
      );
      const entriesBefore = await readAll(api, stream);
      const groupBefore = (await api.get(`/stream/${stream}/group/workers`)).body;
      assert.equal(groupBefore.lastDeliveredId, ids[2]);
      assert.equal(groupBefore.pending, 3);
      assert.equal(await first.stop("SIGTERM"), 0);

      const second = await serve(store);
      api = client(second.url);
      assert.deepEqual(await readAll(api, stream), entriesBefore);
      const info = await api.get(`/stream/${stream}/info`);
      assert.equal(info.body.length, 5);
      assert.equal(info.body.lastGeneratedId, ids[4]);
      assert.deepEqual(
        info.body.groups.map((g: { name: string; pending: number; lastDeliveredId: string }) => [g.name, g.pending, g.lastDeliveredId]),
        [["workers", 3, ids[2]]],
      );
      const group = (await api.get(`/stream/${stream}/group/workers`)).body;
      assert.equal(group.lastDeliveredId, ids[2]);
      assert.equal(group.entriesRead, groupBefore.entriesRead);
      assert.deepEqual(
        group.consumerList.map((c: { name: string; pending: number }) => [c.name, c.pending]),
        [["c1", 3]],
      );
      const pending = await api.get(`/stream/${stream}/group/workers/pending?start=-&end=%2B&count=10`);
      assert.deepEqual(
        pending.body.entries.map((p: { id: string; consumer: string; deliveryCount: number }) => [p.id, p.consumer, p.deliveryCount]),
        ids.slice(0, 3).map((id) => [id, "c1", 1]),
      );
      // c1 still holds its three, and the group carries on after the last delivered id.
      const history = await api.get(`/stream/${stream}/group/workers/consumer/c1?id=0`);
      assert.deepEqual(
        history.body.entries.map((e: Entry) => e.id),
        ids.slice(0, 3),
      );
      const next = await api.get(`/stream/${stream}/group/workers/consumer/c2?count=10`);
      assert.deepEqual(
        next.body.entries.map((e: Entry) => [e.id, e.payload]),
        [
          [ids[3], { n: 4 }],
          [ids[4], { n: 5 }],
        ],
      );
      assert.equal(await second.stop("SIGTERM"), 0);
    });

    it("keeps every acknowledged append after kill -9", async () => {
      const store = await backend.fresh();
      const stream = unique("kill9");
      const victim = await serve(store);
      const api = client(victim.url);
      const acked = new Map<string, { producer: number; n: number }>();
      let killed = false;

      async function produce(producer: number): Promise<void> {
        for (let n = 0; !killed; n++) {
          try {
            const res = await api.post(`/stream/${stream}/add`, { producer, n });
            if (res.status === 201) acked.set(res.body.id, { producer, n });
            else assert.fail(`append answered ${res.status}: ${JSON.stringify(res.body)}`);
          } catch (error) {
            if (killed) return; // the connection died with the server
            throw error;
          }
        }
      }

      const failures: unknown[] = [];
      const producers = Array.from({ length: 8 }, (_, p) => produce(p).catch((error: unknown) => failures.push(error)));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      killed = true;
      assert.equal(await victim.stop("SIGKILL"), null);
      await Promise.all(producers);
      assert.deepEqual(failures, []);
      assert.ok(acked.size > 0, "no append was acknowledged before the kill");

      const revived = await serve(store);
      const entries = await readAll(client(revived.url), stream);
      const found = new Map(entries.map((e) => [e.id, e.payload]));
      const lost = [...acked.keys()].filter((id) => !found.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acknowledged appends are gone`);
      for (const [id, payload] of acked) assert.deepEqual(found.get(id), payload, `entry ${id}`);
      for (let i = 1; i < entries.length; i++) {
        assert.ok(compareIds(entries[i - 1]!.id, entries[i]!.id) < 0, `ids out of order: ${entries[i - 1]!.id} then ${entries[i]!.id}`);
      }
      assert.equal(await revived.stop("SIGTERM"), 0);
    });

    it("answers an in-flight long poll and exits 0 on SIGTERM", { timeout: 8_000 }, async () => {
      const store = await backend.fresh();
      const stream = unique("shutdown");
      const child = await serve(store);
      const api = client(child.url);
      assert.equal((await api.post(`/stream/${stream}/group/g`, { mkStream: true })).status, 201);

      const poll = api.get(`/stream/${stream}/group/g/consumer/waiter?block=30000`);
      // The read registers its consumer before it starts waiting: that is how we know it is in flight.
      for (;;) {
        const consumers = await api.get(`/stream/${stream}/group/g/consumers`);
        if (consumers.body.consumers.some((c: { name: string }) => c.name === "waiter")) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      const exitCode = child.stop("SIGTERM");
      const answered = await poll;
      assert.equal(answered.status, 200, JSON.stringify(answered.body));
      assert.deepEqual(answered.body.entries, []);
      assert.equal(await exitCode, 0);
    });

    it("finishes a request in flight at SIGTERM and exits 0 without waiting on its keep-alive connection", { timeout: 8_000 }, async () => {
      const store = await backend.fresh();
      const stream = unique("in-flight");
      const child = await serve(store);
      const agent = new http.Agent({ keepAlive: true });
      try {
        const held = await heldRequest(child.url, `/stream/${stream}/entries`, JSON.stringify({ payload: { sent: "during shutdown" } }), agent);
        const exitCode = child.stop("SIGTERM");
        await stoppedAccepting(child.url);
        held.finish();
        const answered = await held.response;
        assert.equal(answered.status, 201, JSON.stringify(answered.body));
        assert.equal(await exitCode, 0);

        const again = await serve(store);
        const entries = await readAll(client(again.url), stream);
        assert.deepEqual(
          entries.map((e) => [e.id, e.payload]),
          [[answered.body.ids[0], { sent: "during shutdown" }]],
        );
        assert.equal(await again.stop(), 0);
      } finally {
        agent.destroy();
      }
    });

    it("answers GET /health with its status and store", async () => {
      const child = await serve(await backend.fresh());
      const health = await client(child.url).get("/health");
      assert.equal(health.status, 200);
      assert.equal(health.body.status, "ok");
      assert.equal(health.body.store, backend.name);
      assert.equal(await child.stop(), 0);
    });

    it("listens on --port, or RUNNEL_PORT when no flag is given", async () => {
      const store = await backend.fresh();
      const [flagPort, envPort] = [await freePort(), await freePort()];

      const byFlag = await serve(store, ["--port", String(flagPort)], { RUNNEL_PORT: String(envPort) });
      assert.equal(new URL(byFlag.url).port, String(flagPort));
      assert.equal((await client(`http://127.0.0.1:${flagPort}`).get("/health")).body.status, "ok");
      assert.equal(await byFlag.stop(), 0);

      const byEnv = await serve(store, [], { RUNNEL_PORT: String(envPort) });
      assert.equal(new URL(byEnv.url).port, String(envPort));
      assert.equal((await client(`http://127.0.0.1:${envPort}`).get("/health")).body.status, "ok");
      assert.equal(await byEnv.stop(), 0);
    });

    it("binds the address in RUNNEL_HOST", async () => {
      const store = await backend.fresh();
      const server = await serveRaw([...storeArgs(store), "--port", "0"], { RUNNEL_HOST: "127.0.0.2" });
      try {
        assert.equal(new URL(server.url).hostname, "127.0.0.2");
        assert.equal((await client(server.url).get("/health")).body.status, "ok");
        await assert.rejects(fetch(server.url.replace("127.0.0.2", "127.0.0.1") + "/health"));
      } finally {
        assert.equal(await server.stop(), 0);
      }
    });

    if (backend.name === "sqlite") {
      it("keeps its data in RUNNEL_DATA_DIR, or in --data when given", async () => {
        const fresh = await backend.fresh();
        assert.equal(fresh.kind, "sqlite");
        // Folders that do not exist yet: the server makes them.
        const root = fresh.kind === "sqlite" ? fresh.dataDir : "";
        const envDir = join(root, "from-env");
        const flagDir = join(root, "from-flag");
        const env = { RUNNEL_STORE: "sqlite", RUNNEL_DATA_DIR: envDir };

        const byEnv = await serveRaw(["--host", "127.0.0.1", "--port", "0"], env);
        const stream = unique("data-dir");
        assert.equal((await client(byEnv.url).post(`/stream/${stream}/add`, { where: "env" })).status, 201);
        assert.equal(await byEnv.stop(), 0);
        assert.ok(existsSync(join(envDir, "runnel.db")), "runnel.db is not in RUNNEL_DATA_DIR");

        const byFlag = await serveRaw(["--host", "127.0.0.1", "--port", "0", "--data", flagDir], env);
        const api = client(byFlag.url);
        assert.equal((await api.get(`/stream/${stream}/len`)).body.length, 0, "--data did not win over RUNNEL_DATA_DIR");
        assert.equal((await api.post(`/stream/${stream}/add`, { where: "flag" })).status, 201);
        assert.equal(await byFlag.stop(), 0);
        assert.ok(existsSync(join(flagDir, "runnel.db")), "runnel.db is not in --data");

        const again = await serveRaw(["--host", "127.0.0.1", "--port", "0"], env);
        assert.deepEqual(
          (await readAll(client(again.url), stream)).map((e) => e.payload),
          [{ where: "env" }],
        );
        assert.equal(await again.stop(), 0);
      });
    } else {
      it("takes its store from RUNNEL_STORE, RUNNEL_DATABASE_URL and RUNNEL_PG_SCHEMA", async () => {
        const store = await backend.fresh();
        assert.equal(store.kind, "postgres");
        const schema = store.kind === "postgres" ? store.schema! : "";
        const server = await serveRaw(["--host", "127.0.0.1", "--port", "0"], {
          RUNNEL_STORE: "postgres",
          RUNNEL_DATABASE_URL: PG_URL,
          RUNNEL_PG_SCHEMA: schema,
        });
        try {
          assert.equal((await client(server.url).get("/health")).body.store, "postgres");
          assert.ok(await schemaExists(schema), `schema ${schema} was not created`);
        } finally {
          assert.equal(await server.stop(), 0);
        }
      });
    }
  });
}

describe("runnel serve configuration errors", () => {
  const dataDir = tempDir();
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  const bad: [string, string[], NodeJS.ProcessEnv][] = [
    ["--port abc", ["--port", "abc"], {}],
    ["--port 70000", ["--port", "70000"], {}],
    ["--port with no value", ["--port"], {}],
    ["--durability fast", ["--durability", "fast"], {}],
    ["--store nosuch", ["--store", "nosuch"], {}],
    ["--store postgres without a URL", ["--store", "postgres"], { RUNNEL_DATABASE_URL: "" }],
    ["--max-body 5", ["--max-body", "5"], {}],
    ["--log-level loud", ["--log-level", "loud"], {}],
    ["an unknown flag", ["--colour", "red"], {}],
    ["RUNNEL_PORT=abc", [], { RUNNEL_PORT: "abc" }],
    ["RUNNEL_DURABILITY=fast", [], { RUNNEL_DURABILITY: "fast" }],
  ];
  for (const [name, args, env] of bad) {
    it(`exits 2 with one clear line for ${name}`, async () => {
      // Port 0 unless the case says otherwise, so a value wrongly accepted starts a server that the timeout ends.
      const run = await runCli(["serve", "--data", dataDir, ...args], { RUNNEL_PORT: "0", ...env });
      assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
      const lines = run.stderr.trim().split("\n");
      assert.equal(lines.length, 1, `stderr has ${lines.length} lines:\n${run.stderr}`);
      assert.match(lines[0]!, /^runnel: /);
      assert.doesNotMatch(run.stderr, /\n\s+at |Error:/, "stderr has a stack trace");
      assert.equal(run.stdout, "");
    });
  }

  it("prints usage for serve --help and exits 0", async () => {
    const run = await runCli(["serve", "--help"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Usage: runnel serve/);
    for (const flag of ["--port", "--host", "--store", "--data", "--durability", "--database-url"]) assert.ok(run.stdout.includes(flag), flag);
    assert.equal(run.stderr, "");
  });
});
