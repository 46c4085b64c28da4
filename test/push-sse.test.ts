// SSE push (seed 000 §2) against every backend with the `eventsource` client and raw HTTP: events and their ids,
// filters, batches, resuming through Last-Event-ID, query validation, consumer groups, heartbeats, slow clients.
import assert from "node:assert/strict";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { EventSource } from "eventsource";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { spawnServer, startTestServer, storeArgs } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

type Api = ReturnType<typeof client>;
type Msg = Record<string, any>;

const EVENT_TYPES = ["connection", "configured", "message", "batch", "heartbeat", "error"] as const;

interface Ev {
  type: string;
  data: Msg;
  /** The event's SSE id as the client saw it. */
  id: string;
}

/** An EventSource that records every server event. */
class Sse {
  readonly events: Ev[] = [];
  /** Connection failures reported by the client (not `error` events sent by the server). */
  transportErrors = 0;
  readonly es: EventSource;

  constructor(url: string, headers?: Record<string, string>) {
    this.es = new EventSource(
      url,
      headers ? { fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }) } : {},
    );
    for (const type of EVENT_TYPES) {
      this.es.addEventListener(type, (e) => {
        const m = e as MessageEvent;
        if (typeof m.data !== "string") {
          this.transportErrors++;
          return;
        }
        this.events.push({ type, data: JSON.parse(m.data) as Msg, id: m.lastEventId });
      });
    }
  }

  of(type: string): Ev[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Every entry received, from `message` events and from inside `batch` events. */
  entries(): Msg[] {
    return this.events.flatMap((e) => (e.type === "message" ? [e.data] : e.type === "batch" ? (e.data.messages as Msg[]) : []));
  }

  next(match: (e: Ev) => boolean, what: string): Promise<Ev> {
    return until(() => this.events.find(match), what);
  }

  async waitEntries(n: number, what: string): Promise<Msg[]> {
    await until(() => this.entries().length >= n, `${n} ${what} (have ${this.entries().length})`);
    return this.entries();
  }

  close(): void {
    this.es.close();
  }
}

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
}

/** Parses SSE text into frames (one per blank-line-terminated block). */
function parseFrames(text: string): Frame[] {
  return text
    .split("\n\n")
    .slice(0, -1)
    .map((block) => {
      const frame: Frame = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const name = (i < 0 ? line : line.slice(0, i)) as keyof Frame;
        const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        frame[name] = name === "data" && frame.data !== undefined ? `${frame.data}\n${value}` : value;
      }
      return frame;
    });
}

/** Orders `<ms>-<seq>` ids numerically. */
function cmp(a: string, b: string): number {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am - bm || as - bs;
}

async function append(api: Api, setupId: string, queue: string, body: Record<string, unknown>): Promise<string> {
  const res = await api.post(`/api/v1/queues/${setupId}/${queue}/messages`, body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.messageId as string;
}

const streamPath = (setupId: string, queue: string, query = ""): string =>
  `/api/v1/queues/${setupId}/${queue}/stream${query ? `?${query}` : ""}`;

for (const backend of await backends()) {
  describe(`SSE push (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    const open: Sse[] = [];
    const aborts: AbortController[] = [];

    function sse(setupId: string, queue: string, query = "", headers?: Record<string, string>): Sse {
      const s = new Sse(server.url + streamPath(setupId, queue, query), headers);
      open.push(s);
      return s;
    }

    /** Opens an EventSource and waits for its `connection` and `configured` events. */
    async function connect(setupId: string, queue: string, query = "", headers?: Record<string, string>): Promise<Sse> {
      const s = sse(setupId, queue, query, headers);
      await s.next((e) => e.type === "configured", "the configured event");
      return s;
    }

    before(async () => {
      server = await startTestServer(await backend.fresh(), { push: { heartbeatMs: 200 } });
      api = client(server.url);
    });
    after(async () => {
      for (const s of open) s.close();
      for (const a of aborts) a.abort();
      // Let the server see every close first: stopping it under a live subscriber is its own test below.
      await until(() => server.engine.push.sessionCount === 0, "every session to end");
      await server.close();
      await backend.cleanup();
    });

    it("opens with connection and configured events, then message events with every field", async () => {
      const setupId = unique("setup");
      const queue = unique("orders");
      const s = await connect(setupId, queue);
      assert.deepEqual(
        s.events.map((e) => e.type),
        ["connection", "configured"],
      );
      const [connection, configured] = s.events as [Ev, Ev];
      assert.equal(connection.data.type, "connection");
      assert.equal(typeof connection.data.connectionId, "string");
      assert.equal(connection.data.setupId, setupId);
      assert.equal(connection.data.queueName, queue);
      assert.equal(connection.data.consumerGroup, null);
      assert.equal(typeof connection.data.message, "string");
      assert.ok(Number.isInteger(connection.data.timestamp));
      assert.equal(configured.data.connectionId, connection.data.connectionId);
      assert.equal(configured.data.batchSize, 1);
      assert.equal(configured.data.maxWait, 1000);
      assert.deepEqual(configured.data.filters, {});

      const id = await append(api, setupId, queue, {
        payload: { orderId: "12345", amount: 99.99 },
        messageType: "OrderCreated",
        headers: { source: "order-service" },
        priority: "HIGH",
      });
      const [got] = await s.waitEntries(1, "the entry");
      const event = s.of("message")[0]!;
      assert.equal(event.id, id, "the event id is the entry id");
      assert.equal(got!.type, "data");
      assert.equal(got!.connectionId, connection.data.connectionId);
      assert.equal(got!.messageId, id);
      assert.equal(got!.id, id);
      assert.deepEqual(got!.payload, { orderId: "12345", amount: 99.99 });
      assert.equal(got!.messageType, "OrderCreated");
      assert.deepEqual(got!.headers, { source: "order-service" });
      assert.equal(got!.priority, "HIGH");
      assert.ok(Number.isInteger(got!.partition));
      assert.ok(Number.isInteger(got!.offset));
      assert.ok(Number.isInteger(got!.timestamp));
    });

    it("seed 000's example with batchSize=5: a lone entry comes as a message event, several as a batch", async () => {
      const setupId = unique("setup");
      const queue = unique("seed");
      const s = await connect(setupId, queue, "messageType=OrderCreated&batchSize=5&maxWait=1000");
      const lone = await append(api, setupId, queue, { payload: { orderId: 1 }, messageType: "OrderCreated" });
      await s.waitEntries(1, "the lone entry");
      assert.deepEqual(s.of("message").map((e) => e.id), [lone]);
      assert.equal(s.of("batch").length, 0);
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push(await append(api, setupId, queue, { payload: { n }, messageType: "OrderCreated" }));
      await s.waitEntries(6, "five more");
      assert.deepEqual(s.entries().map((e) => e.id), [lone, ...ids]);
      assert.ok(s.of("batch").length >= 1, "several entries waiting together go as a batch");
      assert.ok(s.of("batch").every((b) => b.data.messageCount >= 2));
    });

    it("gives every event an SSE id: the start position, then the last entry sent", async () => {
      const setupId = unique("setup");
      const queue = unique("ids");
      const top = await append(api, setupId, queue, { payload: "before" });
      const ac = new AbortController();
      aborts.push(ac);
      const res = await fetch(server.url + streamPath(setupId, queue), { signal: ac.signal, headers: { origin: "http://example.test" } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const frames = () => parseFrames(text).filter((f) => f.data !== undefined);
      const readUntil = async (done: () => boolean, what: string) => {
        const deadline = Date.now() + 10_000;
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}:\n${text}`);
          const { value, done: ended } = await reader.read();
          if (ended) throw new Error(`the stream ended before ${what}`);
          text += decoder.decode(value, { stream: true });
        }
      };
      await readUntil(() => frames().some((f) => f.event === "configured"), "the configured event");
      const ids = [await append(api, setupId, queue, { payload: 1 }), await append(api, setupId, queue, { payload: 2 })];
      await readUntil(() => frames().filter((f) => f.event === "message").length === 2, "two messages");
      const seen = frames().length;
      await readUntil(() => frames().slice(seen).some((f) => f.event === "heartbeat"), "a heartbeat");
      ac.abort();

      const all = frames();
      for (const f of all) assert.ok(f.id, `an ${f.event} event without an id`);
      const [connection, configured] = all as [Frame, Frame];
      assert.equal(connection.event, "connection");
      assert.equal(connection.id, top, "before any entry, the id is where the stream started");
      assert.equal(configured.id, top);
      assert.deepEqual(
        all.filter((f) => f.event === "message").map((f) => f.id),
        ids,
      );
      const beat = all.slice(seen).find((f) => f.event === "heartbeat")!;
      assert.equal(beat.id, ids[1], "a heartbeat carries the last entry's id");
      assert.ok(parseFrames(text).some((f) => f.retry !== undefined), "a retry hint for EventSource");
    });

    it("filters by messageType, header.{key} and payloadContains", async () => {
      const setupId = unique("setup");
      const queue = unique("filtered");
      const byType = await connect(setupId, queue, "messageType=OrderCreated");
      const byHeader = await connect(setupId, queue, "header.region=US-WEST");
      const byText = await connect(setupId, queue, "payloadContains=urgent");
      const byAll = await connect(setupId, queue, "messageType=OrderCreated&header.region=US-WEST&header.tier=gold");
      assert.deepEqual(byAll.of("configured")[0]!.data.filters, { messageType: "OrderCreated", headers: { region: "US-WEST", tier: "gold" } });

      const entries = [
        { payload: { label: "a", note: "urgent" }, messageType: "OrderCreated", headers: { region: "US-WEST", tier: "gold" } },
        { payload: { label: "b", note: "normal" }, messageType: "OrderShipped", headers: { region: "US-WEST" } },
        { payload: { label: "c", note: "normal" }, messageType: "OrderCreated", headers: { region: "EU", tier: "gold" } },
        { payload: { label: "d", note: "urgent" }, messageType: "Other", headers: { region: "us-west" } },
        { payload: { label: "e", note: "normal" }, messageType: "OrderCreated", headers: { region: "US-WEST" } },
        { payload: { label: "f", note: "URGENT" } },
        { payload: { label: "z", note: "urgent" }, messageType: "OrderCreated", headers: { region: "US-WEST", tier: "gold" } },
      ];
      for (const e of entries) await append(api, setupId, queue, e);
      const expected: [Sse, string[]][] = [
        [byType, ["a", "c", "e", "z"]],
        [byHeader, ["a", "b", "e", "z"]],
        [byText, ["a", "d", "z"]],
        [byAll, ["a", "z"]],
      ];
      for (const [s, labels] of expected) {
        // `z` matches every filter and comes last: once it is there, the others had their chance.
        await until(() => s.entries().some((e) => e.payload.label === "z"), "the last entry");
        assert.deepEqual(
          s.entries().map((e) => e.payload.label),
          labels,
        );
      }
    });

    it("batchSize sends batch events; maxWait flushes a partial one", async () => {
      const setupId = unique("setup");
      const queue = unique("batched");
      const full = await connect(setupId, queue, "batchSize=3&maxWait=60000");
      const partial = await connect(setupId, queue, "batchSize=10&maxWait=1000");
      assert.equal(full.of("configured")[0]!.data.batchSize, 3);
      assert.equal(full.of("configured")[0]!.data.maxWait, 60_000);
      const ids: string[] = [];
      for (let n = 0; n < 6; n++) ids.push(await append(api, setupId, queue, { payload: { n } }));
      await until(() => full.of("batch").length >= 2, "two batches");
      const batches = full.of("batch");
      assert.deepEqual(
        batches.map((b) => b.data.messageCount),
        [3, 3],
      );
      assert.deepEqual(
        batches.map((b) => b.id),
        [ids[2], ids[5]],
        "a batch's id is its last entry's",
      );
      for (const b of batches) {
        assert.equal(b.data.type, "batch");
        assert.equal(b.data.messages.length, 3);
        assert.ok(Number.isInteger(b.data.timestamp));
      }
      assert.deepEqual(
        full.entries().map((e) => e.id),
        ids,
      );
      assert.equal(full.of("message").length, 0);

      // Six entries with room for ten: only the wait sends them.
      await partial.waitEntries(6, "entries in a partial batch");
      assert.ok(partial.of("batch").every((b) => b.data.messageCount < 10));
      assert.deepEqual(
        partial.entries().map((e) => e.id),
        ids,
      );
    });

    it("resumes after the last event id with no gap and no duplicate", async () => {
      const setupId = unique("setup");
      const queue = unique("resume");
      const first: string[] = [];
      for (let n = 0; n < 5; n++) first.push(await append(api, setupId, queue, { payload: { n } }));

      const s1 = await connect(setupId, queue, "startId=0");
      await s1.waitEntries(5, "the replayed entries");
      assert.deepEqual(
        s1.events.slice(0, 2).map((e) => e.type),
        ["connection", "configured"],
        "the connection events come before the replay",
      );
      assert.equal(s1.of("connection")[0]!.id, "0-0");
      assert.deepEqual(
        s1.entries().map((e) => e.payload.n),
        [0, 1, 2, 3, 4],
      );
      const lastId = s1.events.at(-1)!.id;
      assert.equal(lastId, first[4]);
      s1.close();

      const later: string[] = [];
      for (let n = 5; n < 8; n++) later.push(await append(api, setupId, queue, { payload: { n } }));

      // What a reconnecting EventSource does: the same URL, with Last-Event-ID.
      const s2 = await connect(setupId, queue, "startId=0", { "Last-Event-ID": lastId });
      assert.equal(s2.of("connection")[0]!.id, lastId);
      await s2.waitEntries(3, "the entries after the last id");
      // Or a new URL with startId set to the last id seen.
      const s3 = await connect(setupId, queue, `startId=${lastId}`);
      await s3.waitEntries(3, "the entries after the start id");
      const marker = await append(api, setupId, queue, { payload: { n: 8 } });
      for (const s of [s2, s3]) {
        await s.waitEntries(4, "the marker");
        assert.deepEqual(
          s.entries().map((e) => e.id),
          [...later, marker],
        );
        assert.deepEqual(
          s.of("message").map((e) => e.id),
          [...later, marker],
        );
      }
    });

    it("refuses out-of-range and malformed parameters with 400 JSON before streaming", async () => {
      const setupId = unique("setup");
      const queue = unique("bad");
      const cases: [string, Record<string, string>?][] = [
        ["batchSize=0"],
        ["batchSize=101"],
        ["batchSize=abc"],
        ["maxWait=999"],
        ["maxWait=60001"],
        ["startId=nope"],
        ["ackMode=auto"],
        ["consumerGroup=g&ackMode=sometimes"],
        ["", { "last-event-id": "not-an-id" }],
      ];
      for (const [query, headers] of cases) {
        const res = await fetch(server.url + streamPath(setupId, queue, query), { headers: headers ?? {} });
        const text = await res.text();
        assert.equal(res.status, 400, `${query} ${JSON.stringify(headers ?? {})}: ${text}`);
        assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
        const body = JSON.parse(text) as Msg;
        assert.equal(typeof body.error?.code, "string", text);
        assert.equal(typeof body.error?.message, "string", text);
      }
      for (const query of ["batchSize=1&maxWait=1000", "batchSize=100&maxWait=60000"]) {
        const ac = new AbortController();
        const res = await fetch(server.url + streamPath(setupId, queue, query), { signal: ac.signal });
        assert.equal(res.status, 200, query);
        ac.abort();
      }
    });

    it("shares a consumer group's entries between two SSE connections, acking them automatically", async () => {
      const queue = unique("shared");
      const group = unique("workers");
      const a = await connect("default", queue, `consumerGroup=${group}`);
      const b = await connect("default", queue, `consumerGroup=${group}`);
      const configured = a.of("configured")[0]!.data;
      assert.equal(configured.ackMode, "auto");
      assert.equal(a.of("connection")[0]!.data.consumerGroup, group);
      const ids: string[] = [];
      for (let n = 0; n < 30; n++) ids.push(await append(api, "default", queue, { payload: { n } }));
      await until(() => a.entries().length + b.entries().length >= 30, "30 deliveries");
      await sleep(200);
      const got = [...a.entries(), ...b.entries()];
      assert.equal(got.length, 30, "no entry delivered twice");
      assert.deepEqual(got.map((e) => e.id).sort(cmp), ids);
      assert.ok(got.every((e) => e.deliveryCount === 1));
      for (const s of [a, b]) for (const e of s.of("message")) assert.equal(e.id, e.data.id);
      await until(async () => {
        const res = await api.get(`/stream/${queue}/group/${group}/pending`);
        return res.status === 200 && res.body.count === 0;
      }, "nothing pending");
    });

    it("sends heartbeat events", async () => {
      const setupId = unique("setup");
      const queue = unique("beat");
      const s = await connect(setupId, queue);
      await append(api, setupId, queue, { payload: 1 });
      await s.waitEntries(1, "an entry");
      const from = s.events.length;
      const beat = await until(() => s.events.slice(from).find((e) => e.type === "heartbeat"), "a heartbeat");
      assert.equal(beat.data.type, "heartbeat");
      assert.equal(beat.data.connectionId, s.of("connection")[0]!.data.connectionId);
      assert.equal(beat.data.messagesSent, 1);
      assert.ok(Number.isInteger(beat.data.timestamp));
      assert.equal(beat.id, s.of("message")[0]!.id);
      assert.equal(s.transportErrors, 0);
    });
  });

  describe(`SSE push to a slow client (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    let req: http.ClientRequest | undefined;

    before(async () => {
      server = await startTestServer(await backend.fresh(), { push: { maxBuffered: 2048 } });
      api = client(server.url);
    });
    after(async () => {
      req?.destroy();
      await until(() => server.engine.push.sessionCount === 0, "every session to end");
      await server.close();
      await backend.cleanup();
    });

    it("ends the stream of a broadcast subscriber that stops reading, with an error event", async () => {
      const setupId = unique("setup");
      const queue = unique("flood");
      let text = "";
      let ended = false;
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req = http.get(server.url + streamPath(setupId, queue), resolve);
        req.on("error", reject);
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => (ended = true));
      res.on("error", () => undefined);
      await until(() => text.includes("event: configured"), "the configured event");
      res.pause();

      // 64 entries of 512 KiB: 32 MiB, far more than the socket buffers of both ends hold.
      const big = "x".repeat(512 * 1024);
      const count = 64;
      for (let n = 0; n < count; n++) await append(api, setupId, queue, { payload: { n, big } });

      res.resume();
      await until(() => ended, "the server to end the stream", 20_000);
      const frames = parseFrames(text).filter((f) => f.data !== undefined);
      const error = frames.find((f) => f.event === "error");
      assert.ok(error, "an error event before the end");
      assert.equal((JSON.parse(error.data!) as Msg).code, "RUNNEL_SLOW_CONSUMER");
      const got = frames.filter((f) => f.event === "message").length;
      assert.ok(got < count, `the server stopped sending (got ${got} of ${count})`);
      await until(() => server.engine.push.sessionCount === 0, "the session to end");
    });
  });

  describe(`SSE push while the server stops (${backend.name})`, () => {
    after(() => backend.cleanup());

    it("a server with a live SSE subscriber exits on SIGTERM", async () => {
      const node = await spawnServer(storeArgs(await backend.fresh()));
      const s = new Sse(node.url + streamPath(unique("setup"), unique("stopping")));
      try {
        await s.next((e) => e.type === "configured", "the configured event");
        // A generous limit, not a timing check: without it a hung server would hang the test run.
        const limit = new AbortController();
        const exited = await Promise.race([
          node.stop("SIGTERM"),
          sleep(10_000, "still running" as const, { signal: limit.signal }).catch(() => "still running" as const),
        ]);
        limit.abort();
        assert.notEqual(exited, "still running", `the server did not exit:\n${node.stderr()}`);
        assert.equal(exited, 0);
      } finally {
        s.close();
        await node.stop("SIGKILL");
      }
    });
  });
}
