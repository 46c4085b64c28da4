// Bad input at the edges of what each field may hold: numbers past their limits, NUL characters, a seek to a time no
// Date can hold, a stream that dead-letters into itself. Each answers 400 naming the field and changes nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, expect, unique, type Res } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

type Api = ReturnType<typeof client>;

/** The latest moment a JavaScript Date can hold, in ms since the epoch. */
const MAX_MILLIS = 8_640_000_000_000_000;
/** 2^53 + 2: an integer JSON can carry that a double cannot tell from its neighbours. */
const UNSAFE = 9_007_199_254_740_994;
const HUGE = 1e300;

/** A 400 RUNNEL_BAD_REQUEST in the one error shape, naming `field`. */
function expectBadRequest(res: Res, field: string, what: string): void {
  const seen = JSON.stringify(res.body);
  assert.equal(res.status, 400, `${what}: status, body ${seen}`);
  assert.deepEqual(Object.keys(res.body ?? {}), ["error"], `${what}: body ${seen}`);
  const { code, message, field: named } = res.body.error;
  assert.equal(code, "RUNNEL_BAD_REQUEST", `${what}: code, body ${seen}`);
  assert.equal(typeof message, "string", `${what}: message`);
  assert.equal(named, field, `${what}: field, body ${seen}`);
}

/** A GET that may open an event stream: answers the error, or the status of a stream that opened (then closed). */
async function getOrOpen(url: string): Promise<Res> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    controller.abort();
    return { status: res.status, body: "(an event stream)" };
  }
  return { status: res.status, body: await res.json() };
}

/** A stream's options as GET /stream/:stream/info reports them. */
async function streamConfig(api: Api, stream: string) {
  const info = expect(await api.get(`/stream/${stream}/info`), 200, `info of ${stream}`);
  const { partitions, maxLen, maxAgeMs, maxDeliveries, deadLetterStream, dedupeWindowMs } = info;
  return { partitions, maxLen, maxAgeMs, maxDeliveries, deadLetterStream, dedupeWindowMs };
}

async function queueConfig(api: Api, setup: string, queue: string) {
  return expect(await api.get(`/api/v1/queues/${setup}/${queue}`), 200, `queue ${setup}/${queue}`).config;
}

async function streamNames(api: Api): Promise<string[]> {
  return (expect(await api.get("/streams"), 200, "stream list").streams as { name: string }[]).map((s) => s.name).sort();
}

for (const backend of await backends()) {
  describe(`input limits (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    before(async () => {
      server = await startTestServer(await backend.fresh());
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    describe("integers in query strings", () => {
      it("must be decimal digits: hex, exponents and spaces are refused, and nothing is read or delivered", async () => {
        const s = unique("q");
        expect(await api.post(`/stream/${s}/entries`, { entries: [{ payload: 1 }, { payload: 2 }] }), 201, "append");
        expect(await api.post(`/stream/${s}/group/g`, { startId: "0" }), 201, "group");
        for (const count of ["0x10", "1e1", "%205", "1.0"]) {
          expectBadRequest(await api.get(`/stream/${s}/range?count=${count}`), "count", `range count=${count}`);
          expectBadRequest(await api.get(`/stream/${s}/group/g/consumer/c?count=${count}`), "count", `group read count=${count}`);
        }
        assert.equal((await api.get(`/stream/${s}/group/g/pending`)).body.count, 0, "no refused read delivered anything");
        assert.equal((await api.get(`/stream/${s}/range?count=1`)).body.entries.length, 1, "plain digits still work");
      });
    });

    describe("stream and queue options", () => {
      const tooBig: [string, number][] = [
        ["maxLen", HUGE],
        ["maxLen", UNSAFE],
        ["maxAgeMs", HUGE],
        ["maxAgeMs", UNSAFE],
        ["maxAgeMs", MAX_MILLIS + 1],
        ["maxDeliveries", HUGE],
        ["maxDeliveries", UNSAFE],
        ["dedupeWindowMs", HUGE],
        ["dedupeWindowMs", UNSAFE],
        ["dedupeWindowMs", MAX_MILLIS + 1],
      ];

      it("refuses integer options past their limits on create and PATCH, creating and changing nothing", async () => {
        const stream = unique("limits");
        const setup = unique("setup");
        const queue = unique("q");
        expect(await api.post(`/stream/${stream}`, { partitions: 2, maxLen: 10 }), 201, "create stream");
        expect(await api.post(`/api/v1/queues/${setup}/${queue}`, { partitions: 2, maxLen: 10 }), 201, "create queue");
        const streamBefore = await streamConfig(api, stream);
        const queueBefore = await queueConfig(api, setup, queue);
        const namesBefore = await streamNames(api);
        for (const [field, value] of tooBig) {
          const what = `${field}: ${value}`;
          const fresh = unique("never");
          expectBadRequest(await api.post(`/stream/${fresh}`, { [field]: value }), field, `create stream, ${what}`);
          expectBadRequest(await api.patch(`/stream/${stream}`, { partitions: 4, [field]: value }), field, `PATCH stream, ${what}`);
          expectBadRequest(await api.post(`/api/v1/queues/${setup}/${fresh}`, { [field]: value }), field, `create queue, ${what}`);
          const patched = await api.patch(`/api/v1/queues/${setup}/${queue}`, { partitions: 4, [field]: value });
          expectBadRequest(patched, field, `PATCH queue, ${what}`);
          assert.equal((await api.get(`/api/v1/queues/${setup}/${fresh}`)).status, 404, `${what}: the queue was not created`);
        }
        assert.deepEqual(await streamConfig(api, stream), streamBefore, "the stream's options are unchanged");
        assert.deepEqual(await queueConfig(api, setup, queue), queueBefore, "the queue's options are unchanged");
        assert.deepEqual(await streamNames(api), namesBefore, "no stream was created");
      });

      it("accepts each option at its limit and reads it back exactly", async () => {
        const stream = unique("at-limit");
        const limits = {
          maxLen: Number.MAX_SAFE_INTEGER,
          maxAgeMs: MAX_MILLIS,
          maxDeliveries: Number.MAX_SAFE_INTEGER,
          dedupeWindowMs: MAX_MILLIS,
        };
        expect(await api.post(`/stream/${stream}`, limits), 201, "create at the limits");
        assert.deepEqual(await streamConfig(api, stream), { partitions: 1, deadLetterStream: null, ...limits });
      });

      it("refuses a dead-letter stream that names the stream itself, creating and changing nothing", async () => {
        const stream = unique("self");
        const setup = unique("setup");
        const queue = unique("q");
        expect(await api.post(`/stream/${stream}`, { maxDeliveries: 3 }), 201, "create stream");
        expect(await api.post(`/api/v1/queues/${setup}/${queue}`, { maxDeliveries: 3 }), 201, "create queue");
        const streamBefore = await streamConfig(api, stream);
        const queueBefore = await queueConfig(api, setup, queue);
        const namesBefore = await streamNames(api);

        const fresh = unique("loop");
        const field = "deadLetterStream";
        expectBadRequest(await api.post(`/stream/${fresh}`, { maxDeliveries: 1, deadLetterStream: fresh }), field, "create stream");
        expectBadRequest(await api.patch(`/stream/${stream}`, { deadLetterStream: stream }), field, "PATCH stream");
        expectBadRequest(await api.post(`/api/v1/queues/${setup}/${fresh}`, { deadLetterStream: fresh }), field, "create queue");
        expectBadRequest(await api.patch(`/api/v1/queues/${setup}/${queue}`, { deadLetterStream: queue }), field, "PATCH queue");

        assert.deepEqual(await streamConfig(api, stream), streamBefore, "the stream's options are unchanged");
        assert.deepEqual(await queueConfig(api, setup, queue), queueBefore, "the queue's options are unchanged");
        assert.equal((await api.get(`/api/v1/queues/${setup}/${fresh}`)).status, 404, "the queue was not created");
        assert.deepEqual(await streamNames(api), namesBefore, "no stream was created");
        // Another stream, or the stream's own name with a suffix, is fine.
        const dlq = `${stream}:dead`;
        assert.equal((await api.patch(`/stream/${stream}`, { deadLetterStream: dlq })).body.deadLetterStream, dlq);
      });
    });

    describe("group claims and trims", () => {
      it("refuses a claim retryCount past the limit and leaves the pending entry as it was", async () => {
        const stream = unique("claim");
        const added = expect(await api.post(`/stream/${stream}/entries`, { payload: { n: 1 } }), 201, "append");
        const id: string = added.ids[0];
        expect(await api.post(`/stream/${stream}/group/g`, { startId: "0" }), 201, "create group");
        expect(await api.get(`/stream/${stream}/group/g/consumer/c1?count=1`), 200, "read");
        const pendingOf = async () =>
          (expect(await api.get(`/stream/${stream}/group/g/pending?start=-&end=%2B&count=10`), 200, "pending").entries as any[]).map(
            (e) => [e.id, e.consumer, e.deliveryCount],
          );
        assert.deepEqual(await pendingOf(), [[id, "c1", 1]]);
        for (const retryCount of [HUGE, UNSAFE]) {
          const res = await api.post(`/stream/${stream}/group/g/claim`, { consumer: "c2", minIdleTime: 0, ids: [id], retryCount });
          expectBadRequest(res, "retryCount", `retryCount ${retryCount}`);
        }
        assert.deepEqual(await pendingOf(), [[id, "c1", 1]], "still pending to c1, delivered once");
      });

      it("refuses a trim to a length past the limit", async () => {
        const stream = unique("trim");
        expect(await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1 }, { payload: 2 }] }), 201, "append");
        for (const maxLen of [HUGE, UNSAFE]) {
          expectBadRequest(await api.post(`/stream/${stream}/trim`, { maxLen }), "maxLen", `trim maxLen ${maxLen}`);
        }
        assert.deepEqual(expect(await api.get(`/stream/${stream}/len`), 200, "len"), { length: 2 });
      });
    });

    describe("event stores", () => {
      async function seedStore(): Promise<string> {
        const store = unique("es");
        const base = `/api/v1/eventstores/ns/${store}`;
        const first = { eventId: "e1", aggregateId: "a1", eventType: "made", eventData: { n: 1 } };
        expect(await api.post(`${base}/events`, first), 201, "append");
        return base;
      }
      const totalEvents = async (base: string) => expect(await api.get(`${base}/stats`), 200, "stats").stats.totalEvents;

      it("refuses paging numbers past the limit", async () => {
        const base = await seedStore();
        for (const offset of ["1e300", "9223372036854775808", String(UNSAFE)]) {
          expectBadRequest(await api.get(`${base}/events?offset=${offset}`), "offset", `offset ${offset}`);
        }
        for (const fromVersion of ["1e300", "9223372036854775808", String(UNSAFE)]) {
          expectBadRequest(await api.get(`${base}/aggregates/a1?fromVersion=${fromVersion}`), "fromVersion", `fromVersion ${fromVersion}`);
        }
        expectBadRequest(await api.get(`${base}/aggregates/a1/state?version=1e300`), "version", "state version 1e300");
        expectBadRequest(await getOrOpen(`${server.url}${base}/stream?fromPosition=1e300`), "fromPosition", "SSE fromPosition 1e300");
        // The largest safe values still page (past the end: nothing there).
        const page = expect(await api.get(`${base}/events?offset=${Number.MAX_SAFE_INTEGER}`), 200, "offset at the limit");
        assert.deepEqual([page.eventCount, page.hasMore], [0, false]);
        const history = expect(
          await api.get(`${base}/aggregates/a1?fromVersion=${Number.MAX_SAFE_INTEGER}`),
          200,
          "fromVersion at the limit",
        );
        assert.equal(history.eventCount, 0);
      });

      it("refuses valid times in ms that no Date can hold, storing nothing", async () => {
        const base = await seedStore();
        const event = { aggregateId: "a2", eventType: "made", eventData: {} };
        for (const validFrom of [MAX_MILLIS + 1, Number.MAX_SAFE_INTEGER]) {
          expectBadRequest(await api.post(`${base}/events`, { ...event, validFrom }), "validFrom", `validFrom ${validFrom}`);
          expectBadRequest(await api.post(`${base}/events`, { ...event, validTo: validFrom }), "validTo", `validTo ${validFrom}`);
        }
        assert.equal(await totalEvents(base), 1, "nothing was stored");
        expect(await api.get(`${base}/events`), 200, "the events still read");
      });

      it("refuses a NUL character in a correction reason", async () => {
        const base = await seedStore();
        const reason = "a\u0000b";
        const correction = { eventType: "made", eventData: { n: 2 }, correctionReason: reason };
        const appended = await api.post(`${base}/events`, { ...correction, aggregateId: "a1", correctionOf: "e1" });
        expectBadRequest(appended, "correctionReason", "append");
        expectBadRequest(await api.post(`${base}/events/e1/corrections`, correction), "correctionReason", "corrections");
        assert.equal(await totalEvents(base), 1, "nothing was stored");
      });
    });

    describe("consumer group membership", () => {
      it("refuses a NUL character in a member name or a group description, creating nothing", async () => {
        const setup = unique("setup");
        const queue = unique("q");
        const groups = `/api/v1/queues/${setup}/${queue}/consumer-groups`;
        expect(await api.post(groups, { groupName: "g" }), 201, "create group");
        expectBadRequest(await api.post(`${groups}/g/members`, { memberName: "a\u0000b" }), "memberName", "join");
        expectBadRequest(await api.post(groups, { groupName: "g2", description: "a\u0000b" }), "description", "create (seed 000)");
        const listed = expect(await api.get(groups), 200, "list groups");
        assert.deepEqual(
          listed.groups.map((g: any) => [g.groupName, g.memberCount]),
          [["g", 0]],
          "no member joined and no group was made",
        );

        const stream = unique("bus");
        const bus = { group_name: "bg", group_description: "a\u0000b", stream };
        expectBadRequest(await api.post("/api/v1/consumer-groups", bus), "group_description", "create (seed 003)");
        assert.equal((await api.get(`/stream/${stream}/groups`)).status, 404, "the stream and its group were not made");
      });
    });

    describe("windowed streams", () => {
      /** A tumbling 1 s window stream over a new source, with entries at event times 1 s, 3 s and 9 s. */
      async function windowStream(): Promise<string> {
        const source = unique("wsrc");
        const name = unique("win");
        const define = {
          name,
          source_queue_names: [source],
          window_type: "tumbling",
          window_duration_ms: 1000,
          window_grace_period_ms: 0,
          event_time_field: "t",
        };
        expect(await api.post("/api/v1/stream/define", define), 201, "define");
        const entries = [1000, 3000, 9000].map((t) => ({ payload: { t } }));
        expect(await api.post(`/stream/${source}/entries`, { entries }), 201, "append");
        return name;
      }
      const seek = (name: string, timestamp: unknown) =>
        api.post("/api/v1/stream/seek", { streamName: name, consumerGroup: "g", timestamp });
      const poll = async (name: string) =>
        expect(await api.post("/api/v1/stream/poll", { streamName: name, consumerGroup: "g", timeout: 0 }), 200, "poll").window;

      it("refuses a seek to a time out of range, in either form, before moving the group", async () => {
        const name = await windowStream();
        expect(await seek(name, 2500), 200, "seek to 2.5 s");
        const outOfRange = ["-5", "-1", -1, "999999999999999999999999999999", "99999999999999999999", MAX_MILLIS + 1];
        const before1970 = "1969-12-31T23:59:59Z";
        // Text that Date.parse would guess at (all three as 1 May 2001) is no number and no ISO 8601 time.
        const guesses = ["+5", " 5", "May 2001"];
        for (const timestamp of [...outOfRange, String(MAX_MILLIS + 1), before1970, ...guesses]) {
          expectBadRequest(await seek(name, timestamp), "timestamp", `seek to ${JSON.stringify(timestamp)}`);
        }
        const w = await poll(name);
        assert.equal(w?.start, new Date(3000).toISOString(), "the group still starts after the valid seek");
        // Both forms still work.
        expect(await api.post("/api/v1/stream/ack", { windowId: w.id, leaseId: w.leaseId, success: true }), 200, "ack");
        expect(await seek(name, "1970-01-01T00:00:01.500Z"), 200, "seek to an ISO time");
        expect(await seek(name, "0"), 200, "seek to 0 as text");
        assert.equal((await poll(name))?.start, new Date(1000).toISOString());
      });

      it("refuses a NUL character in window and lease ids, leaving the lease held", async () => {
        const name = await windowStream();
        const w = await poll(name);
        assert.ok(w, "a window is leased");
        const ack = { windowId: w.id, leaseId: w.leaseId, success: true };
        expectBadRequest(await api.post("/api/v1/stream/ack", { ...ack, windowId: `${w.id}\u0000` }), "windowId", "ack windowId");
        expectBadRequest(await api.post("/api/v1/stream/ack", { ...ack, leaseId: `${w.leaseId}\u0000` }), "leaseId", "ack leaseId");
        expectBadRequest(await api.post("/api/v1/stream/renew-lease", { leaseId: `${w.leaseId}\u0000` }), "leaseId", "renew leaseId");
        assert.equal(await poll(name), null, "the window is still leased");
        expect(await api.post("/api/v1/stream/ack", ack), 200, "the lease still settles the window");
      });
    });
  });
}
