// Concurrent appends to one stream share a unit of work. What a user must still see: every request answered
// with its own ids, in its own order, ids increasing across the stream, nothing lost or doubled, and a bad
// request refused alone while its neighbours are stored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { parseRangeEnd, parseRangeStart } from "../src/core/ids.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

function idKey(id: string): [number, number] {
  const [ms, seq] = id.split("-").map(Number);
  return [ms!, seq!];
}

function increasing(ids: string[]): boolean {
  for (let i = 1; i < ids.length; i++) {
    const [am, as] = idKey(ids[i - 1]!);
    const [bm, bs] = idKey(ids[i]!);
    if (!(bm > am || (bm === am && bs > as))) return false;
  }
  return true;
}

for (const backend of await backends()) {
  describe(`concurrent appends to one stream (${backend.name})`, () => {
    let server: RunningServer;
    let api: ReturnType<typeof client>;
    before(async () => {
      server = await startTestServer(await backend.fresh());
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("60 single appends and 20 batches at once: each answered with its own ids, all stored once, in id order", async () => {
      const stream = unique("together");
      const singles = Array.from({ length: 60 }, (_, i) => api.post(`/stream/${stream}/add`, { single: i }));
      const batches = Array.from({ length: 20 }, (_, b) =>
        api.post(`/stream/${stream}/entries`, { entries: Array.from({ length: 25 }, (_, i) => ({ payload: { batch: b, i } })) }),
      );
      const [singleReplies, batchReplies] = await Promise.all([Promise.all(singles), Promise.all(batches)]);
      for (const r of [...singleReplies, ...batchReplies]) assert.equal(r.status, 201, JSON.stringify(r.body));
      for (const r of batchReplies) {
        assert.equal(r.body.ids.length, 25);
        assert.ok(increasing(r.body.ids), "a batch's ids increase");
      }
      const all = [...singleReplies.map((r) => r.body.id as string), ...batchReplies.flatMap((r) => r.body.ids as string[])];
      assert.equal(new Set(all).size, 560, "no id was handed out twice");

      const read = await api.get(`/stream/${stream}/range?count=1000`);
      assert.equal(read.status, 200);
      const entries = read.body.entries as { id: string; payload: { single?: number; batch?: number; i?: number } }[];
      assert.equal(entries.length, 560);
      assert.ok(increasing(entries.map((e) => e.id)));
      // Each answer names the entry that carries that request's payload.
      const byId = new Map(entries.map((e) => [e.id, e.payload]));
      singleReplies.forEach((r, i) => assert.deepEqual(byId.get(r.body.id), { single: i }));
      batchReplies.forEach((r, b) => r.body.ids.forEach((id: string, i: number) => assert.deepEqual(byId.get(id), { batch: b, i })));
      // The offsets of partition 0 run 0..559 without a gap.
      const offsets = batchReplies.flatMap((r) => r.body.results.map((x: { offset: number }) => x.offset));
      offsets.push(...singleReplies.map((r) => r.body.offset as number));
      assert.deepEqual(offsets.sort((a, b) => a - b), Array.from({ length: 560 }, (_, i) => i));
    });

    it("big batches sent at once, more than one shared unit takes, all land with their own ids", async () => {
      const stream = unique("big");
      const replies = await Promise.all(
        [0, 1, 2].map((b) =>
          api.post(`/stream/${stream}/entries`, { entries: Array.from({ length: 6000 }, (_, i) => ({ payload: { b, i } })) }),
        ),
      );
      for (const r of replies) assert.equal(r.status, 201, JSON.stringify(r.body).slice(0, 300));
      for (const r of replies) assert.ok(increasing(r.body.ids));
      assert.equal(new Set(replies.flatMap((r) => r.body.ids)).size, 18_000);
      assert.equal((await api.get(`/stream/${stream}/len`)).body.length, 18_000);
      const last = await api.get(`/stream/${stream}/range?start=${replies[2]!.body.ids[5999]}&count=1`);
      assert.deepEqual(last.body.entries[0].payload, { b: 2, i: 5999 });
    });

    it("a request with a refused explicit id fails alone; the appends around it are stored", async () => {
      const stream = unique("alone");
      const first = await api.post(`/stream/${stream}/add`, { n: "first" });
      assert.equal(first.status, 201);
      const replies = await Promise.all([
        api.post(`/stream/${stream}/add`, { n: 1 }),
        api.post(`/stream/${stream}/add?id=1-1`, { n: "too low" }),
        api.post(`/stream/${stream}/entries`, { entries: [{ payload: { n: 2 } }, { payload: { n: 3 }, partition: 5 }] }),
        api.post(`/stream/${stream}/add`, { n: 4 }),
      ]);
      assert.deepEqual(
        replies.map((r) => r.status),
        [201, 409, 400, 201],
      );
      assert.equal(replies[1]!.body.error.field, "id");
      assert.equal(replies[2]!.body.error.field, "entries/1/partition");
      const read = await api.get(`/stream/${stream}/range`);
      assert.deepEqual(
        read.body.entries.map((e: { payload: { n: unknown } }) => e.payload.n),
        ["first", 1, 4],
      );
    });

    it("a value the database refuses fails only its own request, not the appends merged with it", async () => {
      // The HTTP API only takes payloads that parse as JSON; a program using the engine directly can still send a
      // NUL character, which PostgreSQL's text refuses (SQLite stores it).
      const stream = unique("refused");
      const engine = server.engine;
      const settled = await Promise.allSettled([
        engine.streams.append("default", stream, [{ payload: '"a"' }]),
        engine.streams.append("default", stream, [{ payload: '"bad\u0000"' }]),
        engine.streams.append("default", stream, [{ payload: '"b"' }, { payload: '"c"' }]),
      ]);
      assert.equal(settled[0]!.status, "fulfilled");
      assert.equal(settled[2]!.status, "fulfilled");
      const stored = (await engine.streams.range("default", stream, parseRangeStart("-"), parseRangeEnd("+"), 10)).map((e) => e.payload);
      const expected = settled[1]!.status === "fulfilled" ? ['"a"', '"bad\u0000"', '"b"', '"c"'] : ['"a"', '"b"', '"c"'];
      assert.deepEqual(stored, expected);
      if (backend.name === "postgres") assert.equal(settled[1]!.status, "rejected");
    });

    it("appends with idempotency keys sent at once store each key once", async () => {
      const stream = unique("keys");
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api.post(`/stream/${stream}/add?messageId=m${i % 3}&producerId=p`, { i })),
      );
      for (const r of replies) assert.equal(r.status, 201);
      assert.equal(replies.filter((r) => r.body.duplicate === false).length, 3);
      assert.equal((await api.get(`/stream/${stream}/len`)).body.length, 3);
    });
  });
}
