// Event sourcing (seed 003) against every backend: append with an expected version, reconstruct with the deep-merge
// reducer, as of a version or a time, snapshots every N events and on request, and snapshot + tail = full replay.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { ManualClock } from "../src/core/clock.js";
import { deepMerge, type JsonValue } from "../src/engine/event-store/index.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

type Api = ReturnType<typeof client>;
type Msg = Record<string, any>;

const T0 = Date.parse("2025-01-26T10:00:00Z");

/** A small deterministic generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Patches that exercise the reducer: set, overwrite, nest, replace arrays, delete with null. */
function patches(n: number, seed = 7): Record<string, JsonValue>[] {
  const next = rng(seed);
  const keys = ["a", "b", "c", "d"];
  return Array.from({ length: n }, (_, i): Record<string, JsonValue> => {
    const k = keys[Math.floor(next() * keys.length)]!;
    const roll = next();
    if (roll < 0.2) return { [k]: null };
    if (roll < 0.5) return { [k]: i };
    if (roll < 0.8) return { nested: { [k]: roll < 0.65 ? i : null, deep: { i } } };
    return { list: [i, i + 1], [k]: `v${i}` };
  });
}

async function appendEvent(api: Api, body: Msg): Promise<Msg> {
  const res = await api.post("/api/v1/event-sourcing/append", body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Msg;
}

async function reconstruct(api: Api, body: Msg): Promise<Msg> {
  const res = await api.post("/api/v1/event-sourcing/reconstruct", body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as Msg;
}

function assertError(res: { status: number; body: any }, status: number, field: string | undefined, what: string): void {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  if (field !== undefined) assert.equal(res.body?.error?.field, field, `${what}: ${JSON.stringify(res.body)}`);
}

for (const backend of await backends()) {
  describe(`event sourcing (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    const clock = new ManualClock(T0);

    before(async () => {
      server = await startTestServer(await backend.fresh(), { clock });
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("answers seed 003's append and reconstruct examples field by field", async () => {
      const type = unique("User");
      const id = "user_123";
      const history: Msg[] = [
        { user_name: "john.doe", email: "john@old.example", status: "pending" },
        { status: "active" },
        { phone: "555-0100" },
        { phone: null },
        { email: "john@older.example" },
      ];
      for (const [v, data] of history.entries()) {
        await appendEvent(api, { aggregate_id: id, aggregate_type: type, event_type: "user.changed", event_data: data, expected_version: v });
      }
      clock.set(Date.parse("2025-01-26T10:30:00Z"));
      const res = await api.post("/api/v1/event-sourcing/append", {
        aggregate_id: id,
        aggregate_type: type,
        event_type: "user.updated",
        event_data: { email: "john.doe@company.com", last_login: "2025-01-26T10:30:00Z" },
        expected_version: 5,
        correlation_id: "corr_456",
        metadata: { source: "user_service", user_agent: "mobile_app_v1.2" },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(typeof res.body.event_id, "string");
      assert.equal(res.body.message, "Event appended successfully");

      const state = await reconstruct(api, { aggregate_id: id, aggregate_type: type, update_snapshots: true });
      for (const key of ["aggregate_id", "aggregate_type", "current_version", "state", "last_event_timestamp"]) assert.ok(key in state, key);
      assert.equal(state.aggregate_id, id);
      assert.equal(state.aggregate_type, type);
      assert.equal(state.current_version, 6);
      assert.deepEqual(state.state, {
        user_name: "john.doe",
        email: "john.doe@company.com",
        status: "active",
        last_login: "2025-01-26T10:30:00Z",
      });
      assert.equal(Date.parse(state.last_event_timestamp), Date.parse("2025-01-26T10:30:00Z"));

      const after = await reconstruct(api, { aggregate_id: id, aggregate_type: type });
      assert.equal(after.snapshot_version, 6, "update_snapshots stored the state");
      assert.equal(after.events_replayed, 0);
      assert.deepEqual(after.state, state.state);

      const seen = await api.get(`/api/v1/eventstores/default/${type}/events/${res.body.event_id}`);
      assert.equal(seen.status, 200, "seed 003 events are readable through seed 000's routes");
      assert.equal(seen.body.event.correlationId, "corr_456");
      assert.equal(seen.body.event.aggregateType, type);
    });

    it("refuses a stale expected version with 409 and the current version", async () => {
      const type = unique("Account");
      await appendEvent(api, { aggregate_id: "acc", aggregate_type: type, event_type: "opened", event_data: { balance: 0 } });
      const stale = await api.post("/api/v1/event-sourcing/append", {
        aggregate_id: "acc",
        aggregate_type: type,
        event_type: "deposited",
        event_data: { balance: 10 },
        expected_version: 0,
      });
      assertError(stale, 409, "expected_version", "a stale expected version");
      assert.equal(stale.body.error.code, "RUNNEL_CONFLICT");
      assert.equal(stale.body.error.currentVersion, 1);

      const race = await Promise.all(
        [1, 2].map((w) =>
          api.post("/api/v1/event-sourcing/append", { aggregate_id: "acc", aggregate_type: type, event_type: "deposited", event_data: { w }, expected_version: 1 }),
        ),
      );
      assert.deepEqual(race.map((r) => r.status).sort(), [201, 409]);
      const idem = { aggregate_id: "acc", aggregate_type: type, event_type: "noted", event_data: {}, event_id: "note-1", expected_version: 2 };
      const once = await appendEvent(api, idem);
      const twice = await appendEvent(api, idem);
      assert.deepEqual([twice.event_id, twice.version, twice.duplicate], [once.event_id, 3, true]);
    });

    it("deep-merges event data, a null deleting a key", async () => {
      const type = unique("Profile");
      const steps: JsonValue[] = [
        { name: "Ann", address: { city: "Oslo", zip: "0150" }, tags: ["a"] },
        { address: { city: "Bergen" }, tags: ["b", "c"] },
        { address: { zip: null }, nickname: "annie" },
        { nickname: null },
      ];
      for (const data of steps) await appendEvent(api, { aggregate_id: "p", aggregate_type: type, event_type: "changed", event_data: data });
      const r = await reconstruct(api, { aggregate_id: "p", aggregate_type: type });
      assert.deepEqual(r.state, { name: "Ann", address: { city: "Bergen" }, tags: ["b", "c"] });
      let expected: JsonValue = {};
      for (const data of steps) expected = deepMerge(expected, data);
      assert.deepEqual(r.state, expected);
    });

    it("reconstructs as of a version, a transaction time, or a valid time", async () => {
      const type = unique("Order");
      const times: number[] = [];
      for (let v = 1; v <= 5; v++) {
        clock.advance(1000);
        times.push(clock.now());
        await appendEvent(api, {
          aggregate_id: "o",
          aggregate_type: type,
          event_type: "step",
          event_data: { [`s${v}`]: true, last: v },
          valid_from: `2025-02-0${v}T00:00:00Z`,
        });
      }
      const v3 = await reconstruct(api, { aggregate_id: "o", aggregate_type: type, as_of_version: 3 });
      assert.equal(v3.current_version, 3);
      assert.deepEqual(v3.state, { s1: true, s2: true, s3: true, last: 3 });
      assert.equal(Date.parse(v3.last_event_timestamp), times[2]);
      const t2 = await reconstruct(api, { aggregate_id: "o", aggregate_type: type, as_of_time: new Date(times[1]!).toISOString() });
      assert.equal(t2.current_version, 2);
      assert.deepEqual(t2.state, { s1: true, s2: true, last: 2 });
      const before = await reconstruct(api, { aggregate_id: "o", aggregate_type: type, as_of_time: "2000-01-01T00:00:00Z" });
      assert.deepEqual([before.current_version, before.state, before.last_event_timestamp], [0, {}, null]);
      const valid = await reconstruct(api, { aggregate_id: "o", aggregate_type: type, valid_at: "2025-02-02T12:00:00Z" });
      assert.deepEqual(valid.state, { s1: true, s2: true, last: 2 });

      const state = await api.get(`/api/v1/eventstores/default/${type}/aggregates/o/state?version=4`);
      assert.equal(state.status, 200, JSON.stringify(state.body));
      assert.equal(state.body.currentVersion, 4);
      assert.equal(state.body.state.last, 4);
    });

    it("snapshots every N events, and snapshot + later events equals a full replay", async () => {
      const type = unique("Ledger");
      const config = await api.call("PUT", `/api/v1/eventstores/default/${type}`, { snapshotEvery: 10 });
      assert.equal(config.status, 201, JSON.stringify(config.body));
      assert.equal(config.body.snapshotEvery, 10);
      const data = patches(95);
      const ids: string[] = [];
      // Four batches of 20, then one event at a time: snapshots at 20, 40, 60, 80 and 90.
      for (let i = 0; i < data.length; ) {
        const size = i < 80 ? 20 : 1;
        const res = await api.post(`/api/v1/eventstores/default/${type}/events`, {
          events: data.slice(i, i + size).map((d) => ({ aggregateId: "L", eventType: "patched", eventData: d })),
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        ids.push(...res.body.events.map((e: Msg) => e.eventId as string));
        i += size;
      }
      let expected: JsonValue = {};
      for (const d of data) expected = deepMerge(expected, d as JsonValue);

      const fast = await reconstruct(api, { aggregate_id: "L", aggregate_type: type });
      const full = await reconstruct(api, { aggregate_id: "L", aggregate_type: type, use_snapshots: false });
      assert.equal(fast.snapshot_version, 90);
      assert.equal(fast.events_replayed, 5);
      assert.equal(full.snapshot_version, null);
      assert.equal(full.events_replayed, 95);
      assert.deepEqual(fast.state, full.state);
      assert.deepEqual(full.state, expected);

      for (const v of [1, 19, 20, 47, 60, 95]) {
        const a = await reconstruct(api, { aggregate_id: "L", aggregate_type: type, as_of_version: v });
        const b = await reconstruct(api, { aggregate_id: "L", aggregate_type: type, as_of_version: v, use_snapshots: false });
        assert.deepEqual(a.state, b.state, `as of version ${v}`);
      }

      // A correction of version 15 changes history under the snapshots at 20..90: they must not be used any more.
      const fix = await api.post(`/api/v1/eventstores/default/${type}/events/${ids[14]}/corrections`, { eventData: { a: "corrected", nested: { deep: null } } });
      assert.equal(fix.status, 201, JSON.stringify(fix.body));
      const fixedFast = await reconstruct(api, { aggregate_id: "L", aggregate_type: type });
      const fixedFull = await reconstruct(api, { aggregate_id: "L", aggregate_type: type, use_snapshots: false });
      assert.equal(fixedFast.current_version, 96);
      assert.equal(fixedFast.snapshot_version, null);
      assert.deepEqual(fixedFast.state, fixedFull.state);
      let corrected: JsonValue = {};
      for (const [i, d] of data.entries()) corrected = deepMerge(corrected, (i === 14 ? { a: "corrected", nested: { deep: null } } : d) as JsonValue);
      assert.deepEqual(fixedFull.state, corrected, "the correction replaces the original in place");

      const taken = await api.post(`/api/v1/eventstores/default/${type}/aggregates/L/snapshots`);
      assert.equal(taken.status, 201, JSON.stringify(taken.body));
      assert.equal(taken.body.version, 96);
      const fromTaken = await reconstruct(api, { aggregate_id: "L", aggregate_type: type });
      assert.deepEqual([fromTaken.snapshot_version, fromTaken.events_replayed], [96, 0]);
      assert.deepEqual(fromTaken.state, fixedFull.state);
      const stats = await api.get(`/api/v1/eventstores/default/${type}/stats`);
      assert.equal(stats.body.stats.snapshotCount, 1, "only the snapshot taken on request is left");
    });

    it("takes the snapshot interval from the server-wide default unless the store sets one", async () => {
      server.engine.eventStore.setDefaults({ snapshotEvery: 3 });
      try {
        const type = unique("Counter");
        for (let i = 0; i < 7; i++) await appendEvent(api, { aggregate_id: "c", aggregate_type: type, event_type: "inc", event_data: { n: i } });
        const r = await reconstruct(api, { aggregate_id: "c", aggregate_type: type });
        assert.deepEqual([r.snapshot_version, r.events_replayed], [6, 1]);
        const off = await api.call("PUT", `/api/v1/eventstores/default/${type}`, { snapshotEvery: 0 });
        assert.equal(off.status, 200);
        assert.equal(off.body.effectiveSnapshotEvery, 0);
        assert.throws(() => server.engine.eventStore.setDefaults({ snapshotEvery: -1 }), /snapshotEvery/);
      } finally {
        server.engine.eventStore.setDefaults({ snapshotEvery: 100 });
      }
    });

    it("rejects bad input with the field named, and unknown aggregates with 404", async () => {
      const type = unique("Thing");
      await appendEvent(api, { aggregate_id: "t", aggregate_type: type, event_type: "made", event_data: {} });
      const append = (body: Msg) => api.post("/api/v1/event-sourcing/append", body);
      const ok = { aggregate_id: "t", aggregate_type: type, event_type: "e", event_data: {} };
      assertError(await append({ ...ok, aggregate_id: undefined }), 400, "aggregate_id", "a missing aggregate_id");
      assertError(await append({ ...ok, event_data: undefined }), 400, "event_data", "missing event_data");
      assertError(await append({ ...ok, aggregate_type: "bad type!" }), 400, "aggregate_type", "a bad aggregate_type");
      assertError(await append({ ...ok, expected_version: "x" }), 400, "expected_version", "a bad expected_version");
      assertError(await append({ ...ok, valid_from: "tomorrow" }), 400, "valid_from", "a bad valid_from");
      assertError(await append({ ...ok, extra: 1 }), 400, "extra", "an unknown field");
      const rec = (body: Msg) => api.post("/api/v1/event-sourcing/reconstruct", body);
      assertError(await rec({ aggregate_id: "nope", aggregate_type: type }), 404, "aggregate_id", "an unknown aggregate");
      assertError(await rec({ aggregate_id: "t", aggregate_type: unique("Missing") }), 404, "aggregate_type", "an unknown aggregate type");
      assertError(await rec({ aggregate_id: "t", aggregate_type: type, as_of_time: "later" }), 400, "as_of_time", "a bad as_of_time");
      assertError(await rec({ aggregate_id: "t", aggregate_type: type, as_of_version: -1 }), 400, "as_of_version", "a negative version");
      assertError(await rec({ aggregate_id: "t", aggregate_type: type, as_of_version: 1, update_snapshots: true }), 400, "update_snapshots", "a snapshot of the past");
      assertError(await api.call("PUT", `/api/v1/eventstores/default/${type}`, { snapshotEvery: -2 }), 400, "snapshotEvery", "a negative interval");
    });
  });
}
