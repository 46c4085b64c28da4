// Seed 003's event publishing (POST /api/v1/events) against every backend: the seed's example as written, where
// each field lands, a per-event retry limit that dead-letters, and bad input refused with nothing stored.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, expect, expectError, unique, type Msg } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

const SEED_EXAMPLE = {
  event_type: "system.critical_alert",
  source_capability: "monitoring",
  aggregate_id: "alert_123",
  aggregate_type: "SystemAlert",
  payload: { alert_type: "service_down", service_name: "payment_service", severity: "critical", timestamp: "2025-01-26T10:30:00Z" },
  priority: "CRITICAL",
  compression_type: "NONE",
  serialization_format: "JSON",
  max_retries: 5,
};

for (const backend of await backends()) {
  describe(`publishing events, seed 003 (${backend.name})`, () => {
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

    it("takes the seed's example as written and stores it on the stream `events`, each field in its place", async () => {
      const res = expect(await api.post("/api/v1/events", SEED_EXAMPLE), 201, "publish");
      assert.equal(res.message, "Event published successfully");
      assert.equal(res.stream_id, "events");
      assert.equal(res.priority, "CRITICAL");
      const entries = expect(await api.get("/stream/events/range?start=-&end=%2B&count=1000"), 200, "range").entries as Msg[];
      const stored = entries.find((e) => e.id === res.event_id)!;
      assert.deepEqual(
        { ...stored, timestamp: 0 },
        {
          id: res.event_id,
          partition: res.partition,
          offset: res.offset,
          key: "alert_123",
          type: "system.critical_alert",
          headers: { source_capability: "monitoring", aggregate_type: "SystemAlert", "runnel-max-deliveries": "6" },
          payload: SEED_EXAMPLE.payload,
          priority: "CRITICAL",
          correlationId: null,
          causationId: null,
          messageId: null,
          timestamp: 0,
          deliverAt: null,
        },
      );
    });

    it("publishes to the stream named, keeps the payload's digits, and a CRITICAL event is read before older NORMAL ones", async () => {
      const stream = unique("alerts");
      const body = '{"event_type":"metric","stream_id":"' + stream + '","payload":{"n":12345678901234567890}}';
      const first = await api.call("POST", "/api/v1/events", body, { "content-type": "application/json" });
      expect(first, 201, "publish with raw digits");
      const raw = await (await fetch(`${server.url}/stream/${stream}/range`)).text();
      assert.ok(raw.includes('"payload":{"n":12345678901234567890}'), raw);
      expect(await api.post("/api/v1/events", { event_type: "later", stream, payload: 2 }), 201, "a NORMAL event");
      const critical = expect(await api.post("/api/v1/events", { event_type: "alarm", stream, payload: 3, priority: "CRITICAL" }), 201, "critical");
      expect(await api.post(`/stream/${stream}/group/g`, { startId: "0" }), 201, "group");
      const read = expect(await api.get(`/stream/${stream}/group/g/consumer/c?count=1`), 200, "read").entries as Msg[];
      assert.deepEqual(read.map((e) => e.id), [critical.event_id]);
    });

    it("max_retries: after 1 + max_retries deliveries the event goes to the dead letters, though the stream has no limit", async () => {
      const stream = unique("retry");
      const { event_id } = expect(await api.post("/api/v1/events", { event_type: "job", stream, payload: {}, max_retries: 1 }), 201, "publish");
      expect(await api.post(`/stream/${stream}/group/g`, { startId: "0" }), 201, "group");
      for (let delivery = 1; delivery <= 2; delivery++) {
        const got = expect(await api.get(`/stream/${stream}/group/g/consumer/c?count=10`), 200, "read").entries as Msg[];
        assert.deepEqual(got.map((e) => [e.id, e.deliveryCount]), [[event_id, delivery]]);
        expect(await api.post(`/stream/${stream}/group/g/nack`, { ids: [event_id], delayMs: 0 }), 200, "nack");
      }
      const third = expect(await api.get(`/stream/${stream}/group/g/consumer/c?count=10`), 200, "read").entries as Msg[];
      assert.deepEqual(third, [], "no third delivery");
      const dead = expect(await api.get(`/stream/${stream}/dlq`), 200, "dead letters").entries as Msg[];
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.headers["runnel-dead-id"], event_id);
      assert.equal(dead[0]!.headers["runnel-dead-reason"], "max-deliveries");
      // The dead letter keeps the limit aside: readers of the dead-letter stream are not bound by it.
      assert.equal(dead[0]!.headers["runnel-dead-max-deliveries"], "2");
      assert.equal(dead[0]!.headers["runnel-max-deliveries"], undefined);
      const dlq = `${stream}:dlq`;
      expect(await api.post(`/stream/${dlq}/group/ops`, { startId: "0" }), 201, "a group on the dead letters");
      for (let delivery = 1; delivery <= 3; delivery++) {
        const got = expect(await api.get(`/stream/${dlq}/group/ops/consumer/c?count=10`), 200, "read the dead letter").entries as Msg[];
        assert.deepEqual(got.map((e) => e.deliveryCount), [delivery]);
        expect(await api.post(`/stream/${dlq}/group/ops/nack`, { ids: [got[0]!.id], delayMs: 0 }), 200, "nack");
      }
      assert.equal(expect(await api.get(`/stream/${dlq}:dlq/len`), 200, "len").length, 0, "never dead-lettered again");
      // Reprocessed, the entry carries its limit again.
      expect(await api.post(`/stream/${stream}/dlq/reprocess`, { ids: [dead[0]!.id] }), 200, "reprocess");
      const back = expect(await api.get(`/stream/${stream}/range?start=-&end=%2B`), 200, "range").entries as Msg[];
      assert.equal(back.at(-1)!.headers["runnel-max-deliveries"], "2");
      assert.equal(back.at(-1)!.headers["runnel-dead-max-deliveries"], undefined);
    });

    it("refuses bad input with the field to blame and stores nothing", async () => {
      const stream = unique("bad");
      const cases: [Record<string, unknown>, string][] = [
        [{ stream, payload: 1 }, "event_type"],
        [{ stream, event_type: "x" }, "payload"],
        [{ stream, event_type: "x", payload: 1, priority: "URGENT" }, "priority"],
        [{ stream, event_type: "x", payload: 1, compression_type: "GZIP" }, "compression_type"],
        [{ stream, event_type: "x", payload: 1, serialization_format: "AVRO" }, "serialization_format"],
        [{ stream, event_type: "x", payload: 1, max_retries: -1 }, "max_retries"],
        [{ stream, event_type: "x", payload: 1, surprise: true }, "surprise"],
        [{ stream, stream_id: "other", event_type: "x", payload: 1 }, "stream_id"],
        [{ stream, event_type: "x", payload: 1, headers: { "runnel-max-deliveries": "0" } }, "headers/runnel-max-deliveries"],
        [{ stream, event_type: "x", payload: 1, max_retries: 2, headers: { "runnel-max-deliveries": "9" } }, "max_retries"],
      ];
      for (const [body, field] of cases) expectError(await api.post("/api/v1/events", body), 400, "RUNNEL_BAD_REQUEST", field, JSON.stringify(body));
      const gzip = await api.post("/api/v1/events", { stream, event_type: "x", payload: 1, compression_type: "GZIP" });
      assert.equal(gzip.body.error.message, 'body: compression_type must be "NONE"');
      const viaAdd = await api.post(`/stream/${stream}/add?header.runnel-max-deliveries=0`, { n: 1 });
      expectError(viaAdd, 400, "RUNNEL_BAD_REQUEST", "header.runnel-max-deliveries", "a bad limit through /add");
      expect(await api.post("/api/v1/events", { stream, event_type: "ok", payload: 1 }), 201, "a good one");
      assert.equal(expect(await api.get(`/stream/${stream}/len`), 200, "len").length, 1, "only the good one is stored");
    });
  });
}
