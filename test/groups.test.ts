// Consumer groups over HTTP against every backend: create, read (blocking, own pending, noack), ack, nack, pending, claim, auto-claim, priorities, delays.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ManualClock } from "../src/core/clock.js";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { compareIds as cmp } from "./helpers/ids.js";

type Api = ReturnType<typeof client>;


async function add(api: Api, stream: string, payload: unknown, query = ""): Promise<string> {
  const res = await api.post(`/stream/${stream}/add${query ? `?${query}` : ""}`, payload);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

async function addMany(api: Api, stream: string, n: number, label = "n"): Promise<string[]> {
  const res = await api.post(`/stream/${stream}/entries`, {
    entries: Array.from({ length: n }, (_, i) => ({ payload: { [label]: i } })),
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.ids as string[];
}

async function createGroup(api: Api, stream: string, group: string, startId = "0"): Promise<void> {
  const res = await api.post(`/stream/${stream}/group/${group}`, { startId });
  assert.equal(res.status, 201, JSON.stringify(res.body));
}

async function read(api: Api, stream: string, group: string, consumer: string, query = ""): Promise<any[]> {
  const res = await api.get(`/stream/${stream}/group/${group}/consumer/${consumer}${query ? `?${query}` : ""}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.entries as any[];
}

const idsOf = (entries: any[]): string[] => entries.map((e) => e.id);

async function info(api: Api, stream: string, group: string): Promise<any> {
  const res = await api.get(`/stream/${stream}/group/${group}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function pending(api: Api, stream: string, group: string, query = ""): Promise<any> {
  const res = await api.get(`/stream/${stream}/group/${group}/pending${query ? `?${query}` : ""}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

function assertNotFound(res: { status: number; body: any }, what: string): void {
  assert.equal(res.status, 404, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.error?.code, "RUNNEL_NOT_FOUND", what);
  assert.equal(typeof res.body.error.message, "string", what);
}

for (const backend of await backends()) {
  describe(`consumer groups (${backend.name})`, () => {
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

    describe("create, list, setid, destroy", () => {
      it("a group at 0 delivers every entry, at $ only later ones, at an id the entries after it", async () => {
        const s = unique("create");
        const [a1, a2, a3] = [await add(api, s, { n: 1 }), await add(api, s, { n: 2 }), await add(api, s, { n: 3 })];

        const atZero = await api.post(`/stream/${s}/group/zero`, { startId: "0" });
        assert.equal(atZero.status, 201);
        assert.deepEqual(atZero.body, { stream: s, group: "zero", startId: "0-0", created: true });
        const atTop = await api.post(`/stream/${s}/group/top`, { startId: "$" });
        assert.equal(atTop.status, 201);
        assert.equal(atTop.body.startId, a3);
        const atId = await api.post(`/stream/${s}/group/mid`, { startId: a1 });
        assert.equal(atId.status, 201);
        assert.equal(atId.body.startId, a1);
        // No startId means `$`.
        assert.equal((await api.post(`/stream/${s}/group/dflt`, {})).status, 201);

        const zero = await read(api, s, "zero", "c");
        assert.deepEqual(zero.map((e) => [e.id, e.payload, e.deliveryCount]), [
          [a1, { n: 1 }, 1],
          [a2, { n: 2 }, 1],
          [a3, { n: 3 }, 1],
        ]);
        assert.deepEqual(await read(api, s, "top", "c"), []);
        assert.deepEqual(await read(api, s, "dflt", "c"), []);
        assert.deepEqual(idsOf(await read(api, s, "mid", "c")), [a2, a3]);

        const a4 = await add(api, s, { n: 4 });
        assert.deepEqual(idsOf(await read(api, s, "top", "c")), [a4]);
        assert.deepEqual(idsOf(await read(api, s, "dflt", "c")), [a4]);
        assert.deepEqual(idsOf(await read(api, s, "zero", "c")), [a4]);
        assert.deepEqual(idsOf(await read(api, s, "mid", "c")), [a4]);

        const list = await api.get(`/stream/${s}/groups`);
        assert.equal(list.status, 200);
        assert.equal(list.body.stream, s);
        assert.deepEqual(
          list.body.groups.map((g: any) => [g.name, g.pending, g.lastDeliveredId, g.entriesRead]),
          [
            ["dflt", 1, a4, 1],
            ["mid", 3, a4, 3],
            ["top", 1, a4, 1],
            ["zero", 4, a4, 4],
          ],
        );
      });

      it("creating a group that exists is a 409 RUNNEL_CONFLICT and leaves the group as it was", async () => {
        const s = unique("dup");
        const e1 = await add(api, s, { n: 1 });
        await createGroup(api, s, "g", "0");
        const again = await api.post(`/stream/${s}/group/g`, { startId: "$" });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, "RUNNEL_CONFLICT");
        assert.deepEqual(idsOf(await read(api, s, "g", "c")), [e1]);
      });

      it("creates the stream with the group unless mkStream is false", async () => {
        const s = unique("mk");
        assert.equal((await api.post(`/stream/${s}/group/g`, { startId: "$" })).status, 201);
        const streamInfo = await api.get(`/stream/${s}/info`);
        assert.equal(streamInfo.status, 200);
        assert.equal(streamInfo.body.length, 0);
        assert.deepEqual(streamInfo.body.groups.map((g: any) => g.name), ["g"]);

        const missing = unique("nomk");
        assertNotFound(await api.post(`/stream/${missing}/group/g`, { startId: "$", mkStream: false }), "mkStream false");
        assertNotFound(await api.get(`/stream/${missing}/info`), "stream not made");
      });

      it("creates a group at $ from a request without a body", async () => {
        const s = unique("nobody");
        await add(api, s, { before: true });
        const res = await api.call("POST", `/stream/${s}/group/g`);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.group, "g");
        assert.deepEqual(await read(api, s, "g", "c"), []);
        const id = await add(api, s, { after: true });
        assert.deepEqual(idsOf(await read(api, s, "g", "c")), [id]);
      });

      it("answers 404 RUNNEL_NOT_FOUND for an unknown stream or group", async () => {
        const s = unique("nf");
        const e1 = await add(api, s, { n: 1 });
        await createGroup(api, s, "g");
        const noStream = unique("nostream");
        assertNotFound(await api.get(`/stream/${noStream}/groups`), "groups of unknown stream");
        assertNotFound(await api.get(`/stream/${noStream}/group/g`), "info, unknown stream");
        assertNotFound(await api.get(`/stream/${noStream}/group/g/consumer/c`), "read, unknown stream");
        assertNotFound(await api.get(`/stream/${s}/group/nope`), "info, unknown group");
        assertNotFound(await api.get(`/stream/${s}/group/nope/consumer/c`), "read, unknown group");
        assertNotFound(await api.get(`/stream/${s}/group/nope/consumers`), "consumers, unknown group");
        assertNotFound(await api.get(`/stream/${s}/group/nope/pending`), "pending, unknown group");
        assertNotFound(await api.get(`/stream/${s}/group/nope/pending?count=10`), "extended pending, unknown group");
        assertNotFound(await api.post(`/stream/${s}/group/nope/ack`, { ids: [e1] }), "ack, unknown group");
        assertNotFound(await api.post(`/stream/${s}/group/nope/nack`, { ids: [e1] }), "nack, unknown group");
        assertNotFound(await api.post(`/stream/${s}/group/nope/setid`, { id: "0" }), "setid, unknown group");
        assertNotFound(
          await api.post(`/stream/${s}/group/nope/claim`, { consumer: "c", minIdleTime: 0, ids: [e1] }),
          "claim, unknown group",
        );
        assertNotFound(
          await api.post(`/stream/${s}/group/nope/autoclaim`, { consumer: "c", minIdleTime: 0 }),
          "autoclaim, unknown group",
        );
        assertNotFound(await api.del(`/stream/${s}/group/nope`), "destroy, unknown group");
        assertNotFound(await api.del(`/stream/${s}/group/g/consumer/nobody`), "delete unknown consumer");
      });

      it("setid moves where the group continues; pending entries stay", async () => {
        const s = unique("setid");
        const ids = await addMany(api, s, 4);
        await createGroup(api, s, "g", "$");
        assert.deepEqual(await read(api, s, "g", "c"), []);

        assert.deepEqual((await api.post(`/stream/${s}/group/g/setid`, { id: ids[1] })).body, { ok: true });
        assert.equal((await info(api, s, "g")).lastDeliveredId, ids[1]);
        assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=1")), [ids[2]]);
        assert.equal((await pending(api, s, "g")).count, 1);

        assert.equal((await api.post(`/stream/${s}/group/g/setid`, { id: "$" })).status, 200);
        assert.equal((await info(api, s, "g")).lastDeliveredId, ids[3]);
        assert.deepEqual(await read(api, s, "g", "c"), []);
        assert.equal((await pending(api, s, "g")).count, 1, "setid keeps the PEL");

        assert.equal((await api.post(`/stream/${s}/group/g/setid`, { id: "0" })).status, 200);
        assert.deepEqual(idsOf(await read(api, s, "g", "c")), ids);
      });

      it("a read blocked on a group that is destroyed answers 404, not an empty read when its time is up", async () => {
        const s = unique("destroy-blocked");
        await addMany(api, s, 1);
        await createGroup(api, s, "g", "$");
        const blocked = api.get(`/stream/${s}/group/g/consumer/c?block=30000`);
        // The read must be waiting before the group goes; it registers within a few event-loop turns.
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.equal((await api.del(`/stream/${s}/group/g`)).status, 200);
        assertNotFound(await blocked, "blocked read of a destroyed group");
      });

      it("destroying a group removes it with its pending entries", async () => {
        const s = unique("destroy");
        const ids = await addMany(api, s, 3);
        await createGroup(api, s, "g");
        await createGroup(api, s, "other");
        assert.equal((await read(api, s, "g", "c")).length, 3);

        const del = await api.del(`/stream/${s}/group/g`);
        assert.equal(del.status, 200);
        assert.deepEqual(del.body, { deleted: true });
        assertNotFound(await api.get(`/stream/${s}/group/g`), "destroyed group");
        assertNotFound(await api.get(`/stream/${s}/group/g/consumer/c`), "read destroyed group");
        assert.deepEqual((await api.get(`/stream/${s}/groups`)).body.groups.map((g: any) => g.name), ["other"]);

        await createGroup(api, s, "g", "0");
        const fresh = await info(api, s, "g");
        assert.equal(fresh.pending, 0);
        assert.equal(fresh.consumers, 0);
        assert.deepEqual(idsOf(await read(api, s, "g", "c")), ids);
      });
    });

    describe("reading", () => {
      it("`>` hands out new entries in order, count at a time", async () => {
        const s = unique("count");
        const ids = await addMany(api, s, 5);
        await createGroup(api, s, "g");
        const first = await api.get(`/stream/${s}/group/g/consumer/c1?count=2`);
        assert.equal(first.status, 200);
        assert.equal(first.body.stream, s);
        assert.equal(first.body.group, "g");
        assert.equal(first.body.consumer, "c1");
        assert.deepEqual(first.body.entries.map((e: any) => [e.id, e.payload, e.deliveryCount]), [
          [ids[0], { n: 0 }, 1],
          [ids[1], { n: 1 }, 1],
        ]);
        assert.deepEqual(idsOf(await read(api, s, "g", "c2", "count=2")), ids.slice(2, 4));
        assert.deepEqual(idsOf(await read(api, s, "g", "c1", "count=10")), ids.slice(4));
        assert.deepEqual(await read(api, s, "g", "c1", "count=10"), []);

        const g = await info(api, s, "g");
        assert.equal(g.pending, 5);
        assert.equal(g.entriesRead, 5);
        assert.equal(g.lastDeliveredId, ids[4]);
        assert.equal(g.consumers, 2);
        assert.deepEqual(g.consumerList.map((c: any) => [c.name, c.pending]), [
          ["c1", 3],
          ["c2", 2],
        ]);
        const consumers = await api.get(`/stream/${s}/group/g/consumers`);
        assert.deepEqual(consumers.body.consumers.map((c: any) => [c.name, c.pending]), [
          ["c1", 3],
          ["c2", 2],
        ]);
      });

      it("lists consumers with their pending entries and idle times", async () => {
        const s = unique("consumers");
        const ids = await addMany(api, s, 3);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1", "count=2");
        clock.advance(2_000);
        await read(api, s, "g", "c2", "count=5");
        await read(api, s, "g", "c3");
        clock.advance(500);
        const res = await api.get(`/stream/${s}/group/g/consumers`);
        assert.equal(res.status, 200);
        assert.equal(res.body.stream, s);
        assert.equal(res.body.group, "g");
        assert.deepEqual(
          res.body.consumers.map((c: any) => [c.name, c.pending, c.idleMs, c.inactiveMs]),
          [
            ["c1", 2, 2_500, 2_500],
            ["c2", 1, 500, 500],
            // c3 asked but got nothing: seen, never active.
            ["c3", 0, 500, null],
          ],
        );
        // A read that gets nothing makes c1 seen now, not active now.
        assert.equal((await read(api, s, "g", "c1")).length, 0);
        const again = await api.get(`/stream/${s}/group/g/consumers`);
        const c1 = again.body.consumers.find((c: any) => c.name === "c1");
        assert.deepEqual([c1.idleMs, c1.inactiveMs], [0, 2_500]);
        assert.equal((await info(api, s, "g")).consumers, 3);
        await api.post(`/stream/${s}/group/g/ack`, { ids });
        assert.deepEqual((await api.get(`/stream/${s}/group/g/consumers`)).body.consumers.map((c: any) => c.pending), [0, 0, 0]);
      });

      it("a blocking read is woken by an append and returns that entry", async () => {
        const s = unique("block");
        await createGroup(api, s, "g", "$");
        const waiting = read(api, s, "g", "c", "block=5000&count=5");
        await sleep(100);
        const id = await add(api, s, { woke: true });
        const entries = await waiting;
        assert.deepEqual(entries.map((e) => [e.id, e.payload, e.deliveryCount]), [[id, { woke: true }, 1]]);
        assert.deepEqual((await pending(api, s, "g")).consumers, [{ name: "c", pending: 1 }]);
      });

      it("a blocking read whose client went away does not take the next entry", async () => {
        const s = unique("block-gone");
        await createGroup(api, s, "g", "$");
        const gone = new AbortController();
        const abandoned = fetch(`${server.url}/stream/${s}/group/g/consumer/leaver?block=5000`, { signal: gone.signal });
        await sleep(100);
        gone.abort();
        await assert.rejects(abandoned, { name: "AbortError" });
        await sleep(100);
        const id = await add(api, s, { after: "leaving" });
        await sleep(100);
        assert.deepEqual(idsOf(await read(api, s, "g", "stayer")), [id]);
        assert.deepEqual((await pending(api, s, "g")).consumers, [{ name: "stayer", pending: 1 }]);
      });

      it("a blocking read returns a delayed entry once it becomes due", async () => {
        const s = unique("blockdelay");
        await createGroup(api, s, "g", "$");
        const id = await add(api, s, { later: true }, "delayMs=200");
        const waiting = read(api, s, "g", "c", "block=5000");
        await sleep(50);
        clock.advance(200);
        const entries = await waiting;
        assert.deepEqual(entries.map((e) => [e.id, e.payload, e.deliveryCount]), [[id, { later: true }, 1]]);
      });

      it("a blocking read with nothing to deliver answers empty when its time is up", async () => {
        const s = unique("blockempty");
        await createGroup(api, s, "g", "$");
        const res = await api.get(`/stream/${s}/group/g/consumer/c?block=150`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body.entries, []);
        assert.equal((await info(api, s, "g")).pending, 0);
      });

      it("an id re-reads the consumer's own pending entries after it, each time one more delivery", async () => {
        const s = unique("own");
        const ids = await addMany(api, s, 4);
        await createGroup(api, s, "g");
        assert.deepEqual(idsOf(await read(api, s, "g", "c1", "count=3")), ids.slice(0, 3));
        assert.deepEqual(idsOf(await read(api, s, "g", "c2", "count=1")), [ids[3]]);
        assert.deepEqual((await api.post(`/stream/${s}/group/g/ack`, { ids: [ids[1]] })).body, { acked: 1 });

        const again = await read(api, s, "g", "c1", "id=0");
        assert.deepEqual(again.map((e) => [e.id, e.payload, e.deliveryCount]), [
          [ids[0], { n: 0 }, 2],
          [ids[2], { n: 2 }, 2],
        ]);
        const after0 = await read(api, s, "g", "c1", `id=${ids[0]}`);
        assert.deepEqual(after0.map((e) => [e.id, e.deliveryCount]), [[ids[2], 3]]);
        assert.deepEqual(await read(api, s, "g", "c1", `id=${ids[2]}`), []);
        assert.deepEqual(idsOf(await read(api, s, "g", "c2", "id=0")), [ids[3]]);
        assert.deepEqual(await read(api, s, "g", "c3", "id=0"), []);

        const rows = (await pending(api, s, "g", "consumer=c1")).entries;
        assert.deepEqual(rows.map((r: any) => [r.id, r.deliveryCount]), [
          [ids[0], 2],
          [ids[2], 3],
        ]);

        // An entry deleted while pending is re-read as a tombstone.
        assert.deepEqual((await api.post(`/stream/${s}/delete`, { ids: [ids[0]] })).body, { deleted: 1 });
        const reread = await read(api, s, "g", "c1", "id=0");
        assert.deepEqual(reread[0], { id: ids[0], deleted: true, deliveryCount: 3 });
        assert.deepEqual(reread.slice(1).map((e) => [e.id, e.payload, e.deliveryCount]), [[ids[2], { n: 2 }, 4]]);
      });

      it("noack reads deliver without leaving anything pending", async () => {
        const s = unique("noack");
        const ids = await addMany(api, s, 3);
        await createGroup(api, s, "g");
        const got = await read(api, s, "g", "c", "noack=true");
        assert.deepEqual(idsOf(got), ids);
        assert.deepEqual(await pending(api, s, "g"), { count: 0, smallestId: null, largestId: null, consumers: [] });
        const g = await info(api, s, "g");
        assert.equal(g.pending, 0);
        assert.equal(g.lastDeliveredId, ids[2]);
        assert.equal(g.lag, 0);
        assert.deepEqual(await read(api, s, "g", "c"), []);
        assert.deepEqual(await read(api, s, "g", "c", "id=0"), []);
      });
    });

    describe("ack and nack", () => {
      it("reads and acks 10,000 entries at a time (the largest read and ack there are)", async () => {
        const s = unique("ack-max");
        for (let b = 0; b < 2; b++) {
          const res = await api.post(`/stream/${s}/entries`, { entries: Array.from({ length: 5000 }, (_, i) => ({ payload: { b, i } })) });
          assert.equal(res.status, 201);
        }
        await createGroup(api, s, "g");
        const entries = await read(api, s, "g", "c", "count=10000");
        assert.equal(entries.length, 10_000);
        const ack = await api.post(`/stream/${s}/group/g/ack`, { ids: entries.map((e) => e.id) });
        assert.equal(ack.status, 200, JSON.stringify(ack.body));
        assert.deepEqual(ack.body, { acked: 10_000 });
        assert.equal((await pending(api, s, "g")).count, 0);
      });

      it("ack counts only ids that were pending", async () => {
        const s = unique("ack");
        const ids = await addMany(api, s, 4);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c", "count=3");
        const ack = (body: unknown) => api.post(`/stream/${s}/group/g/ack`, body);
        assert.deepEqual((await ack({ ids: [ids[0], ids[1]] })).body, { acked: 2 });
        assert.deepEqual((await ack({ ids: [ids[0]] })).body, { acked: 0 });
        // ids[3] was never delivered; 1-1 never existed.
        assert.deepEqual((await ack({ ids: [ids[2], ids[3], "1-1"] })).body, { acked: 1 });
        assert.equal((await pending(api, s, "g")).count, 0);
        assert.deepEqual(idsOf(await read(api, s, "g", "c")), [ids[3]]);
      });

      it("an ack of 100 ids, the last 30 never delivered and one given twice, counts the 70 pending once", async () => {
        const s = unique("ack-100");
        const res = await api.post(`/stream/${s}/entries`, { entries: Array.from({ length: 100 }, (_, i) => ({ payload: { i } })) });
        const ids = res.body.ids as string[];
        await createGroup(api, s, "g");
        assert.equal((await read(api, s, "g", "c", "count=70")).length, 70);
        const ack = await api.post(`/stream/${s}/group/g/ack`, { ids: [...ids, ids[5]] });
        assert.deepEqual(ack.body, { acked: 70 });
        assert.equal((await pending(api, s, "g")).count, 0);
        assert.equal((await read(api, s, "g", "c", "count=100")).length, 30);
      });

      it("when a handed-back entry is dead-lettered during a read, the others come once each", async () => {
        const s = unique("nack-dead");
        assert.equal((await api.post(`/stream/${s}`, { maxDeliveries: 2 })).status, 201);
        await createGroup(api, s, "g");
        const [x, y] = await addMany(api, s, 2);
        assert.equal((await read(api, s, "g", "c1", "count=2")).length, 2);
        await api.post(`/stream/${s}/group/g/nack`, { ids: [y] });
        const again = await read(api, s, "g", "c1", "count=1");
        assert.deepEqual(again.map((e) => [e.id, e.deliveryCount]), [[y, 2]]);
        await api.post(`/stream/${s}/group/g/nack`, { ids: [x, y] });
        // y has had its two deliveries and goes to the dead letters; x comes back, once.
        const res = await api.get(`/stream/${s}/group/g/consumer/c2?count=2`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.entries.map((e: { id: string }) => e.id), [x]);
        assert.equal((await read(api, s, "g", "c2", "count=2")).length, 0, "the group still reads");
        assert.equal((await api.get(`/stream/${s}:dlq/len`)).body.length, 1);
      });

      it("a nacked entry is delivered again, to another consumer, with deliveryCount 2", async () => {
        const s = unique("nack");
        const [e1, e2] = await addMany(api, s, 2);
        await createGroup(api, s, "g");
        assert.deepEqual(idsOf(await read(api, s, "g", "c1", "count=1")), [e1]);

        // Only the holder's entries are taken back when a consumer is named.
        assert.deepEqual((await api.post(`/stream/${s}/group/g/nack`, { ids: [e1], consumer: "c2" })).body, { nacked: 0 });
        assert.deepEqual((await api.post(`/stream/${s}/group/g/nack`, { ids: [e1, e2], consumer: "c1" })).body, { nacked: 1 });
        assert.equal((await pending(api, s, "g")).count, 0);

        const redelivered = await read(api, s, "g", "c2", "count=10");
        assert.deepEqual(redelivered.map((e) => [e.id, e.payload, e.deliveryCount]), [
          [e1, { n: 0 }, 2],
          [e2, { n: 1 }, 1],
        ]);
        const rows = (await pending(api, s, "g", "count=10")).entries;
        assert.deepEqual(rows.map((r: any) => [r.id, r.consumer, r.deliveryCount]), [
          [e1, "c2", 2],
          [e2, "c2", 1],
        ]);
        assert.deepEqual((await api.post(`/stream/${s}/group/g/nack`, { ids: [e1] })).body, { nacked: 1 });
        assert.deepEqual((await api.post(`/stream/${s}/group/g/nack`, { ids: [e1] })).body, { nacked: 0 });
        assert.deepEqual(
          (await read(api, s, "g", "c1")).map((e) => [e.id, e.deliveryCount]),
          [[e1, 3]],
        );
      });

      it("a nack with delayMs is not delivered again before the delay has passed", async () => {
        const s = unique("nackdelay");
        const [e1] = await addMany(api, s, 1);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1");
        assert.deepEqual((await api.post(`/stream/${s}/group/g/nack`, { ids: [e1], delayMs: 10_000 })).body, { nacked: 1 });
        assert.equal((await info(api, s, "g")).deferred, 1);
        assert.equal((await info(api, s, "g")).pending, 0);

        const later = await add(api, s, { later: true });
        assert.deepEqual(idsOf(await read(api, s, "g", "c2")), [later], "a later entry goes first");
        clock.advance(9_999);
        assert.deepEqual(await read(api, s, "g", "c2"), []);
        clock.advance(1);
        assert.deepEqual(
          (await read(api, s, "g", "c2")).map((e) => [e.id, e.deliveryCount]),
          [[e1, 2]],
        );
        assert.equal((await info(api, s, "g")).deferred, 0);
      });
    });

    describe("pending, claim, autoclaim", () => {
      it("pending answers a summary, and entries filtered by consumer, idle time, range and count", async () => {
        const s = unique("pending");
        const ids = await addMany(api, s, 5);
        await createGroup(api, s, "g");
        assert.deepEqual(await pending(api, s, "g"), { count: 0, smallestId: null, largestId: null, consumers: [] });

        await read(api, s, "g", "c1", "count=2");
        clock.advance(5_000);
        await read(api, s, "g", "c2", "count=3");
        clock.advance(1_000);

        assert.deepEqual(await pending(api, s, "g"), {
          count: 5,
          smallestId: ids[0],
          largestId: ids[4],
          consumers: [
            { name: "c1", pending: 2 },
            { name: "c2", pending: 3 },
          ],
        });

        const rows = (q: string) => pending(api, s, "g", q).then((b) => b.entries);
        assert.deepEqual(await rows("consumer=c1"), [
          { id: ids[0], consumer: "c1", idleMs: 6_000, deliveryCount: 1, partition: 0 },
          { id: ids[1], consumer: "c1", idleMs: 6_000, deliveryCount: 1, partition: 0 },
        ]);
        assert.deepEqual(idsOf(await rows("idle=3000")), ids.slice(0, 2));
        assert.deepEqual(idsOf(await rows("idle=1000")), ids);
        assert.deepEqual(await rows("idle=7000"), []);
        assert.deepEqual(
          (await rows("consumer=c2")).map((r: any) => [r.id, r.consumer, r.idleMs]),
          ids.slice(2).map((id) => [id, "c2", 1_000]),
        );
        assert.deepEqual(idsOf(await rows(`start=${ids[1]}&end=${ids[3]}`)), ids.slice(1, 4));
        assert.deepEqual(idsOf(await rows(`start=(${ids[1]}&end=(${ids[3]}`)), [ids[2]]);
        assert.deepEqual(idsOf(await rows("start=-&end=%2B&count=2")), ids.slice(0, 2));
        assert.deepEqual(idsOf(await rows("count=3")), ids.slice(0, 3));
        assert.deepEqual(idsOf(await rows(`consumer=c2&count=2&start=${ids[0]}`)), ids.slice(2, 4));
        assert.deepEqual(await rows("consumer=nobody"), []);
      });

      it("claim respects minIdleTime, moves the entry and counts a delivery; justId does not", async () => {
        const s = unique("claim");
        const ids = await addMany(api, s, 4);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1", "count=3");
        clock.advance(1_000);
        const claim = (body: Record<string, unknown>) => api.post(`/stream/${s}/group/g/claim`, body);

        const tooSoon = await claim({ consumer: "c2", minIdleTime: 5_000, ids: [ids[0]] });
        assert.equal(tooSoon.status, 200);
        assert.deepEqual(tooSoon.body.entries, []);
        assert.equal((await pending(api, s, "g", "consumer=c1")).entries.length, 3);

        clock.advance(5_000);
        const claimed = await claim({ consumer: "c2", minIdleTime: 5_000, ids: [ids[0], ids[3], "1-1"] });
        assert.equal(claimed.status, 200);
        // ids[3] was never delivered and 1-1 does not exist: neither is claimed.
        assert.deepEqual(claimed.body.entries.map((e: any) => [e.id, e.payload, e.deliveryCount]), [[ids[0], { n: 0 }, 2]]);
        assert.deepEqual(
          (await pending(api, s, "g", "count=10")).entries.map((r: any) => [r.id, r.consumer, r.deliveryCount, r.idleMs]),
          [
            [ids[0], "c2", 2, 0],
            [ids[1], "c1", 1, 6_000],
            [ids[2], "c1", 1, 6_000],
          ],
        );
        // Claiming resets the idle time, so a second claim right away finds nothing idle enough.
        assert.deepEqual((await claim({ consumer: "c3", minIdleTime: 5_000, ids: [ids[0]] })).body.entries, []);

        const justId = await claim({ consumer: "c3", minIdleTime: 5_000, ids: [ids[1]], justId: true });
        assert.equal(justId.status, 200);
        assert.deepEqual(justId.body, { ids: [ids[1]] });
        const row = (await pending(api, s, "g", `start=${ids[1]}&end=${ids[1]}`)).entries;
        assert.deepEqual(row.map((r: any) => [r.id, r.consumer, r.deliveryCount]), [[ids[1], "c3", 1]]);

        // idle and retryCount set the idle time and the delivery count.
        const tuned = await claim({ consumer: "c4", minIdleTime: 0, ids: [ids[2]], idle: 2_500, retryCount: 7 });
        assert.deepEqual(tuned.body.entries.map((e: any) => [e.id, e.deliveryCount]), [[ids[2], 7]]);
        const tunedRow = (await pending(api, s, "g", "consumer=c4")).entries;
        assert.deepEqual(tunedRow.map((r: any) => [r.id, r.idleMs, r.deliveryCount]), [[ids[2], 2_500, 7]]);

        // time sets the last delivery time.
        const timed = await claim({ consumer: "c3", minIdleTime: 0, ids: [ids[0]], time: clock.now() - 4_000 });
        assert.deepEqual(timed.body.entries.map((e: any) => [e.id, e.deliveryCount]), [[ids[0], 3]]);
        const timedRow = (await pending(api, s, "g", `start=${ids[0]}&end=${ids[0]}`)).entries;
        assert.deepEqual(timedRow.map((r: any) => [r.consumer, r.idleMs]), [["c3", 4_000]]);

        // force claims an entry that is not pending, whatever minIdleTime says (it was never idle); as in Redis, it
        // enters the PEL as delivered once and the claim counts a delivery.
        const forced = await claim({ consumer: "c4", minIdleTime: 60_000, ids: [ids[3]], force: true });
        assert.deepEqual(forced.body.entries.map((e: any) => [e.id, e.deliveryCount]), [[ids[3], 2]]);
        assert.deepEqual(
          (await pending(api, s, "g")).consumers,
          [
            { name: "c3", pending: 2 },
            { name: "c4", pending: 2 },
          ],
        );
      });

      it("a forced claim of an entry never delivered is not dead-lettered and has no made-up history", async () => {
        const s = unique("force-dlq");
        assert.equal((await api.post(`/stream/${s}`, { maxDeliveries: 1 })).status, 201);
        const [id] = await addMany(api, s, 1);
        await createGroup(api, s, "g");
        const forced = await api.post(`/stream/${s}/group/g/claim`, { consumer: "c1", minIdleTime: 0, ids: [id], force: true });
        assert.deepEqual(forced.body.entries.map((e: any) => [e.id, e.deliveryCount]), [[id, 2]]);
        const rows = (await pending(api, s, "g", "count=10")).entries;
        assert.deepEqual(rows.map((r: any) => [r.id, r.consumer]), [[id, "c1"]]);
        assert.equal((await api.get(`/stream/${s}:dlq/len`)).body.length ?? 0, 0);
      });

      it("a claim's time in the future counts as now, so the entry can still be claimed once idle", async () => {
        const s = unique("claim-future");
        const [id] = await addMany(api, s, 1);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1");
        const future = await api.post(`/stream/${s}/group/g/claim`, {
          consumer: "c1",
          minIdleTime: 0,
          ids: [id],
          time: clock.now() + 3_600_000,
          justId: true,
        });
        assert.deepEqual(future.body, { ids: [id] });
        assert.deepEqual((await pending(api, s, "g", "count=10")).entries.map((r: any) => r.idleMs), [0]);
        clock.advance(1_000);
        const taken = await api.post(`/stream/${s}/group/g/claim`, { consumer: "c2", minIdleTime: 1_000, ids: [id] });
        assert.equal(taken.status, 200, JSON.stringify(taken.body));
        assert.deepEqual(taken.body.entries.map((e: any) => e.id), [id]);
      });

      it("autoclaim pages through idle entries with its next cursor", async () => {
        const s = unique("autoclaim");
        const ids = await addMany(api, s, 5);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1", "count=5");
        clock.advance(10_000);
        const autoclaim = (body: Record<string, unknown>) => api.post(`/stream/${s}/group/g/autoclaim`, body);

        const none = await autoclaim({ consumer: "c2", minIdleTime: 20_000 });
        assert.equal(none.status, 200);
        assert.deepEqual(none.body, { next: "0-0", deleted: [], entries: [] });

        const seen: string[] = [];
        let start = "0-0";
        const pages: string[][] = [];
        for (let i = 0; i < 10; i++) {
          const res = await autoclaim({ consumer: "c2", minIdleTime: 5_000, start, count: 2 });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepEqual(res.body.deleted, []);
          const got: string[] = idsOf(res.body.entries);
          for (const e of res.body.entries) assert.equal(e.deliveryCount, 2);
          pages.push(got);
          seen.push(...got);
          if (res.body.next === "0-0") break;
          // The cursor points past everything claimed so far and not past the next pending entry.
          assert.ok(cmp(res.body.next, got[got.length - 1]!) > 0, `next ${res.body.next} after ${got.join(",")}`);
          start = res.body.next;
        }
        assert.deepEqual(pages.slice(0, 3), [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]);
        assert.deepEqual(seen, ids);
        assert.deepEqual(await pending(api, s, "g"), {
          count: 5,
          smallestId: ids[0],
          largestId: ids[4],
          consumers: [{ name: "c2", pending: 5 }],
        });

        clock.advance(10_000);
        const justId = await autoclaim({ consumer: "c3", minIdleTime: 5_000, count: 2, justId: true });
        assert.deepEqual(justId.body.ids, ids.slice(0, 2));
        assert.deepEqual(
          (await pending(api, s, "g", "consumer=c3")).entries.map((r: any) => [r.id, r.deliveryCount]),
          [
            [ids[0], 2],
            [ids[1], 2],
          ],
        );
      });

      it("autoclaim lists the ids of entries deleted while pending and drops them from the PEL", async () => {
        const s = unique("autodel");
        const ids = await addMany(api, s, 4);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1", "count=4");
        assert.deepEqual((await api.post(`/stream/${s}/delete`, { ids: [ids[1], ids[2]] })).body, { deleted: 2 });
        clock.advance(1_000);

        const res = await api.post(`/stream/${s}/group/g/autoclaim`, { consumer: "c2", minIdleTime: 500, count: 10 });
        assert.equal(res.status, 200);
        assert.deepEqual(idsOf(res.body.entries), [ids[0], ids[3]]);
        assert.deepEqual(res.body.deleted, [ids[1], ids[2]]);
        assert.equal(res.body.next, "0-0");
        assert.deepEqual(await pending(api, s, "g"), {
          count: 2,
          smallestId: ids[0],
          largestId: ids[3],
          consumers: [{ name: "c2", pending: 2 }],
        });
      });
    });

    describe("delivery order and fan-out", () => {
      it("concurrent consumers never receive the same entry and together receive each exactly once", async () => {
        const s = unique("race");
        const ids = await addMany(api, s, 200);
        await createGroup(api, s, "g");
        const got = new Map<string, string[]>();
        async function consume(name: string): Promise<void> {
          const mine: string[] = [];
          got.set(name, mine);
          for (;;) {
            const entries = await read(api, s, "g", name, "count=7");
            if (entries.length === 0) return;
            assert.ok(entries.length <= 7);
            mine.push(...idsOf(entries));
          }
        }
        await Promise.all(["c1", "c2", "c3", "c4"].map(consume));
        const all = [...got.values()].flat();
        assert.equal(new Set(all).size, all.length, "an entry went to two consumers");
        assert.deepEqual([...all].sort(cmp), ids);
        const summary = await pending(api, s, "g");
        assert.equal(summary.count, 200);
        assert.deepEqual(
          summary.consumers.map((c: any) => [c.name, c.pending]),
          [...got.entries()].filter(([, v]) => v.length > 0).map(([k, v]) => [k, v.length]).sort(),
        );
      });

      it("delivers higher priorities first, and within a priority in id order", async () => {
        const s = unique("prio");
        const low = await add(api, s, { p: "LOW" }, "priority=LOW");
        const normal = await add(api, s, { p: "NORMAL" }, "priority=NORMAL");
        const critical = await add(api, s, { p: "CRITICAL" }, "priority=CRITICAL");
        const high = await add(api, s, { p: "HIGH" }, "priority=HIGH");
        await createGroup(api, s, "g");
        const got = await read(api, s, "g", "c", "count=10");
        assert.deepEqual(got.map((e) => [e.id, e.priority, e.payload.p]), [
          [critical, "CRITICAL", "CRITICAL"],
          [high, "HIGH", "HIGH"],
          [normal, "NORMAL", "NORMAL"],
          [low, "LOW", "LOW"],
        ]);

        const s2 = unique("prio2");
        const res = await api.post(`/stream/${s2}/entries`, {
          entries: [
            { payload: "l1", priority: "LOW" },
            { payload: "h1", priority: "HIGH" },
            { payload: "l2", priority: "LOW" },
            { payload: "h2", priority: "HIGH" },
            { payload: "n1" },
            { payload: "h3", priority: "HIGH" },
          ],
        });
        assert.equal(res.status, 201);
        await createGroup(api, s2, "g");
        assert.deepEqual((await read(api, s2, "g", "c", "count=2")).map((e) => e.payload), ["h1", "h2"]);
        // A more urgent entry appended later overtakes what is still waiting.
        await add(api, s2, JSON.stringify("c1"), "priority=CRITICAL");
        assert.deepEqual((await read(api, s2, "g", "c", "count=2")).map((e) => e.payload), ["c1", "h3"]);
        assert.deepEqual((await read(api, s2, "g", "c", "count=10")).map((e) => e.payload), ["n1", "l1", "l2"]);
        assert.deepEqual(await read(api, s2, "g", "c"), []);
      });

      it("a delayed entry waits for its time while later entries go first", async () => {
        const s = unique("delay");
        const delayed = await add(api, s, { d: true }, "delayMs=5000");
        const e2 = await add(api, s, { n: 2 });
        await createGroup(api, s, "g");
        const e3 = (await api.post(`/stream/${s}/entries`, { payload: { n: 3 } })).body.ids[0];
        const alsoDelayed = (await api.post(`/stream/${s}/entries`, { payload: { n: 4 }, delayMs: 8_000 })).body.ids[0];

        assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=10")), [e2, e3]);
        assert.equal((await info(api, s, "g")).deferred, 2);
        clock.advance(4_999);
        assert.deepEqual(await read(api, s, "g", "c"), []);
        clock.advance(1);
        const due = await read(api, s, "g", "c", "count=10");
        assert.deepEqual(due.map((e) => [e.id, e.payload, e.deliveryCount]), [[delayed, { d: true }, 1]]);
        clock.advance(3_000);
        assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=10")), [alsoDelayed]);
        const g = await info(api, s, "g");
        assert.equal(g.deferred, 0);
        assert.equal(g.pending, 4);
      });

      it("a ready entry behind many delayed ones is delivered by the first read", async () => {
        const s = unique("manydelay");
        const delayed = (
          await api.post(`/stream/${s}/entries`, {
            entries: Array.from({ length: 30 }, (_, i) => ({ payload: { d: i }, delayMs: 60_000 })),
          })
        ).body.ids as string[];
        const ready = await add(api, s, { ready: true });
        await createGroup(api, s, "g");
        assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=2")), [ready]);
        assert.equal((await info(api, s, "g")).deferred, 30);
        clock.advance(60_000);
        const due: string[] = [];
        for (let i = 0; i < 10; i++) {
          const got = await read(api, s, "g", "c", "count=7");
          if (got.length === 0) break;
          due.push(...idsOf(got));
        }
        assert.deepEqual(due, delayed);
      });

      it("a group over a partitioned stream delivers every entry once, in id order", async () => {
        const s = unique("parts");
        const created = await api.post(`/stream/${s}`, { partitions: 4 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const res = await api.post(`/stream/${s}/entries`, {
          entries: Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? { payload: i, key: `k${i % 5}` } : { payload: i })),
        });
        assert.equal(res.status, 201);
        const ids: string[] = res.body.ids;
        const partitions = new Set(res.body.results.map((r: any) => r.partition));
        assert.ok(partitions.size > 1, "entries spread over partitions");
        await createGroup(api, s, "g");

        const got: any[] = [];
        for (let i = 0; i < 20; i++) {
          const entries = await read(api, s, "g", "c", "count=7");
          if (entries.length === 0) break;
          got.push(...entries);
        }
        assert.deepEqual(idsOf(got), ids);
        assert.deepEqual(got.map((e) => e.payload), Array.from({ length: 40 }, (_, i) => i));
        assert.deepEqual(new Set(got.map((e) => e.partition)), partitions);
        assert.equal((await info(api, s, "g")).pending, 40);
      });

      it("lag is what was appended minus what was acknowledged", async () => {
        const s = unique("lag");
        const ids = await addMany(api, s, 10);
        await createGroup(api, s, "g");
        await createGroup(api, s, "late", "$");
        assert.equal((await info(api, s, "g")).lag, 10);
        assert.equal((await info(api, s, "late")).lag, 0);

        await read(api, s, "g", "c", "count=6");
        assert.equal((await info(api, s, "g")).lag, 10);
        await api.post(`/stream/${s}/group/g/ack`, { ids: ids.slice(0, 4) });
        assert.equal((await info(api, s, "g")).lag, 6);
        await api.post(`/stream/${s}/group/g/ack`, { ids: ids.slice(0, 4) });
        assert.equal((await info(api, s, "g")).lag, 6, "acking twice does not count twice");

        await addMany(api, s, 2);
        const g = await info(api, s, "g");
        assert.equal(g.lag, 8);
        assert.equal(g.entriesRead, 6);
        assert.equal((await info(api, s, "late")).lag, 2);
        const streamInfo = await api.get(`/stream/${s}/info`);
        assert.deepEqual(
          streamInfo.body.groups.map((x: any) => [x.name, x.lag]),
          [
            ["g", 8],
            ["late", 2],
          ],
        );
      });

      it("after setid, lag counts the entries appended after the new position", async () => {
        const s = unique("lagsetid");
        const old = await addMany(api, s, 4);
        await createGroup(api, s, "g");
        assert.equal((await read(api, s, "g", "c", "count=10")).length, 4);
        assert.equal((await api.post(`/stream/${s}/group/g/setid`, { id: "$" })).status, 200);
        // The old entries are still pending; acknowledging them must not eat into the lag of what comes next.
        assert.deepEqual((await api.post(`/stream/${s}/group/g/ack`, { ids: old })).body, { acked: 4 });
        const fresh = await addMany(api, s, 2);
        const g = await info(api, s, "g");
        assert.equal(g.pending, 0);
        assert.equal(g.lag, 2);
        assert.deepEqual(idsOf(await read(api, s, "g", "c", "count=10")), fresh);
        await api.post(`/stream/${s}/group/g/ack`, { ids: fresh });
        assert.equal((await info(api, s, "g")).lag, 0);
      });

      it("lag is 0 once everything left in the stream is acknowledged, even when an entry was deleted before delivery", async () => {
        const s = unique("lagdel");
        const ids = await addMany(api, s, 3);
        await createGroup(api, s, "g");
        assert.deepEqual((await api.post(`/stream/${s}/delete`, { ids: [ids[1]] })).body, { deleted: 1 });
        const got = await read(api, s, "g", "c", "count=10");
        assert.deepEqual(idsOf(got), [ids[0], ids[2]]);
        assert.deepEqual((await api.post(`/stream/${s}/group/g/ack`, { ids: idsOf(got) })).body, { acked: 2 });
        const g = await info(api, s, "g");
        assert.equal(g.pending, 0);
        assert.equal(g.lag, 0);
      });

      it("deleting a consumer hands its pending entries back to the group for another consumer", async () => {
        const s = unique("delconsumer");
        const ids = await addMany(api, s, 3);
        await createGroup(api, s, "g");
        await read(api, s, "g", "c1", "count=3");
        await api.post(`/stream/${s}/group/g/ack`, { ids: [ids[0]] });

        const del = await api.del(`/stream/${s}/group/g/consumer/c1`);
        assert.equal(del.status, 200);
        assert.deepEqual(del.body, { deleted: true, handedBack: 2 });
        const g = await info(api, s, "g");
        assert.equal(g.pending, 0);
        assert.deepEqual(g.consumerList, []);

        const got = await read(api, s, "g", "c2", "count=10");
        assert.deepEqual(got.map((e) => [e.id, e.deliveryCount]), [
          [ids[1], 2],
          [ids[2], 2],
        ]);
        assert.deepEqual((await pending(api, s, "g")).consumers, [{ name: "c2", pending: 2 }]);
        assertNotFound(await api.del(`/stream/${s}/group/g/consumer/c1`), "deleted twice");
      });
    });
  });
}
