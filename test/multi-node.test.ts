// Several Runnel nodes (child processes) on one PostgreSQL schema: cross-node wake-ups, group delivery, ids,
// idempotency, failover after kill -9, delays, dead letters, restarts and concurrent migrations.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { backends, PG_URL } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { spawnServer, storeArgs, type ChildServer } from "./helpers/server.js";
import type { StoreOptions } from "../src/storage/index.js";
import { compareIds as compareIdText } from "./helpers/ids.js";

const postgres = (await backends()).find((b) => b.name === "postgres");
if (!postgres) console.log("# skipping the multi-node tests: they need PostgreSQL, which is unreachable");

type Api = ReturnType<typeof client>;

/** Ids as `[ms, seq]` for ordering. */

/** Runs `count` calls of `fn` with at most `width` in flight; every call finishes before it answers. */
async function inParallel<T>(count: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

describe("several nodes on one PostgreSQL schema", { skip: postgres ? false : "PostgreSQL is unreachable" }, () => {
  const backend = postgres!;
  /** Every node this suite started, so the after hook stops each one. */
  const started: ChildServer[] = [];
  let store: StoreOptions;
  let nodes: ChildServer[] = [];
  let apis: Api[] = [];

  async function startNode(on: StoreOptions): Promise<ChildServer> {
    const node = await spawnServer(storeArgs(on));
    started.push(node);
    return node;
  }

  async function startNodes(on: StoreOptions, n: number): Promise<ChildServer[]> {
    return Promise.all(Array.from({ length: n }, () => startNode(on)));
  }

  before(async () => {
    store = await backend.fresh();
    // The first node migrates the schema; the others start together once it exists.
    const first = await startNode(store);
    nodes = [first, ...(await startNodes(store, 2))];
    apis = nodes.map((n) => client(n.url));
  });

  after(async () => {
    await Promise.all(started.map((n) => n.stop("SIGKILL")));
    await backend.cleanup();
  });

  it("delivers an entry published on one node to a group read blocked on another", async () => {
    const [a, b] = apis as [Api, Api];
    const stream = unique("wake");
    assert.equal((await b.post(`/stream/${stream}/group/g`, { startId: "$" })).status, 201);
    const blocked = b.get(`/stream/${stream}/group/g/consumer/c1?count=10&block=10000`);
    await sleep(200);
    const added = await a.post(`/stream/${stream}/add`, { hello: "from A" });
    assert.equal(added.status, 201);
    const read = await blocked;
    assert.equal(read.status, 200);
    assert.deepEqual(
      read.body.entries.map((e: any) => [e.id, e.payload]),
      [[added.body.id, { hello: "from A" }]],
    );
  });

  it("announces an append to the other nodes on the wake-up channel", async () => {
    // DESIGN.md: wake-ups cross nodes through LISTEN/NOTIFY; polling is only the fallback.
    const listener = new pg.Client({ connectionString: PG_URL });
    await listener.connect();
    try {
      const stream = unique("notify");
      const heard = new Promise<string>((resolve) => {
        listener.on("notification", (msg) => {
          if ((msg.payload ?? "").includes(stream)) resolve(msg.payload!);
        });
      });
      await listener.query("LISTEN runnel_wake");
      assert.equal((await apis[0]!.post(`/stream/${stream}/add`, { n: 1 })).status, 201);
      const payload = await Promise.race([heard, sleep(3000).then(() => undefined)]);
      assert.ok(payload !== undefined, "no wake-up notification was sent for the append");
    } finally {
      await listener.end();
    }
  });

  it("delivers every entry exactly once to consumers of one group on different nodes", async () => {
    const [a, b] = apis as [Api, Api];
    const stream = unique("once");
    const total = 300;
    assert.equal((await a.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);

    const received = new Map<string, string>();
    const duplicates: string[] = [];
    const failures: unknown[] = [];
    let expected: number | undefined;
    const consume = async (api: Api, consumer: string) => {
      const deadline = Date.now() + 20_000;
      while ((expected === undefined || received.size < expected) && Date.now() < deadline) {
        const read = await api.get(`/stream/${stream}/group/g/consumer/${consumer}?count=20&block=500`);
        if (read.status !== 200) {
          failures.push({ read: read.body });
          continue;
        }
        const ids: string[] = read.body.entries.map((e: any) => e.id);
        for (const id of ids) {
          if (received.has(id)) duplicates.push(`${id} to ${received.get(id)} and ${consumer}`);
          else received.set(id, consumer);
        }
        if (ids.length === 0) continue;
        const ack = await api.post(`/stream/${stream}/group/g/ack`, { ids });
        if (ack.status !== 200 || ack.body.acked !== ids.length) failures.push({ ack: ack.body });
      }
    };
    const consumers = Promise.all([consume(a, "on-a"), consume(b, "on-b")]);
    const answers = await inParallel(total, 16, (i) => apis[i % 2]!.post(`/stream/${stream}/add`, { i }));
    const appended = answers.filter((r) => r.status === 201).map((r) => r.body.id as string);
    expected = appended.length;
    await consumers;

    assert.deepEqual(duplicates, []);
    assert.deepEqual([...received.keys()].sort(compareIdText), [...appended].sort(compareIdText));
    const group = await a.get(`/stream/${stream}/group/g`);
    assert.equal(group.body.pending, 0);
    assert.equal(group.body.lag, 0);
    assert.deepEqual(failures, []);
    assert.deepEqual(
      answers.filter((r) => r.status !== 201).map((r) => r.body),
      [],
      "every append is acknowledged",
    );
  });

  it("keeps ids strictly increasing and offsets gapless under concurrent appends from every node", async () => {
    const stream = unique("ids");
    const total = 300;
    const answers = await inParallel(total, 24, (i) => apis[i % apis.length]!.post(`/stream/${stream}/add`, { i }));
    const acked = answers.filter((r) => r.status === 201).map((r) => r.body as { id: string; offset: number });
    const range = await apis[1]!.get(`/stream/${stream}/range?count=10000`);
    assert.equal(range.status, 200);
    const ids: string[] = range.body.entries.map((e: any) => e.id);
    assert.equal(ids.length, acked.length);
    for (let i = 1; i < ids.length; i++) assert.ok(compareIdText(ids[i - 1]!, ids[i]!) < 0, `${ids[i - 1]} before ${ids[i]}`);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, acked.map((r) => r.id).sort(compareIdText));
    // One partition: the offsets follow the ids with no gap and no repeat.
    assert.deepEqual(
      range.body.entries.map((e: any) => e.offset),
      ids.map((_, i) => i),
    );
    assert.equal((await apis[2]!.get(`/stream/${stream}/len`)).body.length, acked.length);
    assert.deepEqual(
      answers.filter((r) => r.status !== 201).map((r) => r.body),
      [],
      "every append is acknowledged",
    );
  });

  it("appends once when the same messageId reaches different nodes", async () => {
    const stream = unique("idem");
    const rounds = 20;
    for (let r = 0; r < rounds; r++) {
      const messageId = `m-${r}`;
      const answers = await Promise.all(apis.map((api) => api.post(`/stream/${stream}/add?messageId=${messageId}`, { r })));
      for (const res of answers) assert.equal(res.status, 201);
      assert.equal(new Set(answers.map((res) => res.body.id)).size, 1, `one id for ${messageId}`);
      assert.equal(answers.filter((res) => res.body.duplicate === false).length, 1, `one new entry for ${messageId}`);
    }
    // Sent again later, one node after another.
    const first = await apis[0]!.post(`/stream/${stream}/add?messageId=late`, { late: true });
    const second = await apis[1]!.post(`/stream/${stream}/add?messageId=late`, { late: true });
    assert.equal(second.body.id, first.body.id);
    assert.equal(second.body.duplicate, true);

    const range = await apis[2]!.get(`/stream/${stream}/range?count=1000`);
    assert.equal(range.body.entries.length, rounds + 1);
    assert.deepEqual(
      range.body.entries.map((e: any) => e.messageId),
      [...Array.from({ length: rounds }, (_, r) => `m-${r}`), "late"],
    );
  });

  it("lets another node autoclaim the pending entries of a node killed with SIGKILL", async () => {
    const a = apis[0]!;
    const doomed = await startNode(store);
    const d = client(doomed.url);
    const stream = unique("kill");
    assert.equal((await a.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.post(`/stream/${stream}/add`, { i })).body.id);

    const held = await d.get(`/stream/${stream}/group/g/consumer/doomed?count=10`);
    assert.deepEqual(held.body.entries.map((e: any) => e.id), ids);
    assert.equal(await doomed.stop("SIGKILL"), null);

    await sleep(300);
    const b = apis[1]!;
    const claimed = await b.post(`/stream/${stream}/group/g/autoclaim`, { consumer: "rescuer", minIdleTime: 200, start: "0", count: 100 });
    assert.equal(claimed.status, 200);
    assert.deepEqual(claimed.body.entries.map((e: any) => e.id), ids);
    assert.deepEqual(claimed.body.entries.map((e: any) => e.deliveryCount), [2, 2, 2, 2, 2]);
    const pending = await b.get(`/stream/${stream}/group/g/pending?count=100`);
    assert.deepEqual(
      pending.body.entries.map((p: any) => [p.id, p.consumer]),
      ids.map((id) => [id, "rescuer"]),
    );
  });

  it("delivers a delayed entry appended on one node to a reader blocked on another only once it is due", async () => {
    const [a, b, c] = apis as [Api, Api, Api];
    const stream = unique("delay");
    const delayMs = 1500;
    assert.equal((await b.post(`/stream/${stream}/group/g`, { startId: "$" })).status, 201);
    const blocked = b.get(`/stream/${stream}/group/g/consumer/waiter?count=10&block=10000`);
    await sleep(100);
    const sentAt = Date.now();
    const added = await a.post(`/stream/${stream}/add?delayMs=${delayMs}`, { later: true });
    assert.equal(added.status, 201);

    // Not yet due: a read on a third node gets nothing.
    const early = await c.get(`/stream/${stream}/group/g/consumer/early`);
    assert.deepEqual(early.body.entries, []);

    const read = await blocked;
    const readAt = Date.now();
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.entries.map((e: any) => e.id), [added.body.id]);
    const entry = read.body.entries[0];
    assert.ok(entry.deliverAt >= sentAt + delayMs, `due at ${entry.deliverAt}, sent at ${sentAt}`);
    assert.ok(readAt >= entry.deliverAt, `delivered at ${readAt}, due at ${entry.deliverAt}`);
  });

  it("dead-letters an entry of a maxDeliveries 1 stream when another node claims it", async () => {
    const [a, b] = apis as [Api, Api];
    const stream = unique("dead");
    assert.equal((await a.post(`/stream/${stream}`, { maxDeliveries: 1 })).status, 201);
    assert.equal((await a.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);
    const added = await a.post(`/stream/${stream}/add`, { poison: true });
    const first = await a.get(`/stream/${stream}/group/g/consumer/c1`);
    assert.deepEqual(first.body.entries.map((e: any) => e.id), [added.body.id]);

    await sleep(300);
    const claimed = await b.post(`/stream/${stream}/group/g/autoclaim`, { consumer: "c2", minIdleTime: 200, start: "0" });
    assert.equal(claimed.status, 200);
    assert.deepEqual(claimed.body.entries, []);

    const dlq = await b.get(`/stream/${stream}/dlq`);
    assert.equal(dlq.status, 200);
    assert.deepEqual(dlq.body.entries.map((e: any) => e.payload), [{ poison: true }]);
    assert.equal(dlq.body.entries[0].headers["runnel-dead-id"], added.body.id);
    assert.equal((await a.get(`/stream/${stream}/group/g`)).body.pending, 0);
  });

  it("an entry acked on one node while others claim, nack or hand it back stays acked", async () => {
    const [a, b, c] = apis as [Api, Api, Api];
    const stream = unique("race");
    const payloads = Array.from({ length: 240 }, (_, n) => ({ payload: { n } }));
    assert.equal((await a.post(`/stream/${stream}/entries`, { entries: payloads })).status, 201);
    assert.equal((await a.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);
    const ids: string[] = (await a.get(`/stream/${stream}/group/g/consumer/c1?count=240`)).body.entries.map((e: any) => e.id);
    assert.equal(ids.length, 240);
    // Each entry: an ack on one node against a claim, a nack or the consumer's removal on another, at once.
    const acked = new Set<string>();
    await inParallel(ids.length, 12, async (i) => {
      const id = ids[i]!;
      const rival =
        i % 3 === 0
          ? b.post(`/stream/${stream}/group/g/claim`, { consumer: "c2", minIdleTime: 0, ids: [id] })
          : i % 3 === 1
            ? c.post(`/stream/${stream}/group/g/nack`, { ids: [id] })
            : b.post(`/stream/${stream}/group/g/claim`, { consumer: "c1", minIdleTime: 0, ids: [id] });
      const [ack] = await Promise.all([a.post(`/stream/${stream}/group/g/ack`, { ids: [id] }), rival]);
      if (ack.body.acked === 1) acked.add(id);
    });
    assert.ok(acked.size > 0);
    // Whatever a rival still holds or gave back is read and acked now; nothing acked above may come again.
    const again: string[] = [];
    for (;;) {
      const got = (await c.get(`/stream/${stream}/group/g/consumer/c9?count=240`)).body.entries.map((e: any) => e.id);
      const held = (await c.get(`/stream/${stream}/group/g/pending?start=-&end=%2B&count=1000`)).body.entries.map((e: any) => e.id);
      const mine = [...new Set([...got, ...held])];
      if (mine.length === 0) break;
      again.push(...mine);
      await c.post(`/stream/${stream}/group/g/ack`, { ids: mine });
    }
    assert.deepEqual(again.filter((id) => acked.has(id)), [], "acked entries came back");
    assert.equal(acked.size + new Set(again).size, ids.length, "every entry acked exactly once");
  });

  it("creating one stream on two nodes at once: one is told 201, the other 409, and the winner's options stand", async () => {
    const [a, b] = apis as [Api, Api];
    for (let round = 0; round < 20; round++) {
      const stream = unique("create");
      const [ra, rb] = await Promise.all([a.post(`/stream/${stream}`, { maxLen: 10 }), b.post(`/stream/${stream}`, { maxLen: 20 })]);
      assert.deepEqual([ra.status, rb.status].sort(), [201, 409], `round ${round}`);
      const winner = ra.status === 201 ? 10 : 20;
      assert.equal((await a.get(`/stream/${stream}/info`)).body.maxLen, winner);
    }
  });

  it("finds every entry, group and pending entry after every node restarts", async () => {
    const [a, b] = apis as [Api, Api];
    const stream = unique("restart");
    assert.equal((await a.post(`/stream/${stream}/group/g1`, { startId: "0" })).status, 201);
    for (let i = 0; i < 20; i++) assert.equal((await apis[i % 2]!.post(`/stream/${stream}/add`, { i })).status, 201);
    assert.equal((await b.post(`/stream/${stream}/group/g2`, { startId: "$" })).status, 201);
    const onA = await a.get(`/stream/${stream}/group/g1/consumer/c1?count=5`);
    const onB = await b.get(`/stream/${stream}/group/g1/consumer/c2?count=5`);
    assert.equal(onA.body.entries.length, 5);
    assert.equal(onB.body.entries.length, 5);
    await a.post(`/stream/${stream}/group/g1/ack`, { ids: onA.body.entries.slice(0, 2).map((e: any) => e.id) });

    const before = await snapshot(a);
    assert.ok(before.length >= 8, "the streams of the earlier tests are in the snapshot");

    const codes = await Promise.all(nodes.map((n) => n.stop("SIGTERM")));
    assert.deepEqual(codes, nodes.map(() => 0));
    nodes = await startNodes(store, 2);
    apis = nodes.map((n) => client(n.url));

    for (const api of apis) assert.deepEqual(await snapshot(api), before);
    const rest = await apis[1]!.get(`/stream/${stream}/group/g1/consumer/c3?count=100`);
    assert.deepEqual(
      rest.body.entries.map((e: any) => e.payload.i),
      Array.from({ length: 10 }, (_, i) => i + 10),
    );
  });

  it("comes up on three nodes started at the same moment on a brand-new schema", async () => {
    const fresh = await backend.fresh();
    const results = await Promise.allSettled([0, 1, 2].map(() => startNode(fresh)));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => String(r.reason));
    assert.deepEqual(failures, []);
    const trio = results.map((r) => client((r as PromiseFulfilledResult<ChildServer>).value.url));
    const stream = unique("migrated");
    assert.equal((await trio[0]!.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);
    const added = await trio[1]!.post(`/stream/${stream}/add`, { ok: true });
    assert.equal(added.status, 201);
    const read = await trio[2]!.get(`/stream/${stream}/group/g/consumer/c`);
    assert.deepEqual(read.body.entries.map((e: any) => e.id), [added.body.id]);

    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    try {
      const schema = (fresh as { schema: string }).schema;
      const rows = await db.query(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      // Each migration file applied exactly once, however many nodes raced to apply it.
      const files = readdirSync(new URL("../src/storage/postgres/migrations/", import.meta.url)).filter((f) => f.endsWith(".sql"));
      assert.deepEqual(
        rows.rows.map((r) => Number(r.version)),
        files.map((f) => Number(f.slice(0, 4))).sort((x, y) => x - y),
      );
    } finally {
      await db.end();
    }
  });
});

/** What a user can see of every stream: entries, groups (without idle times) and pending entries. */
async function snapshot(api: Api) {
  const streams = (await api.get("/streams")).body.streams as any[];
  const out = [];
  for (const s of [...streams].sort((x, y) => (x.name < y.name ? -1 : 1))) {
    const range = await api.get(`/stream/${encodeURIComponent(s.name)}/range?count=10000`);
    const groups = (await api.get(`/stream/${encodeURIComponent(s.name)}/groups`)).body.groups as any[];
    const groupViews = [];
    for (const g of groups) {
      const pending = await api.get(`/stream/${encodeURIComponent(s.name)}/group/${g.name}/pending?count=10000`);
      groupViews.push({
        name: g.name,
        pending: g.pending,
        deferred: g.deferred,
        lastDeliveredId: g.lastDeliveredId,
        entriesRead: g.entriesRead,
        lag: g.lag,
        consumers: g.consumerList.map((c: any) => c.name),
        pendingEntries: pending.body.entries.map((p: any) => [p.id, p.consumer, p.deliveryCount]),
      });
    }
    out.push({ stream: s.name, length: s.length, lastGeneratedId: s.lastGeneratedId, entries: range.body.entries, groups: groupViews });
  }
  return out;
}
