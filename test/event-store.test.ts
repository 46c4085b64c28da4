// Event stores (seed 000 §4) against every backend: append and batches with expected versions, racing writers,
// idempotency, corrections and bi-temporal reads, pagination, filters, stats, history, validation, SSE and WebSocket.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import type { RunningServer } from "../src/api/server.js";
import { ManualClock } from "../src/core/clock.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

type Api = ReturnType<typeof client>;
type Msg = Record<string, any>;

const SETUP = "my-setup";
const T0 = Date.parse("2025-07-19T10:01:00Z");
const base = (store: string) => `/api/v1/eventstores/${SETUP}/${store}`;

async function append(api: Api, store: string, body: unknown): Promise<Msg> {
  const res = await api.post(`${base(store)}/events`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as Msg;
}

async function query(api: Api, store: string, qs = ""): Promise<Msg> {
  const res = await api.get(`${base(store)}/events${qs ? `?${qs}` : ""}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as Msg;
}

function assertError(res: { status: number; body: any }, status: number, field: string | undefined, what: string): void {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body?.error?.message, "string", what);
  if (field !== undefined) assert.equal(res.body.error.field, field, `${what}: ${JSON.stringify(res.body)}`);
}

/** Reads SSE frames from a raw response into a list of {event, id, data}. */
function sseFrames(res: Response): { frames: { event: string; id: string | undefined; data: Msg }[]; done: Promise<void> } {
  const frames: { event: string; id: string | undefined; data: Msg }[] = [];
  const done = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("data: ")) data.push(line.slice(6));
        }
        if (data.length > 0) frames.push({ event, id, data: JSON.parse(data.join("\n")) as Msg });
      }
    }
  })().catch(() => undefined);
  return { frames, done };
}

for (const backend of await backends()) {
  describe(`event store (${backend.name})`, () => {
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

    it("appends an event and answers seed 000's query body field by field", async () => {
      const store = unique("order-events");
      const stored = await append(api, store, {
        eventId: "event-123",
        aggregateId: "ORD-12345",
        aggregateType: "Order",
        eventType: "OrderCreated",
        eventData: { orderId: "ORD-12345", customerId: "CUST-67890", amount: 199.99 },
        validFrom: "2025-07-19T10:00:00Z",
        correlationId: "corr-123",
        causationId: "cause-456",
        metadata: { source: "order-service", region: "US-WEST" },
      });
      assert.equal(stored.message, "Event stored successfully");
      assert.equal(stored.eventId, "event-123");
      assert.equal(stored.version, 1);
      assert.equal(stored.position, 1);
      assert.equal(stored.duplicate, false);
      assert.equal(stored.transactionTime, new Date(T0).toISOString());

      const body = await query(api, store, "eventType=OrderCreated&fromTime=2025-07-19T00:00:00Z&toTime=2025-07-19T23:59:59Z");
      assert.deepEqual(Object.keys(body).sort(), [
        "eventCount", "eventStoreName", "events", "filters", "hasMore", "limit", "message", "offset", "setupId", "timestamp",
      ]);
      assert.equal(body.message, "Events retrieved successfully");
      assert.equal(body.eventStoreName, store);
      assert.equal(body.setupId, SETUP);
      assert.equal(body.eventCount, 1);
      assert.equal(body.limit, 100);
      assert.equal(body.offset, 0);
      assert.equal(body.hasMore, false);
      assert.deepEqual(body.filters, { eventType: "OrderCreated", fromTime: "2025-07-19T00:00:00Z", toTime: "2025-07-19T23:59:59Z" });
      assert.equal(typeof body.timestamp, "number");
      const [e] = body.events;
      for (const key of ["id", "eventType", "eventData", "validFrom", "validTo", "transactionTime", "correlationId", "causationId", "version", "metadata"]) {
        assert.ok(key in e, `event field ${key}`);
      }
      assert.equal(e.id, "event-123");
      assert.equal(e.eventType, "OrderCreated");
      assert.deepEqual(e.eventData, { orderId: "ORD-12345", customerId: "CUST-67890", amount: 199.99 });
      assert.equal(Date.parse(e.validFrom), Date.parse("2025-07-19T10:00:00Z"));
      assert.equal(e.validTo, null);
      assert.equal(Date.parse(e.transactionTime), T0);
      assert.equal(e.correlationId, "corr-123");
      assert.equal(e.causationId, "cause-456");
      assert.equal(e.version, 1);
      assert.deepEqual(e.metadata, { source: "order-service", region: "US-WEST" });
      assert.equal(e.aggregateId, "ORD-12345");

      const one = await api.get(`${base(store)}/events/event-123`);
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(one.body.message, "Event retrieved successfully");
      assert.equal(one.body.eventId, "event-123");
      assert.deepEqual(one.body.event, e);
    });

    it("appends batches atomically, checking each aggregate's expected version", async () => {
      const store = unique("batches");
      const first = await append(api, store, {
        expectedVersion: "no_stream",
        events: [1, 2, 3].map((n) => ({ aggregateId: "A", eventType: "Step", eventData: { n } })),
      });
      assert.equal(first.message, "Events stored successfully");
      assert.deepEqual(first.events.map((e: Msg) => [e.version, e.position]), [[1, 1], [2, 2], [3, 3]]);

      const both = await append(api, store, {
        events: [
          { aggregateId: "A", eventType: "Step", eventData: { n: 4 }, expectedVersion: 3 },
          { aggregateId: "B", eventType: "Step", eventData: { n: 1 }, expectedVersion: "no_stream" },
          { aggregateId: "A", eventType: "Step", eventData: { n: 5 }, expectedVersion: 4 },
        ],
      });
      assert.deepEqual(both.events.map((e: Msg) => [e.aggregateId, e.version]), [["A", 4], ["B", 1], ["A", 5]]);

      const conflict = await api.post(`${base(store)}/events`, {
        events: [
          { aggregateId: "C", eventType: "Step", eventData: {} },
          { aggregateId: "A", eventType: "Step", eventData: {}, expectedVersion: 2 },
        ],
      });
      assertError(conflict, 409, "events/1/expectedVersion", "stale batch");
      assert.equal(conflict.body.error.code, "RUNNEL_CONFLICT");
      assert.equal(conflict.body.error.currentVersion, 5);
      assert.equal((await query(api, store)).eventCount, 6, "nothing of a refused batch is stored");

      const batchLevel = await api.post(`${base(store)}/events`, { expectedVersion: 4, events: [{ aggregateId: "A", eventType: "Step", eventData: {} }] });
      assertError(batchLevel, 409, "expectedVersion", "batch-level expected version");
      assert.equal(batchLevel.body.error.currentVersion, 5);

      const single = (expectedVersion: unknown, aggregateId: string) =>
        api.post(`${base(store)}/events`, { aggregateId, eventType: "Step", eventData: {}, expectedVersion });
      assertError(await single("stream_exists", "new-one"), 409, "expectedVersion", "stream_exists on a new aggregate");
      const noStream = await single("no_stream", "A");
      assertError(noStream, 409, "expectedVersion", "no_stream on an existing aggregate");
      assert.equal(noStream.body.error.currentVersion, 5);
      assert.equal((await single("stream_exists", "A")).status, 201);
      assert.equal((await single("any", "A")).status, 201);
      assert.equal((await single(7, "A")).status, 201);
      assert.equal((await single(0, "fresh")).status, 201);
      assertError(await single("sometimes", "A"), 400, "expectedVersion", "an unknown expected version");
      assertError(await single(-1, "A"), 400, "expectedVersion", "a negative expected version");
    });

    it("a state at validAt folds the facts in effect then in the order they took effect, not the order recorded", async () => {
      const store = unique("salary");
      await append(api, store, { eventType: "SalarySet", aggregateId: "emp-1", eventData: { salary: 6000 }, validFrom: "2025-03-01T00:00:00Z" });
      // Recorded later, back-dated: it took effect before the raise above.
      await append(api, store, { eventType: "SalarySet", aggregateId: "emp-1", eventData: { salary: 5000 }, validFrom: "2025-01-01T00:00:00Z" });
      const stateAt = async (when: string) =>
        (await api.get(`${base(store)}/aggregates/emp-1/state?validAt=${when}`)).body.state as Msg;
      assert.deepEqual(await stateAt("2025-04-01T00:00:00Z"), { salary: 6000 });
      assert.deepEqual(await stateAt("2025-02-01T00:00:00Z"), { salary: 5000 });
    });

    it("an aggregate's first typed event types its earlier events too, so a filter by type finds them all", async () => {
      const store = unique("typed");
      await append(api, store, { eventType: "Opened", aggregateId: "t1", eventData: {} });
      await append(api, store, { eventType: "Paid", aggregateId: "t1", eventData: {}, aggregateType: "Order" });
      await append(api, store, {
        events: [
          { eventType: "Opened", aggregateId: "t2", eventData: {} },
          { eventType: "Paid", aggregateId: "t2", eventData: {}, aggregateType: "Order" },
        ],
      });
      const found = (await query(api, store, "aggregateType=Order")).events.map((e: Msg) => `${e.aggregateId}:${e.version}`);
      assert.deepEqual(found.sort(), ["t1:1", "t1:2", "t2:1", "t2:2"]);
    });

    it("lets exactly one of two writers with the same expected version win", async () => {
      const store = unique("race");
      for (let v = 0; v < 20; v++) {
        const body = (w: string) => ({ aggregateId: "acct", eventType: "Deposited", eventData: { w, v }, expectedVersion: v });
        const results = await Promise.all([api.post(`${base(store)}/events`, body("a")), api.post(`${base(store)}/events`, body("b"))]);
        const statuses = results.map((r) => r.status).sort();
        assert.deepEqual(statuses, [201, 409], `round ${v}: ${JSON.stringify(results.map((r) => r.body))}`);
        const loser = results.find((r) => r.status === 409)!;
        assert.equal(loser.body.error.currentVersion, v + 1);
      }
      const history = await api.get(`${base(store)}/aggregates/acct?limit=1000`);
      assert.equal(history.body.currentVersion, 20);
      assert.deepEqual(history.body.events.map((e: Msg) => e.version), Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it("lets exactly one of two nodes sharing the database win", async () => {
      const shared = await backend.fresh();
      const nodes = [await startTestServer(shared), await startTestServer(shared)];
      try {
        const apis = nodes.map((n) => client(n.url));
        const store = unique("race-nodes");
        for (let v = 0; v < 15; v++) {
          const results = await Promise.all(
            apis.map((a, i) => a.post(`${base(store)}/events`, { aggregateId: "acct", eventType: "Moved", eventData: { i }, expectedVersion: v })),
          );
          assert.deepEqual(results.map((r) => r.status).sort(), [201, 409], `round ${v}: ${JSON.stringify(results.map((r) => r.body))}`);
        }
        const stats = await apis[0]!.get(`${base(store)}/stats`);
        assert.equal(stats.body.stats.totalEvents, 15);
      } finally {
        for (const n of nodes) await n.close();
      }
    });

    it("is idempotent by event id", async () => {
      const store = unique("idem");
      const body = { eventId: "pay-1", aggregateId: "P", eventType: "Paid", eventData: { amount: 5 }, expectedVersion: "no_stream" };
      const a = await append(api, store, body);
      const b = await append(api, store, body);
      assert.equal(a.duplicate, false);
      assert.equal(b.duplicate, true);
      assert.deepEqual([b.eventId, b.version, b.position, b.transactionTime], [a.eventId, a.version, a.position, a.transactionTime]);
      const inBatch = await append(api, store, { events: [{ ...body, expectedVersion: undefined }, { eventId: "pay-2", aggregateId: "P", eventType: "Paid", eventData: {} }] });
      assert.deepEqual(inBatch.events.map((e: Msg) => [e.eventId, e.version, e.duplicate]), [["pay-1", 1, true], ["pay-2", 2, false]]);
      assert.equal((await query(api, store)).eventCount, 2);
      assertError(await api.post(`${base(store)}/events`, { ...body, aggregateId: "Q" }), 409, "eventId", "an event id reused by another aggregate");
      const generated = await append(api, store, { eventType: "Loose", eventData: 1 });
      assert.match(generated.eventId, /^evt_/);
      assert.equal(generated.aggregateId, generated.eventId, "an event without an aggregate is its own");
    });

    it("applies corrections to valid-time reads while the original stays readable", async () => {
      const store = unique("prices");
      const t0 = clock.now();
      await append(api, store, { eventId: "px-1", aggregateId: "AAPL", eventType: "PriceSet", eventData: { price: 10 }, validFrom: "2025-07-01T00:00:00Z" });
      await append(api, store, { eventId: "px-2", aggregateId: "AAPL", eventType: "PriceSet", eventData: { price: 20 }, validFrom: "2025-07-10T00:00:00Z", validTo: "2025-07-20T00:00:00Z" });
      clock.advance(60_000);
      const t1 = clock.now();
      const fix = await api.post(`${base(store)}/events/px-1/corrections`, { eventData: { price: 12 }, correctionReason: "typo" });
      assert.equal(fix.status, 201, JSON.stringify(fix.body));
      assert.equal(fix.body.correctionOf, "px-1");
      assert.equal(fix.body.version, 3);
      assert.equal(Date.parse(fix.body.transactionTime), t1);

      const all = await query(api, store);
      assert.deepEqual(all.events.map((e: Msg) => e.id), ["px-1", "px-2", fix.body.eventId], "the log keeps the original");
      const correction = all.events[2];
      assert.equal(correction.correctionOf, "px-1");
      assert.equal(correction.correctionReason, "typo");
      assert.equal(correction.eventType, "PriceSet");
      assert.equal(correction.validFrom, "2025-07-01T00:00:00.000Z", "a correction keeps the original's valid time");

      const at = (qs: string) => query(api, store, qs).then((b) => b.events.map((e: Msg) => e.eventData.price));
      assert.deepEqual(await at("validAt=2025-07-05T00:00:00Z"), [12]);
      assert.deepEqual(await at("validAt=2025-07-15T00:00:00Z"), [20, 12], "in position order: the correction came last");
      assert.deepEqual(await at("validAt=2025-07-25T00:00:00Z"), [12], "px-2 is no longer valid");
      assert.deepEqual(await at("validAt=2025-06-01T00:00:00Z"), []);
      const asOf = new Date(t0).toISOString();
      assert.deepEqual(await at(`validAt=2025-07-05T00:00:00Z&asOfTransactionTime=${asOf}`), [10], "what was known before the correction");
      assert.deepEqual(await at(`asOfTransactionTime=${asOf}`), [10, 20]);

      const original = await api.get(`${base(store)}/events/px-1`);
      assert.equal(original.body.event.eventData.price, 10);

      clock.advance(60_000);
      const again = await api.post(`${base(store)}/events/${fix.body.eventId}/corrections`, { eventData: { price: 13 } });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.equal((await api.get(`${base(store)}/events/${again.body.eventId}`)).body.event.correctionOf, "px-1", "corrections point at the first of the line");
      assert.deepEqual(await at("validAt=2025-07-05T00:00:00Z"), [13]);
      assert.deepEqual(await at(`validAt=2025-07-05T00:00:00Z&asOfTransactionTime=${new Date(t1).toISOString()}`), [12]);

      const missing = await api.post(`${base(store)}/events/nope/corrections`, { eventData: {} });
      assertError(missing, 404, "correctionOf", "a correction of an unknown event");
      const viaAppend = await append(api, store, { eventType: "PriceSet", eventData: { price: 11 }, correctionOf: "px-2" });
      assert.equal(viaAppend.aggregateId, "AAPL");
    });

    it("pages with limit, offset and hasMore", async () => {
      const store = unique("pages");
      await append(api, store, { events: Array.from({ length: 25 }, (_, n) => ({ aggregateId: `a${n % 3}`, eventType: "Tick", eventData: { n } })) });
      const seen: number[] = [];
      const pages: [number, number, boolean][] = [];
      for (let offset = 0; offset <= 25; offset += 10) {
        const page = await query(api, store, `limit=10&offset=${offset}`);
        pages.push([offset, page.eventCount, page.hasMore]);
        seen.push(...page.events.map((e: Msg) => e.eventData.n));
      }
      assert.deepEqual(pages, [[0, 10, true], [10, 10, true], [20, 5, false]]);
      assert.deepEqual(seen, Array.from({ length: 25 }, (_, n) => n));
      assert.equal((await query(api, store, "limit=25")).hasMore, false);
      assert.equal((await query(api, store, "limit=24")).hasMore, true);
      const beyond = await query(api, store, "offset=30");
      assert.deepEqual([beyond.eventCount, beyond.hasMore], [0, false]);
      assert.equal((await query(api, store)).limit, 100);
    });

    it("filters by type, correlation, causation, aggregate and valid time", async () => {
      const store = unique("filters");
      await append(api, store, {
        events: [
          { aggregateId: "o1", aggregateType: "Order", eventType: "Created", eventData: {}, correlationId: "c1", validFrom: "2025-07-01T12:00:00Z" },
          { aggregateId: "o1", eventType: "Paid", eventData: {}, correlationId: "c1", causationId: "x1", validFrom: "2025-07-02T12:00:00Z" },
          { aggregateId: "o2", aggregateType: "Order", eventType: "Created", eventData: {}, correlationId: "c2", validFrom: "2025-07-03T12:00:00+02:00" },
        ],
      });
      const ids = (qs: string) => query(api, store, qs).then((b) => b.events.map((e: Msg) => `${e.aggregateId}:${e.eventType}`));
      assert.deepEqual(await ids("eventType=Created"), ["o1:Created", "o2:Created"]);
      assert.deepEqual(await ids("correlationId=c1"), ["o1:Created", "o1:Paid"]);
      assert.deepEqual(await ids("causationId=x1"), ["o1:Paid"]);
      assert.deepEqual(await ids("aggregateId=o2"), ["o2:Created"]);
      assert.deepEqual(await ids("aggregateType=Order&eventType=Paid"), ["o1:Paid"], "the type is the aggregate's");
      assert.deepEqual(await ids("fromTime=2025-07-02&toTime=2025-07-03T10:00:00Z"), ["o1:Paid", "o2:Created"]);
      assert.deepEqual(await ids("toTime=2025-07-03T09:59:59.999Z"), ["o1:Created", "o1:Paid"]);
      const f = await query(api, store, "correlationId=c1&causationId=x1");
      assert.deepEqual(f.filters, { correlationId: "c1", causationId: "x1" });
    });

    it("rejects bad input with the field named, and unknown stores with 404", async () => {
      const store = unique("valid");
      await append(api, store, { aggregateId: "a", aggregateType: "Thing", eventType: "E", eventData: {} });
      const bad: [string, string][] = [
        ["fromTime=yesterday", "fromTime"],
        ["toTime=2025-13-01T00:00:00Z", "toTime"],
        ["validAt=2025-02-30", "validAt"],
        ["asOfTransactionTime=12:00", "asOfTransactionTime"],
        ["fromTime=2025-07-19T25:00:00Z", "fromTime"],
        ["limit=0", "limit"],
        ["limit=1001", "limit"],
        ["limit=ten", "limit"],
        ["offset=-1", "offset"],
        ["fromTime=2025-07-20&toTime=2025-07-19", "fromTime"],
        ["color=red", "color"],
      ];
      for (const [qs, field] of bad) assertError(await api.get(`${base(store)}/events?${qs}`), 400, field, qs);
      assert.equal((await api.get(`${base(store)}/events?limit=1000`)).status, 200);
      assert.equal((await api.get(`${base(store)}/events?limit=1`)).status, 200);

      const post = (body: unknown) => api.post(`${base(store)}/events`, body);
      assertError(await post({ eventData: {} }), 400, "eventType", "a missing eventType");
      assertError(await post({ eventType: "E" }), 400, "eventData", "missing eventData");
      assertError(await post({ eventType: "E", eventData: {}, validFrom: "soon" }), 400, "validFrom", "a bad validFrom");
      assertError(await post({ eventType: "E", eventData: {}, validFrom: "2025-07-02", validTo: "2025-07-01" }), 400, "validTo", "validTo before validFrom");
      assertError(await post({ eventType: "E", eventData: {}, colour: 1 }), 400, "colour", "an unknown field");
      assertError(await post({ events: [{ eventType: "E", eventData: {} }, { eventType: "E", eventData: {}, validTo: "never" }] }), 400, "events/1/validTo", "a bad date in a batch");
      assertError(await post({ events: [] }), 400, "events", "an empty batch");
      assertError(await post({ events: Array.from({ length: 1001 }, () => ({ eventType: "E", eventData: {} })) }), 400, "events", "a batch too large");
      assertError(await post({ aggregateId: "a", aggregateType: "Other", eventType: "E", eventData: {} }), 409, "aggregateType", "another aggregate type");

      const missing = unique("missing");
      for (const path of ["/events", "/events/x", "/stats", "/aggregates/a", "/aggregates/a/state", "/stream"]) {
        assertError(await api.get(`${base(missing)}${path}`), 404, undefined, `unknown store ${path}`);
      }
      assertError(await api.get(`${base(store)}/events/nope`), 404, "eventId", "an unknown event");
      assertError(await api.get(`${base(store)}/aggregates/nope`), 404, "aggregateId", "an unknown aggregate");
      assertError(await api.post(`${base(missing)}/events/x/corrections`, { eventData: {} }), 404, "eventStoreName", "a correction in an unknown store");
    });

    it("reports statistics", async () => {
      const store = unique("stats");
      const first = clock.now();
      await append(api, store, {
        events: [
          { eventId: "s1", aggregateId: "a", eventType: "Created", eventData: { x: "é" }, validFrom: "2025-01-01T00:00:00Z" },
          { aggregateId: "a", eventType: "Updated", eventData: { x: 2 } },
          { aggregateId: "b", eventType: "Created", eventData: {}, validFrom: "2025-03-01T00:00:00Z" },
        ],
      });
      clock.advance(1000);
      await api.post(`${base(store)}/events/s1/corrections`, { eventData: { x: 1 } });
      const res = await api.get(`${base(store)}/stats`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.message, "Event store statistics retrieved successfully");
      assert.equal(res.body.eventStoreName, store);
      const s = res.body.stats;
      assert.equal(s.totalEvents, 4);
      assert.equal(s.totalCorrections, 1);
      assert.equal(s.aggregateCount, 2);
      assert.deepEqual(s.eventCountsByType, { Created: 3, Updated: 1 });
      assert.equal(Date.parse(s.firstEventTime), first);
      assert.equal(Date.parse(s.lastEventTime), first + 1000);
      assert.equal(s.oldestValidFrom, "2025-01-01T00:00:00.000Z");
      assert.ok(s.storageSizeBytes > 20, `size ${s.storageSizeBytes}`);
      assert.equal(s.lastPosition, 4);
    });

    it("answers an aggregate's history, as of a transaction time and in pages", async () => {
      const store = unique("history");
      const t = clock.now();
      await append(api, store, { events: Array.from({ length: 5 }, (_, n) => ({ aggregateId: "h", aggregateType: "Thing", eventType: "Step", eventData: { n } })) });
      clock.advance(1000);
      await append(api, store, { aggregateId: "h", eventType: "Step", eventData: { n: 5 } });
      const h = await api.get(`${base(store)}/aggregates/h?fromVersion=2&limit=3`);
      assert.equal(h.status, 200, JSON.stringify(h.body));
      assert.equal(h.body.aggregateType, "Thing");
      assert.equal(h.body.currentVersion, 6);
      assert.deepEqual(h.body.events.map((e: Msg) => e.version), [2, 3, 4]);
      assert.equal(h.body.hasMore, true);
      const then = await api.get(`${base(store)}/aggregates/h?asOfTransactionTime=${new Date(t).toISOString()}`);
      assert.equal(then.body.currentVersion, 5);
      assert.equal(then.body.events.length, 5);
      assert.equal(then.body.hasMore, false);
      assertError(await api.get(`${base(store)}/aggregates/h?asOfTransactionTime=now`), 400, "asOfTransactionTime", "a bad time");
    });

    it("streams over SSE: catches up from a position, then live, with no gap", async () => {
      const store = unique("live");
      await append(api, store, { events: Array.from({ length: 30 }, (_, n) => ({ aggregateId: `k${n % 4}`, eventType: "Tick", eventData: { n } })) });
      let writing = true;
      const writer = (async () => {
        for (let n = 30; n < 100; n++) {
          await append(api, store, { aggregateId: `k${n % 4}`, eventType: n % 2 ? "Odd" : "Tick", eventData: { n } });
          if (n === 60) await sleep(20);
        }
        writing = false;
      })();
      const controller = new AbortController();
      const res = await fetch(`${server.url}${base(store)}/stream?fromPosition=1`, { signal: controller.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
      const { frames } = sseFrames(res);
      await writer;
      assert.equal(writing, false);
      const events = () => frames.filter((f) => f.event === "message");
      await until(() => events().length >= 100, "100 events");
      controller.abort();
      assert.equal(frames[0]!.event, "connection");
      assert.deepEqual(events().map((f) => f.data.position), Array.from({ length: 100 }, (_, i) => i + 1));
      assert.deepEqual(events().map((f) => f.id), Array.from({ length: 100 }, (_, i) => String(i + 1)));
      assert.deepEqual(events().map((f) => f.data.event.eventData.n), Array.from({ length: 100 }, (_, i) => i));
      assert.equal(frames.filter((f) => f.event === "caught-up").length, 1);

      const resumed = new AbortController();
      const again = await fetch(`${server.url}${base(store)}/stream?eventType=Odd`, { signal: resumed.signal, headers: { "last-event-id": "90" } });
      const second = sseFrames(again);
      await until(() => second.frames.some((f) => f.event === "caught-up"), "caught up after resuming");
      await append(api, store, { aggregateId: "k0", eventType: "Odd", eventData: { n: 100 } });
      await until(() => second.frames.filter((f) => f.event === "message").length === 6, "the live event");
      resumed.abort();
      assert.deepEqual(second.frames.filter((f) => f.event === "message").map((f) => f.data.position), [92, 94, 96, 98, 100, 101]);
      assertError(await api.get(`${base(store)}/stream?fromPosition=-1`), 400, "fromPosition", "a negative position");
    });

    it("streams over WebSocket: catches up, then live", async () => {
      const store = unique("ws");
      await append(api, store, { events: [1, 2, 3].map((n) => ({ aggregateId: "w", eventType: "Tick", eventData: { n } })) });
      const wsBase = server.url.replace("http://", "ws://");
      const ws = new WebSocket(`${wsBase}/ws/eventstores/${SETUP}/${store}?fromPosition=2`);
      const messages: Msg[] = [];
      ws.on("message", (data) => messages.push(JSON.parse(data.toString()) as Msg));
      await until(() => messages.some((m) => m.type === "caught-up"), "caught up");
      await append(api, store, { aggregateId: "w", eventType: "Tick", eventData: { n: 4 } });
      await until(() => messages.filter((m) => m.type === "event").length === 3, "the live event");
      ws.send(JSON.stringify({ type: "ping", id: 7 }));
      await until(() => messages.some((m) => m.type === "pong" && m.id === 7), "pong");
      assert.deepEqual(messages.map((m) => m.type).slice(0, 4), ["welcome", "event", "event", "caught-up"]);
      assert.deepEqual(messages.filter((m) => m.type === "event").map((m) => m.position), [2, 3, 4]);
      assert.equal(messages.find((m) => m.type === "caught-up")!.position, 3);
      ws.close();

      const status = await new Promise<number>((resolve) => {
        const missing = new WebSocket(`${wsBase}/ws/eventstores/${SETUP}/${unique("nope")}`);
        missing.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        missing.on("error", () => undefined);
      });
      assert.equal(status, 404);

      const queue = new WebSocket(`${wsBase}/ws/queues/${SETUP}/${unique("q")}`);
      const first = await new Promise<Msg>((resolve, reject) => {
        queue.once("message", (data) => resolve(JSON.parse(data.toString()) as Msg));
        queue.once("error", reject);
      });
      assert.equal(first.type, "welcome", "the queue sockets still get their upgrades");
      queue.close();
    });
  });
}
