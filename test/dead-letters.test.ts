// Dead letters over HTTP against every backend: entries past maxDeliveries land in the dead-letter stream, are listed and reprocessed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

type Api = ReturnType<typeof client>;

const DEAD = ["reason", "stream", "id", "group", "deliveries", "history", "at"].map((k) => `runnel-dead-${k}`);

function cmp(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am - bm || as - bs;
}

async function createStream(api: Api, stream: string, options: Record<string, unknown>): Promise<void> {
  const res = await api.post(`/stream/${stream}`, options);
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function append(api: Api, stream: string, entries: Record<string, unknown>[]): Promise<string[]> {
  const res = await api.post(`/stream/${stream}/entries`, { entries });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.ids as string[];
}

async function createGroup(api: Api, stream: string, group: string): Promise<void> {
  const res = await api.post(`/stream/${stream}/group/${group}`, { startId: "0" });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function read(api: Api, stream: string, group: string, consumer: string, query = "count=10"): Promise<any[]> {
  const res = await api.get(`/stream/${stream}/group/${group}/consumer/${consumer}?${query}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.entries as any[];
}

async function nack(api: Api, stream: string, group: string, ids: string[]): Promise<number> {
  const res = await api.post(`/stream/${stream}/group/${group}/nack`, { ids });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.nacked as number;
}

async function dlq(api: Api, stream: string, query = ""): Promise<any> {
  const res = await api.get(`/stream/${stream}/dlq${query ? `?${query}` : ""}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function groupInfo(api: Api, stream: string, group: string): Promise<any> {
  const res = await api.get(`/stream/${stream}/group/${group}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

const idsOf = (entries: any[]): string[] => entries.map((e) => e.id);

function withoutDeadHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith("runnel-dead-")));
}

for (const backend of await backends()) {
  describe(`dead letters (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    const clock = new ManualClock(1_700_000_000_000);

    before(async () => {
      server = await startTestServer(await backend.fresh(), { clock });
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    /** A stream with maxDeliveries 1 whose entries are all dead-lettered through group `g`; answers the source ids. */
    async function deadLetters(stream: string, entries: Record<string, unknown>[], options: Record<string, unknown> = {}) {
      await createStream(api, stream, { maxDeliveries: 1, ...options });
      const ids = await append(api, stream, entries);
      await createGroup(api, stream, "g");
      assert.deepEqual(idsOf(await read(api, stream, "g", "c1")).sort(cmp), ids);
      assert.equal(await nack(api, stream, "g", ids), ids.length);
      assert.deepEqual(await read(api, stream, "g", "c1"), []);
      return ids;
    }

    it("a stream stored as its own dead-letter stream (allowed before) sends its dead letters to <stream>:dlq", async () => {
      const s = unique("selfdlq");
      await createStream(api, s, { maxDeliveries: 1 });
      // Written past the engine's check, as a stream configured before it existed would be.
      await server.engine.store.write(async (tx) => {
        const stream = (await tx.streams.get("default", s, true))!;
        await tx.streams.updateConfig(stream.id, { ...stream.config, deadLetterStream: s }, stream.positions);
      });
      const [id] = await append(api, s, [{ payload: 1 }]);
      await createGroup(api, s, "g");
      assert.deepEqual(idsOf(await read(api, s, "g", "c1")), [id]);
      assert.equal(await nack(api, s, "g", [id!]), 1);
      assert.deepEqual(await read(api, s, "g", "c1"), [], "not fed back into the stream");
      assert.equal((await api.get(`/stream/${s}/len`)).body.length, 1);
      assert.equal((await api.get(`/stream/${encodeURIComponent(`${s}:dlq`)}/len`)).body.length, 1);
    });

    it("an entry nacked past maxDeliveries goes to <stream>:dlq with its reason and history, and leaves the PEL", async () => {
      const s = unique("nackdead");
      await createStream(api, s, { maxDeliveries: 2 });
      const [e1, e2] = await append(api, s, [
        { payload: { order: 1 }, type: "order.created", key: "k1", priority: "HIGH", headers: { trace: "t1" } },
        { payload: { order: 2 } },
      ]);
      await createGroup(api, s, "g");

      const t0 = clock.now();
      assert.deepEqual((await read(api, s, "g", "c1", "count=1")).map((e) => [e.id, e.deliveryCount]), [[e1, 1]]);
      clock.advance(1_000);
      assert.equal(await nack(api, s, "g", [e1]), 1);
      const t1 = clock.now();
      assert.deepEqual((await read(api, s, "g", "c2", "count=1")).map((e) => [e.id, e.deliveryCount]), [[e1, 2]]);
      clock.advance(1_000);
      assert.equal(await nack(api, s, "g", [e1]), 1);
      const t2 = clock.now();

      // Its third delivery would pass maxDeliveries: the read hands out the next entry instead.
      assert.deepEqual((await read(api, s, "g", "c1")).map((e) => [e.id, e.deliveryCount]), [[e2, 1]]);
      const pel = await api.get(`/stream/${s}/group/g/pending?count=10`);
      assert.deepEqual(idsOf(pel.body.entries), [e2]);
      const g = await groupInfo(api, s, "g");
      assert.equal(g.pending, 1);
      assert.equal(g.deferred, 0);
      assert.equal(g.lag, 1, "the dead entry no longer counts as lag");

      const list = await dlq(api, s);
      assert.equal(list.stream, s);
      assert.equal(list.deadLetterStream, `${s}:dlq`);
      assert.equal(list.entries.length, 1);
      const dead = list.entries[0];
      assert.deepEqual(dead.payload, { order: 1 });
      assert.equal(dead.type, "order.created");
      assert.equal(dead.key, "k1");
      assert.equal(dead.priority, "HIGH");
      assert.equal(dead.headers.trace, "t1");
      assert.equal(dead.headers["runnel-dead-reason"], "max-deliveries");
      assert.equal(dead.headers["runnel-dead-stream"], s);
      assert.equal(dead.headers["runnel-dead-id"], e1);
      assert.equal(dead.headers["runnel-dead-group"], "g");
      assert.equal(dead.headers["runnel-dead-deliveries"], "2");
      assert.equal(dead.headers["runnel-dead-at"], String(t2));
      assert.deepEqual(JSON.parse(dead.headers["runnel-dead-history"]), [
        { consumer: "c1", at: t0 },
        { consumer: "c2", at: t1 },
      ]);

      // The dead-letter stream is an ordinary stream.
      const range = await api.get(`/stream/${s}:dlq/range`);
      assert.equal(range.status, 200);
      assert.deepEqual(idsOf(range.body.entries), [dead.id]);
    });

    it("claiming an entry past maxDeliveries dead-letters it instead of claiming it", async () => {
      const s = unique("claimdead");
      await createStream(api, s, { maxDeliveries: 2 });
      const [e1] = await append(api, s, [{ payload: "x", headers: { trace: "t" } }]);
      await createGroup(api, s, "g");
      const t0 = clock.now();
      await read(api, s, "g", "c1");
      clock.advance(1_000);
      const t1 = clock.now();
      const first = await api.post(`/stream/${s}/group/g/claim`, { consumer: "c2", minIdleTime: 500, ids: [e1] });
      assert.deepEqual(first.body.entries.map((e: any) => [e.id, e.deliveryCount]), [[e1, 2]]);
      clock.advance(1_000);

      const second = await api.post(`/stream/${s}/group/g/claim`, { consumer: "c3", minIdleTime: 500, ids: [e1] });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body.entries, []);
      assert.equal((await api.get(`/stream/${s}/group/g/pending`)).body.count, 0);
      assert.equal((await groupInfo(api, s, "g")).lag, 0);

      const [dead] = (await dlq(api, s)).entries;
      assert.equal(dead.payload, "x");
      assert.deepEqual(withoutDeadHeaders(dead.headers), { trace: "t" });
      assert.equal(dead.headers["runnel-dead-reason"], "max-deliveries");
      assert.equal(dead.headers["runnel-dead-id"], e1);
      assert.equal(dead.headers["runnel-dead-group"], "g");
      assert.equal(dead.headers["runnel-dead-deliveries"], "2");
      assert.deepEqual(JSON.parse(dead.headers["runnel-dead-history"]), [
        { consumer: "c1", at: t0 },
        { consumer: "c2", at: t1 },
      ]);
    });

    it("autoclaiming entries past maxDeliveries dead-letters them", async () => {
      const s = unique("autodead");
      await createStream(api, s, { maxDeliveries: 2 });
      const ids = await append(api, s, [{ payload: 1 }, { payload: 2 }]);
      await createGroup(api, s, "g");
      await read(api, s, "g", "c1");
      clock.advance(1_000);
      const first = await api.post(`/stream/${s}/group/g/autoclaim`, { consumer: "c2", minIdleTime: 500 });
      assert.deepEqual(first.body.entries.map((e: any) => [e.id, e.deliveryCount]), [
        [ids[0], 2],
        [ids[1], 2],
      ]);
      clock.advance(1_000);

      const second = await api.post(`/stream/${s}/group/g/autoclaim`, { consumer: "c3", minIdleTime: 500, count: 10 });
      assert.equal(second.status, 200);
      assert.deepEqual(second.body, { next: "0-0", deleted: [], entries: [] });
      assert.equal((await api.get(`/stream/${s}/group/g/pending`)).body.count, 0);

      const entries = (await dlq(api, s)).entries;
      assert.deepEqual(entries.map((e: any) => [e.payload, e.headers["runnel-dead-id"], e.headers["runnel-dead-deliveries"]]), [
        [1, ids[0], "2"],
        [2, ids[1], "2"],
      ]);
      assert.deepEqual(
        entries.map((e: any) => JSON.parse(e.headers["runnel-dead-history"]).map((h: any) => h.consumer)),
        [
          ["c1", "c2"],
          ["c1", "c2"],
        ],
      );
    });

    it("after dead-lettering an entry a read still delivers the next due entry", async () => {
      const s = unique("deadnext");
      await createStream(api, s, { maxDeliveries: 2 });
      const [a, b] = await append(api, s, [{ payload: "a" }, { payload: "b" }]);
      await createGroup(api, s, "g");
      assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=1")), [a]);
      await nack(api, s, "g", [a]);
      assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=1")), [a]);
      assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=1")), [b]);
      assert.equal(await nack(api, s, "g", [a, b]), 2);

      // `a` has had its two deliveries and goes to the dead-letter stream; `b` is due and has one left.
      const got = await read(api, s, "g", "c", "count=1");
      assert.deepEqual(got.map((e) => [e.id, e.deliveryCount]), [[b, 2]]);
      assert.deepEqual((await dlq(api, s)).entries.map((e: any) => e.headers["runnel-dead-id"]), [a]);
    });

    it("a custom deadLetterStream receives the dead letters", async () => {
      const s = unique("custom");
      const target = unique("graveyard");
      const [e1] = await deadLetters(s, [{ payload: { n: 1 } }], { deadLetterStream: target });

      const list = await dlq(api, s);
      assert.equal(list.deadLetterStream, target);
      assert.deepEqual(list.entries.map((e: any) => [e.payload, e.headers["runnel-dead-id"], e.headers["runnel-dead-deliveries"]]), [
        [{ n: 1 }, e1, "1"],
      ]);
      const range = await api.get(`/stream/${target}/range`);
      assert.equal(range.status, 200);
      assert.deepEqual(range.body.entries.map((e: any) => e.headers["runnel-dead-stream"]), [s]);
      const defaultDlq = await api.get(`/stream/${s}:dlq/info`);
      assert.equal(defaultDlq.status, 404);
      assert.equal(defaultDlq.body.error.code, "RUNNEL_NOT_FOUND");
    });

    it("lists nothing for a stream without dead letters, pages with start and count, and 404s an unknown stream", async () => {
      const empty = unique("clean");
      await createStream(api, empty, { maxDeliveries: 3 });
      assert.deepEqual(await dlq(api, empty), { stream: empty, deadLetterStream: `${empty}:dlq`, entries: [] });

      const missing = await api.get(`/stream/${unique("missing")}/dlq`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "RUNNEL_NOT_FOUND");

      const s = unique("paged");
      const ids = await deadLetters(s, [{ payload: 1 }, { payload: 2 }, { payload: 3 }]);
      const all = (await dlq(api, s)).entries;
      assert.deepEqual(all.map((e: any) => e.headers["runnel-dead-id"]), ids);
      const firstTwo = (await dlq(api, s, "count=2")).entries;
      assert.deepEqual(idsOf(firstTwo), idsOf(all).slice(0, 2));
      const rest = (await dlq(api, s, `start=(${firstTwo[1].id}&count=2`)).entries;
      assert.deepEqual(idsOf(rest), idsOf(all).slice(2));
      assert.deepEqual(idsOf((await dlq(api, s, `start=${all[1].id}`)).entries), idsOf(all).slice(1));
    });

    it("reprocess by ids appends them again as new entries with their original headers and removes them from the DLQ", async () => {
      const s = unique("reids");
      const ids = await deadLetters(s, [
        { payload: { n: 1 }, headers: { trace: "t1" } },
        { payload: { n: 2 }, type: "order.paid", key: "k2", priority: "HIGH", headers: { trace: "t2", tenant: "acme" } },
        { payload: { n: 3 }, headers: { trace: "t3" } },
      ]);
      const letters = (await dlq(api, s)).entries;
      // The HIGH entry was delivered, and so dead-lettered, first.
      assert.deepEqual(letters.map((e: any) => e.headers["runnel-dead-id"]), [ids[1], ids[0], ids[2]]);
      const letter = letters[0];
      const top = ids[2]!;

      const res = await api.post(`/stream/${s}/dlq/reprocess`, { ids: [letter.id] });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.reprocessed, 1);
      assert.equal(res.body.entries.length, 1);
      const back = res.body.entries[0];
      assert.equal(back.deadLetterId, letter.id);
      assert.equal(back.stream, s);
      assert.ok(cmp(back.id, top) > 0, `new id ${back.id} is after ${top}`);

      const range = await api.get(`/stream/${s}/range?start=${back.id}&end=${back.id}`);
      assert.equal(range.body.entries.length, 1);
      const entry = range.body.entries[0];
      assert.deepEqual(entry.payload, { n: 2 });
      assert.deepEqual(entry.headers, { trace: "t2", tenant: "acme" });
      assert.equal(entry.type, "order.paid");
      assert.equal(entry.key, "k2");
      assert.equal(entry.priority, "HIGH");

      assert.deepEqual(idsOf((await dlq(api, s)).entries), [letters[1].id, letters[2].id]);
      const unknown = await api.post(`/stream/${s}/dlq/reprocess`, { ids: [letter.id] });
      assert.deepEqual(unknown.body, { reprocessed: 0, entries: [] });

      // The group gets it as a fresh entry.
      const got = await read(api, s, "g", "c2");
      assert.deepEqual(got.map((e) => [e.id, e.payload, e.headers, e.deliveryCount]), [
        [back.id, { n: 2 }, { trace: "t2", tenant: "acme" }, 1],
      ]);

      // Failing again dead-letters the new entry, with a history of its own.
      assert.equal(await nack(api, s, "g", [back.id]), 1);
      assert.deepEqual(await read(api, s, "g", "c2"), []);
      const again = (await dlq(api, s)).entries;
      assert.deepEqual(again.map((e: any) => e.headers["runnel-dead-id"]), [ids[0], ids[2], back.id]);
      assert.deepEqual(JSON.parse(again[2].headers["runnel-dead-history"]).map((h: any) => h.consumer), ["c2"]);
    });

    it("reprocess without ids takes the oldest dead letters, up to count", async () => {
      const s = unique("reall");
      const ids = await deadLetters(s, [
        { payload: "a", headers: { h: "1" } },
        { payload: "b" },
        { payload: "c", headers: { h: "3" } },
      ]);
      const letters = (await dlq(api, s)).entries;

      const one = await api.post(`/stream/${s}/dlq/reprocess`, { count: 1 });
      assert.equal(one.status, 200);
      assert.equal(one.body.reprocessed, 1);
      assert.equal(one.body.entries[0].deadLetterId, letters[0].id);

      const rest = await api.post(`/stream/${s}/dlq/reprocess`, {});
      assert.equal(rest.status, 200, JSON.stringify(rest.body));
      assert.equal(rest.body.reprocessed, 2);
      assert.deepEqual(rest.body.entries.map((e: any) => [e.deadLetterId, e.stream]), [
        [letters[1].id, s],
        [letters[2].id, s],
      ]);
      assert.deepEqual((await dlq(api, s)).entries, []);
      assert.deepEqual((await api.post(`/stream/${s}/dlq/reprocess`, { count: 5 })).body, { reprocessed: 0, entries: [] });

      const newIds = [one.body.entries[0].id, ...rest.body.entries.map((e: any) => e.id)];
      for (const id of newIds) assert.ok(cmp(id, ids[2]!) > 0);
      const streamInfo = await api.get(`/stream/${s}/info`);
      assert.equal(streamInfo.body.length, 6);

      const got = await read(api, s, "g", "c2");
      assert.deepEqual(got.map((e) => [e.id, e.payload, e.headers, e.deliveryCount]), [
        [newIds[0], "a", { h: "1" }, 1],
        [newIds[1], "b", {}, 1],
        [newIds[2], "c", { h: "3" }, 1],
      ]);
      for (const e of got) for (const k of DEAD) assert.equal(e.headers[k], undefined);
    });

    it("reprocess accepts a request without a body", async () => {
      const s = unique("renobody");
      const [e1] = await deadLetters(s, [{ payload: "only" }]);
      const res = await api.call("POST", `/stream/${s}/dlq/reprocess`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.reprocessed, 1);
      assert.equal(res.body.entries[0].stream, s);
      assert.deepEqual((await dlq(api, s)).entries, []);
      const got = await read(api, s, "g", "c2");
      assert.deepEqual(got.map((e) => e.payload), ["only"]);
      assert.notEqual(got[0].id, e1);
    });
  });
}
