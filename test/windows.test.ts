// Windowed streams over HTTP against every backend (seed 002): alignment, readiness with grace, late entries,
// leases (expiry, renew, nack), exclusive windows, seek, partitioned versus global, empty windows, several sources,
// hopping and session windows, and many nodes on PostgreSQL.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "../src/core/clock.js";
import type { RunningServer } from "../src/api/server.js";
import type { StoreOptions } from "../src/storage/index.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

type Api = ReturnType<typeof client>;

/** A whole minute, so tumbling windows of a minute start exactly here. */
const T0 = 1_699_999_980_000;
const SEC = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

interface Fixture {
  api: Api;
  clock: ManualClock;
}

/** Appends one entry per [offset ms from T0, payload], with the clock set so the entry's timestamp is T0 + offset. */
async function addAt(f: Fixture, stream: string, items: [number, unknown, number?][]): Promise<void> {
  for (const [offset, payload, partition] of items) {
    f.clock.set(T0 + offset);
    const res = await f.api.post(`/stream/${stream}/entries`, { payload, ...(partition === undefined ? {} : { partition }) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
}

async function define(api: Api, body: Record<string, unknown>, status = 201): Promise<any> {
  const res = await api.post("/api/v1/stream/define", body);
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

async function poll(api: Api, streamName: string, consumerGroup: string, timeout = 0): Promise<any> {
  const res = await api.post("/api/v1/stream/poll", { streamName, consumerGroup, timeout });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.window;
}

async function ack(api: Api, w: any, success = true, status = 200): Promise<any> {
  const res = await api.post("/api/v1/stream/ack", { windowId: w.id, leaseId: w.leaseId, success });
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

function tumbling(name: string, sources: string[], extra: Record<string, unknown> = {}) {
  return {
    name,
    namespace: "default",
    source_queue_names: sources,
    partitioned: false,
    window_type: "tumbling",
    window_duration_ms: 60 * SEC,
    window_grace_period_ms: 10 * SEC,
    window_lease_timeout_ms: 5 * SEC,
    ...extra,
  };
}

const payloads = (w: any) => w.messages.map((m: any) => m.payload);

for (const backend of await backends()) {
  describe(`windowed streams (${backend.name})`, () => {
    let server: RunningServer;
    let f: Fixture;
    let store: StoreOptions;

    before(async () => {
      const clock = new ManualClock(T0);
      store = await backend.fresh();
      server = await startTestServer(store, { clock });
      f = { api: client(server.url), clock };
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("aligns tumbling windows and delivers one only once the watermark passes its end plus the grace", async () => {
      const src = unique("clicks");
      const name = unique("win");
      const body = await define(f.api, tumbling(name, [src]));
      assert.equal(body.created, true);
      assert.equal(body.stream.window_duration_ms, 60_000);
      await addAt(f, src, [
        [5 * SEC, { n: 1 }],
        [30 * SEC, { n: 2 }],
        [65 * SEC, { n: 3 }],
      ]);
      assert.equal(await poll(f.api, name, "g"), null, "the watermark (65 s) has not passed 60 s + 10 s grace");
      await addAt(f, src, [[69 * SEC, { n: 4 }]]);
      assert.equal(await poll(f.api, name, "g"), null, "69 s is still inside the grace period");
      await addAt(f, src, [[70 * SEC, { n: 5 }]]);
      const w = await poll(f.api, name, "g");
      assert.ok(w, "the first window is ready at 70 s");
      assert.equal(w.key, "__GLOBAL__");
      assert.equal(w.start, iso(T0));
      assert.equal(w.end, iso(T0 + 60 * SEC));
      assert.deepEqual(payloads(w), [{ n: 1 }, { n: 2 }]);
      assert.equal(w.messages[0].queue, src);
      assert.equal(w.messages[0].eventTime, T0 + 5 * SEC);
      assert.equal(typeof w.leaseId, "string");
      await ack(f.api, w);
      assert.equal(await poll(f.api, name, "g"), null, "the next window [60 s, 120 s) is not ready");
      // Defining it again the same way is fine; differently is a conflict naming the field.
      assert.equal((await define(f.api, tumbling(name, [src]), 200)).created, false);
      const clash = await f.api.post("/api/v1/stream/define", tumbling(name, [src], { window_grace_period_ms: 1 }));
      assert.equal(clash.status, 409);
      assert.equal(clash.body.error.field, "window_grace_period_ms");
    });

    it("counts entries that arrive after their window closed and keeps them in the late stream", async () => {
      const src = unique("src");
      const name = unique("win");
      await define(f.api, tumbling(name, [src]));
      await addAt(f, src, [
        [10 * SEC, { n: 1 }],
        [65 * SEC, { n: 2 }],
      ]);
      assert.equal(await poll(f.api, name, "g"), null);
      // Within the grace period (the watermark 65 s < 60 s + 10 s) an older entry still joins its window...
      await addAt(f, src, [
        [20 * SEC, { n: "in-grace" }],
        [75 * SEC, { n: 3 }],
      ]);
      const first = await poll(f.api, name, "g");
      assert.deepEqual(payloads(first), [{ n: 1 }, { n: "in-grace" }]);
      // ...once the watermark (75 s) passed it, an entry for that window is late: not lost, counted and readable.
      await addAt(f, src, [[30 * SEC, { n: "late" }]]);
      assert.equal(await poll(f.api, name, "g"), null, "polling ingests the late entry; the key is leased");
      const info = await f.api.get(`/api/v1/stream/${name}`);
      assert.equal(info.status, 200, JSON.stringify(info.body));
      assert.equal(info.body.late, 1);
      assert.equal(info.body.lateStream, `${name}:late`);
      assert.equal(info.body.watermarks.__GLOBAL__, iso(T0 + 75 * SEC));
      const late = await f.api.get(`/stream/${name}:late/range`);
      assert.equal(late.status, 200, JSON.stringify(late.body));
      assert.equal(late.body.entries.length, 1);
      assert.deepEqual(late.body.entries[0].payload, { n: "late" });
      assert.equal(late.body.entries[0].headers["x-source-stream"], src);
      assert.equal(late.body.entries[0].headers["x-event-time"], String(T0 + 30 * SEC));
      await ack(f.api, first);
    });

    it("gives an expired lease's window to the next poll, refuses the old lease, and honours renew and nack", async () => {
      const src = unique("src");
      const name = unique("win");
      await define(f.api, tumbling(name, [src]));
      await addAt(f, src, [
        [1 * SEC, { n: 1 }],
        [80 * SEC, { n: 2 }],
      ]);
      const w1 = await poll(f.api, name, "g");
      assert.ok(w1);
      assert.equal(w1.attempt, 1);
      assert.equal(await poll(f.api, name, "g"), null, "held by the first consumer");
      assert.ok(await poll(f.api, name, "other-group"), "another group has its own progress");
      f.clock.advance(5 * SEC);
      const w2 = await poll(f.api, name, "g");
      assert.ok(w2, "the lease expired");
      assert.equal(w2.id, w1.id);
      assert.notEqual(w2.leaseId, w1.leaseId);
      assert.equal(w2.attempt, 2);
      const stale = await ack(f.api, w1, true, 409);
      assert.equal(stale.error.field, "leaseId");

      // Renew keeps it: 4 s in, extend by 5 s, 4 s more is still held.
      f.clock.advance(4 * SEC);
      const renewed = await f.api.post("/api/v1/stream/renew-lease", { leaseId: w2.leaseId, extend_ms: 5000 });
      assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
      assert.equal(renewed.body.expiresAt, iso(f.clock.now() + 5000));
      f.clock.advance(4 * SEC);
      assert.equal(await poll(f.api, name, "g"), null);

      // Nack hands it back at once.
      await ack(f.api, w2, false);
      const w3 = await poll(f.api, name, "g");
      assert.equal(w3.id, w1.id);
      assert.equal(w3.attempt, 3);
      await ack(f.api, w3);
      assert.equal(await poll(f.api, name, "g"), null);
      const gone = await f.api.post("/api/v1/stream/renew-lease", { leaseId: w3.leaseId, extend_ms: 1000 });
      assert.equal(gone.status, 409);
    });

    it("partitioned: one window per partition keyed by it, never held by two consumers; global combines them", async () => {
      const src = unique("src");
      assert.equal((await f.api.post(`/stream/${src}`, { partitions: 4 })).status, 201);
      const part = unique("part");
      const glob = unique("glob");
      await define(f.api, tumbling(part, [src], { partitioned: true }));
      await define(f.api, tumbling(glob, [src], { partitioned: false }));
      const items: [number, unknown, number][] = [];
      for (let p = 0; p < 4; p++) items.push([(10 + p) * SEC, { p }, p]);
      for (let p = 0; p < 4; p++) items.push([(80 + p) * SEC, { p, later: true }, p]);
      await addAt(f, src, items);

      const polls = await Promise.all(Array.from({ length: 8 }, (_, i) => poll(f.api, part, "g", i % 2 === 0 ? 0 : 300)));
      const got = polls.filter(Boolean);
      assert.equal(got.length, 4, "four partitions, four windows, each to one consumer only");
      assert.deepEqual(got.map((w) => w.key).sort(), ["0", "1", "2", "3"]);
      assert.equal(new Set(got.map((w) => w.id)).size, 4);
      for (const w of got) assert.deepEqual(payloads(w), [{ p: Number(w.key) }]);
      for (const w of got) await ack(f.api, w);

      const g = await poll(f.api, glob, "g");
      assert.equal(g.key, "__GLOBAL__");
      assert.deepEqual(payloads(g), [{ p: 0 }, { p: 1 }, { p: 2 }, { p: 3 }]);
      await ack(f.api, g);
    });

    it("skips empty windows, seeks back by time and combines several source queues", async () => {
      const a = unique("a");
      const b = unique("b");
      const name = unique("win");
      await define(f.api, tumbling(name, [a, b]));
      f.clock.set(T0 + 5 * SEC);
      const viaQueue = await f.api.post(`/api/v1/queues/default/${b}/messages`, { payload: { from: "b" } });
      assert.equal(viaQueue.status, 201, JSON.stringify(viaQueue.body));
      await addAt(f, a, [
        [6 * SEC, { from: "a" }],
        [250 * SEC, { from: "a", n: 2 }],
        [400 * SEC, { from: "a", n: 3 }],
      ]);
      const w1 = await poll(f.api, name, "g");
      assert.deepEqual(
        w1.messages.map((m: any) => m.queue),
        [b, a],
      );
      await ack(f.api, w1);
      const w2 = await poll(f.api, name, "g");
      assert.equal(w2.start, iso(T0 + 240 * SEC), "the empty windows between were skipped");
      assert.deepEqual(payloads(w2), [{ from: "a", n: 2 }]);
      await ack(f.api, w2);
      assert.equal(await poll(f.api, name, "g"), null);

      const seek = await f.api.post("/api/v1/stream/seek", { streamName: name, consumerGroup: "g", timestamp: iso(T0 + 30 * SEC) });
      assert.equal(seek.status, 200, JSON.stringify(seek.body));
      assert.equal(seek.body.from, iso(T0));
      const again = await poll(f.api, name, "g");
      assert.equal(again.id, w1.id, "seek delivers the window holding the timestamp again");
      await ack(f.api, again);
      // Seeking a group that never polled places it, too.
      await f.api.post("/api/v1/stream/seek", { streamName: name, consumerGroup: "fresh", timestamp: iso(T0 + 200 * SEC) });
      assert.equal((await poll(f.api, name, "fresh")).id, w2.id);
    });

    it("forgets entries trimmed from a source: a new group starts at the first window that still holds one", async () => {
      const src = unique("trimmed");
      const name = unique("win");
      const created = await f.api.post(`/stream/${src}`, { maxLen: 2 });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await define(f.api, tumbling(name, [src]));
      // One entry a minute for 150 minutes; the source keeps the last two. A poll after each append indexes it.
      for (let minute = 0; minute < 150; minute++) {
        await addAt(f, src, [[minute * 60 * SEC + SEC, { minute }]]);
        const w = await poll(f.api, name, "early");
        if (w) await ack(f.api, w);
      }
      await addAt(f, src, [[150 * 60 * SEC + 11 * SEC, { minute: 150 }]]);
      // A poll walks past at most 100 windows whose entries are gone; this one found 149 of them before.
      const w = await poll(f.api, name, "late");
      assert.ok(w, "the windows of trimmed entries hold nothing to walk past");
      assert.equal(w.start, iso(T0 + 149 * 60 * SEC));
      assert.deepEqual(payloads(w), [{ minute: 149 }]);
    });

    it("wakes a long poll when an append makes a window ready", async () => {
      const src = unique("src");
      const name = unique("win");
      await define(f.api, tumbling(name, [src]));
      await addAt(f, src, [[1 * SEC, { n: 1 }]]);
      const waiting = poll(f.api, name, "g", 10_000);
      await new Promise((r) => setTimeout(r, 100));
      await addAt(f, src, [[90 * SEC, { n: 2 }]]);
      const w = await waiting;
      assert.ok(w);
      assert.deepEqual(payloads(w), [{ n: 1 }]);
    });

    it("hopping windows overlap; session windows close after a gap; event time may come from the payload", async () => {
      const src = unique("src");
      const hop = unique("hop");
      await define(f.api, tumbling(hop, [src], { window_type: "hopping", window_hop_ms: 30 * SEC, window_grace_period_ms: 0 }));
      await addAt(f, src, [
        [40 * SEC, { n: 1 }],
        [200 * SEC, { n: 2 }],
      ]);
      const h1 = await poll(f.api, hop, "g");
      assert.equal(h1.start, iso(T0));
      assert.equal(h1.end, iso(T0 + 60 * SEC));
      await ack(f.api, h1);
      const h2 = await poll(f.api, hop, "g");
      assert.equal(h2.start, iso(T0 + 30 * SEC), "the entry at 40 s is in [0, 60) and [30, 90)");
      assert.deepEqual(payloads(h2), [{ n: 1 }]);
      await ack(f.api, h2);

      const sess = unique("sess");
      const src2 = unique("src");
      await define(f.api, {
        name: sess,
        source_queue_names: [src2],
        window_type: "session",
        window_gap_ms: 10 * SEC,
        window_grace_period_ms: 0,
        event_time_field: "at",
      });
      // Appended in one order at one clock time; the payload's `at` is the event time.
      f.clock.set(T0);
      for (const at of [0, 4, 9, 30, 35, 70]) {
        await f.api.post(`/stream/${src2}/entries`, { payload: { at: T0 + at * SEC } });
      }
      const s1 = await poll(f.api, sess, "g");
      assert.equal(s1.start, iso(T0));
      assert.equal(s1.end, iso(T0 + 19 * SEC));
      assert.equal(s1.messages.length, 3);
      await ack(f.api, s1);
      const s2 = await poll(f.api, sess, "g");
      assert.equal(s2.start, iso(T0 + 30 * SEC));
      assert.equal(s2.end, iso(T0 + 45 * SEC));
      await ack(f.api, s2);
      assert.equal(await poll(f.api, sess, "g"), null, "the session at 70 s is still open");
    });

    it("event times in the payload: digits are epoch ms, ISO text is UTC unless it says otherwise, an impossible time falls back", async () => {
      const name = unique("evtime");
      const src = unique("src");
      await define(f.api, tumbling(name, [src], { event_time_field: "t" }));
      const zone = process.env.TZ;
      process.env.TZ = "Asia/Kolkata"; // the server's own time zone must not matter
      try {
        f.clock.set(T0);
        const utcText = new Date(T0 + 20 * SEC).toISOString().replace(/\.000Z$/, ""); // no offset
        for (const t of [(T0 + 5 * SEC) * 1e6, utcText, String(T0 + 30 * SEC), T0 + 90 * SEC]) {
          assert.equal((await f.api.post(`/stream/${src}/entries`, { payload: { t } })).status, 201);
        }
        const w = await poll(f.api, name, "g");
        assert.equal(w.start, iso(T0));
        assert.deepEqual(w.messages.map((m: any) => m.eventTime), [T0, T0 + 20 * SEC, T0 + 30 * SEC], "nanoseconds fall back to the append time");
        await ack(f.api, w);
        assert.equal((await f.api.get(`/api/v1/stream/${name}`)).status, 200);
      } finally {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
      }
    });

    it("an out-of-order entry joins its session while that session is open; it is late only once it closed", async () => {
      const name = unique("sessorder");
      const src = unique("src");
      await define(f.api, { name, source_queue_names: [src], window_type: "session", window_gap_ms: 10 * SEC, window_grace_period_ms: 0, event_time_field: "t" });
      f.clock.set(T0);
      const add = async (at: number) => assert.equal((await f.api.post(`/stream/${src}/entries`, { payload: { t: T0 + at * SEC } })).status, 201);
      await add(1);
      await add(8);
      assert.equal(await poll(f.api, name, "g"), null, "the session is still open");
      await add(5); // behind the watermark (8 s), inside the open session
      await add(500); // closes it
      const w = await poll(f.api, name, "g");
      assert.deepEqual(w.messages.map((m: any) => (m.eventTime - T0) / SEC), [1, 5, 8]);
      await ack(f.api, w);
      await add(3); // the session [1 s, 18 s) was handed out: now this one is late
      await poll(f.api, name, "g");
      const info = await f.api.get(`/api/v1/stream/${name}`);
      assert.equal(info.body.late, 1);
    });

    it("a seek into the middle of a session delivers that whole session again", async () => {
      const name = unique("sessseek");
      const src = unique("src");
      await define(f.api, { name, source_queue_names: [src], window_type: "session", window_gap_ms: 10 * SEC, window_grace_period_ms: 0, event_time_field: "t" });
      f.clock.set(T0);
      for (const at of [1, 5, 9, 100]) {
        assert.equal((await f.api.post(`/stream/${src}/entries`, { payload: { t: T0 + at * SEC } })).status, 201);
      }
      const first = await poll(f.api, name, "g");
      assert.deepEqual([first.start, first.messages.length], [iso(T0 + SEC), 3]);
      await ack(f.api, first);
      const seek = await f.api.post("/api/v1/stream/seek", { streamName: name, consumerGroup: "g", timestamp: T0 + 6 * SEC });
      assert.equal(seek.status, 200, JSON.stringify(seek.body));
      const again = await poll(f.api, name, "g");
      assert.deepEqual([again.start, again.end, again.messages.length], [first.start, first.end, 3]);
    });

    it("rejects bad bodies with the field named", async () => {
      const unknownField = await f.api.post("/api/v1/stream/define", { ...tumbling(unique("w"), ["x"]), colour: "red" });
      assert.equal(unknownField.status, 400);
      const noDuration = await f.api.post("/api/v1/stream/define", { name: unique("w"), source_queue_names: ["x"] });
      assert.equal(noDuration.status, 400);
      assert.equal(noDuration.body.error.field, "window_duration_ms");
      const missing = await f.api.post("/api/v1/stream/poll", { streamName: unique("nope"), consumerGroup: "g", timeout: 0 });
      assert.equal(missing.status, 404);
      const badTime = await f.api.post("/api/v1/stream/seek", { streamName: "x", consumerGroup: "g", timestamp: "yesterday" });
      assert.equal(badTime.status, 400);
    });

    if (backend.name === "postgres") {
      it("two nodes on one database never lease the same window", async () => {
        const other = await startTestServer(store, { clock: f.clock });
        try {
          const api2 = client(other.url);
          const src = unique("src");
          assert.equal((await f.api.post(`/stream/${src}`, { partitions: 8 })).status, 201);
          const name = unique("win");
          await define(f.api, tumbling(name, [src], { partitioned: true }));
          const items: [number, unknown, number][] = [];
          for (let p = 0; p < 8; p++) items.push([(10 + p) * SEC, { p }, p], [(90 + p) * SEC, { p }, p]);
          await addAt(f, src, items);
          const polls = await Promise.all(
            Array.from({ length: 24 }, (_, i) => poll(i % 2 === 0 ? f.api : api2, name, "g", 0)),
          );
          const got = polls.filter(Boolean);
          assert.equal(got.length, 8);
          assert.equal(new Set(got.map((w) => w.id)).size, 8, "no window went to two consumers");
        } finally {
          await other.close();
        }
      });
    }
  });
}
