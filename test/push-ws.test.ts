// WebSocket push (seed 000 §1) against every backend with the `ws` client: welcome, ping, subscriptions from now and
// from the start, filters, batching, consumer groups with acks and redelivery, bad messages, heartbeats, slow clients.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { spawnServer, startTestServer, storeArgs } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

type Api = ReturnType<typeof client>;
type Msg = Record<string, any>;

/** Replies to a client message, as opposed to pushed data, heartbeats and the welcome. */
const REPLIES = new Set(["pong", "subscribed", "configured", "unsubscribed", "acked", "nacked", "error"]);

/** One WebSocket connection that records every message it receives. */
class Conn {
  readonly msgs: Msg[] = [];
  closed: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.msgs.push(JSON.parse(data.toString()) as Msg));
    ws.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
    ws.on("error", () => undefined);
  }

  get welcome(): Msg {
    return this.msgs.find((m) => m.type === "welcome")!;
  }

  /** Every entry pushed so far, from `data` messages and from inside `batch` messages, in arrival order. */
  entries(): Msg[] {
    return this.msgs.flatMap((m) => (m.type === "data" ? [m] : m.type === "batch" ? (m.messages as Msg[]) : []));
  }

  next(match: (m: Msg) => boolean, what: string, limitMs?: number): Promise<Msg> {
    return until(() => this.msgs.find(match), what, limitMs);
  }

  /** Waits for `n` entries and answers them. */
  async waitEntries(n: number, what: string): Promise<Msg[]> {
    await until(() => this.entries().length >= n, `${n} ${what} (have ${this.entries().length})`);
    return this.entries();
  }

  /** Sends a message (an object as JSON, a string as is) and answers the server's reply to it. */
  async request(msg: unknown): Promise<Msg> {
    const from = this.msgs.length;
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
    return until(() => this.msgs.slice(from).find((m) => REPLIES.has(m.type)), `the reply to ${JSON.stringify(msg)}`);
  }

  async subscribe(options: Record<string, unknown> = {}): Promise<Msg> {
    const reply = await this.request({ type: "subscribe", ...options });
    assert.equal(reply.type, "subscribed", JSON.stringify(reply));
    return reply;
  }
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

async function appendMany(api: Api, setupId: string, queue: string, payloads: unknown[]): Promise<string[]> {
  const res = await api.post(`/api/v1/queues/${setupId}/${queue}/messages`, { messages: payloads.map((payload) => ({ payload })) });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.messageIds as string[];
}

async function pendingCount(api: Api, queue: string, group: string): Promise<Msg> {
  const res = await api.get(`/stream/${queue}/group/${group}/pending`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as Msg;
}

const wsUrl = (server: RunningServer, path: string): string => server.url.replace(/^http/, "ws") + path;

for (const backend of await backends()) {
  describe(`WebSocket push (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    const open: Conn[] = [];

    /** Opens a connection to a queue and waits for its welcome. */
    async function connect(setupId: string, queue: string, on: RunningServer = server): Promise<Conn> {
      const conn = new Conn(new WebSocket(wsUrl(on, `/ws/queues/${setupId}/${queue}`)));
      open.push(conn);
      await conn.next((m) => m.type === "welcome", "the welcome");
      return conn;
    }

    before(async () => {
      server = await startTestServer(await backend.fresh(), { push: { heartbeatMs: 200 } });
      api = client(server.url);
    });
    after(async () => {
      for (const c of open) c.ws.terminate();
      // Let the server see every close first: stopping it under a live subscriber is its own test below.
      await until(() => server.engine.push.sessionCount === 0, "every session to end");
      await server.close();
      await backend.cleanup();
    });

    it("welcomes a connection with its id, the setup and queue, a timestamp and a message", async () => {
      const setupId = unique("setup");
      const queue = unique("orders");
      const before = Date.now();
      const conn = await connect(setupId, queue);
      const w = conn.welcome;
      assert.equal(conn.msgs[0], w, "the welcome comes first");
      assert.equal(typeof w.connectionId, "string");
      assert.ok(w.connectionId.length > 0);
      assert.equal(w.setupId, setupId);
      assert.equal(w.queueName, queue);
      assert.ok(Number.isInteger(w.timestamp) && w.timestamp >= before - 1000 && w.timestamp <= Date.now() + 1000, `timestamp ${w.timestamp}`);
      assert.equal(typeof w.message, "string");
      assert.ok(w.message.length > 0);

      const other = await connect(setupId, queue);
      assert.notEqual(other.welcome.connectionId, w.connectionId, "each connection has its own id");
    });

    it("answers ping with a pong carrying the same id", async () => {
      const conn = await connect(unique("setup"), unique("q"));
      const pong = await conn.request({ type: "ping", id: "ping-123" });
      assert.equal(pong.type, "pong");
      assert.equal(pong.id, "ping-123");
      assert.equal(pong.connectionId, conn.welcome.connectionId);
      const again = await conn.request({ type: "ping", id: "ping-124" });
      assert.equal(again.id, "ping-124");
    });

    it("a subscription from now sees only entries appended after it, with every field", async () => {
      const setupId = unique("setup");
      const queue = unique("orders");
      await append(api, setupId, queue, { payload: { n: "early-1" } });
      const lastEarly = await append(api, setupId, queue, { payload: { n: "early-2" } });
      const conn = await connect(setupId, queue);
      const sub = await conn.subscribe();
      assert.equal(sub.consumerGroup, null);
      assert.equal(sub.startId, lastEarly, "a subscription from now starts after the last entry");

      const ids = [
        await append(api, setupId, queue, {
          payload: { orderId: "12345", amount: 99.99 },
          messageType: "OrderCreated",
          headers: { source: "order-service" },
          priority: "HIGH",
        }),
        await append(api, setupId, queue, { payload: { n: "late-2" } }),
        await append(api, setupId, queue, { payload: "late-3" }),
      ];
      const got = await conn.waitEntries(3, "entries");
      // One more entry is a marker: once it arrived, nothing earlier is still on its way.
      const marker = await append(api, setupId, queue, { payload: "marker" });
      await conn.waitEntries(4, "entries and the marker");
      assert.deepEqual(
        conn.entries().map((e) => e.id),
        [...ids, marker],
      );
      assert.ok(conn.msgs.every((m) => m.type !== "batch"), "batchSize 1 sends data messages");

      const first = got[0]!;
      assert.equal(first.type, "data");
      assert.equal(first.connectionId, conn.welcome.connectionId);
      assert.equal(first.messageId, ids[0]);
      assert.equal(first.id, ids[0]);
      assert.deepEqual(first.payload, { orderId: "12345", amount: 99.99 });
      assert.equal(first.messageType, "OrderCreated");
      assert.deepEqual(first.headers, { source: "order-service" });
      assert.equal(first.priority, "HIGH");
      assert.ok(Number.isInteger(first.partition) && first.partition >= 0);
      assert.ok(Number.isInteger(first.offset) && first.offset >= 0);
      assert.ok(Number.isInteger(first.timestamp));
      assert.equal("deliveryCount" in first, false, "a broadcast delivery has no delivery count");
      assert.equal(got[2]!.payload, "late-3");
      assert.ok(got[1]!.offset > first.offset || got[1]!.partition !== first.partition, "offsets grow within a partition");
    });

    it("startId 0 replays from the start, then continues live with no gap and no duplicate", async () => {
      const setupId = unique("setup");
      const queue = unique("replay");
      const early = await appendMany(api, setupId, queue, Array.from({ length: 200 }, (_, n) => ({ n })));
      const conn = await connect(setupId, queue);
      // Subscribe and keep appending while the backlog is replayed.
      conn.ws.send(JSON.stringify({ type: "subscribe", startId: "0" }));
      const late: string[] = [];
      for (let n = 200; n < 230; n++) late.push(await append(api, setupId, queue, { payload: { n } }));
      const got = await conn.waitEntries(230, "replayed and live entries");
      const marker = await append(api, setupId, queue, { payload: { n: 230 } });
      await conn.waitEntries(231, "the marker");
      const all = conn.entries();
      assert.deepEqual(
        all.map((e) => e.payload.n),
        Array.from({ length: 231 }, (_, n) => n),
      );
      assert.deepEqual(
        all.map((e) => e.id),
        [...early, ...late, marker],
      );
      assert.equal(got.length, 230);
      assert.ok(conn.msgs.some((m) => m.type === "subscribed" && m.startId === "0-0"), "the subscription reports where it started");

      // An explicit id is exclusive: the entries after it.
      const from = await connect(setupId, queue);
      await from.subscribe({ startId: early[197] });
      const rest = await from.waitEntries(33, "entries after the start id");
      assert.deepEqual(
        rest.map((e) => e.payload.n),
        Array.from({ length: 33 }, (_, i) => 198 + i),
      );
    });

    it("filters by messageType, header values and payload text, alone and together", async () => {
      const setupId = unique("setup");
      const queue = unique("filtered");
      const byType = await connect(setupId, queue);
      const byHeader = await connect(setupId, queue);
      const byText = await connect(setupId, queue);
      const byAll = await connect(setupId, queue);
      await byType.subscribe({ filters: { messageType: "OrderCreated" } });
      await byHeader.subscribe({ filters: { headers: { region: "US-WEST" } } });
      await byText.subscribe({ filters: { payloadContains: "urgent" } });
      const all = { messageType: "OrderCreated", headers: { region: "US-WEST" }, payloadContains: "urgent" };
      const sub = await byAll.subscribe({ filters: all });
      assert.deepEqual(sub.filters, all);

      const entries = [
        { payload: { label: "a", note: "urgent" }, messageType: "OrderCreated", headers: { region: "US-WEST", tier: "gold" } },
        { payload: { label: "b", note: "normal" }, messageType: "OrderShipped", headers: { region: "US-WEST" } },
        { payload: { label: "c", note: "normal" }, messageType: "OrderCreated", headers: { region: "EU" } },
        { payload: { label: "d", note: "urgent" }, messageType: "Other", headers: { region: "us-west" } },
        { payload: { label: "e", note: "normal" } },
        { payload: { label: "f", note: "URGENT" }, messageType: "ordercreated", headers: { other: "US-WEST" } },
        { payload: { label: "z", note: "urgent" }, messageType: "OrderCreated", headers: { region: "US-WEST" } },
      ];
      for (const e of entries) await append(api, setupId, queue, e);
      const expected: [Conn, string[]][] = [
        [byType, ["a", "c", "z"]],
        [byHeader, ["a", "b", "z"]],
        [byText, ["a", "d", "z"]],
        [byAll, ["a", "z"]],
      ];
      for (const [conn, labels] of expected) {
        // `z` matches every filter and comes last: once it is there, the others had their chance.
        await until(() => conn.entries().some((e) => e.payload.label === "z"), "the last entry");
        assert.deepEqual(
          conn.entries().map((e) => e.payload.label),
          labels,
        );
      }
    });

    it("configure batchSize 3 sends batch messages of three", async () => {
      const setupId = unique("setup");
      const queue = unique("batched");
      const conn = await connect(setupId, queue);
      const configured = await conn.request({ type: "configure", batchSize: 3, maxWaitTime: 60_000 });
      assert.equal(configured.type, "configured", JSON.stringify(configured));
      assert.equal(configured.batchSize, 3);
      assert.equal(configured.maxWaitTime, 60_000);
      await conn.subscribe();
      const ids: string[] = [];
      for (let n = 0; n < 6; n++) ids.push(await append(api, setupId, queue, { payload: { n } }));
      await until(() => conn.msgs.filter((m) => m.type === "batch").length >= 2, "two batches");
      const batches = conn.msgs.filter((m) => m.type === "batch");
      assert.deepEqual(
        batches.map((b) => b.messageCount),
        [3, 3],
      );
      for (const b of batches) {
        assert.equal(b.connectionId, conn.welcome.connectionId);
        assert.ok(Number.isInteger(b.timestamp));
        assert.equal(b.messages.length, b.messageCount);
        for (const m of b.messages) assert.equal(m.type, "data");
      }
      assert.deepEqual(
        conn.entries().map((e) => e.id),
        ids,
      );
      assert.equal(conn.msgs.filter((m) => m.type === "data").length, 0, "no single data messages while batching");
    });

    it("maxWaitTime flushes a partial batch", async () => {
      const setupId = unique("setup");
      const queue = unique("partial");
      const conn = await connect(setupId, queue);
      await conn.subscribe();
      const configured = await conn.request({ type: "configure", batchSize: 10, maxWaitTime: 200 });
      assert.equal(configured.batchSize, 10);
      assert.equal(configured.maxWaitTime, 200);
      const ids = [await append(api, setupId, queue, { payload: 1 }), await append(api, setupId, queue, { payload: 2 })];
      // Far fewer than batchSize: only the wait can send them, as one batch of two or, if they came apart, one
      // data message each (a batch is several messages).
      await until(() => conn.entries().length === 2, "both entries in a partial batch");
      const batches = conn.msgs.filter((m) => m.type === "batch");
      const singles = conn.msgs.filter((m) => m.type === "data");
      assert.ok(batches.every((b) => b.messageCount >= 2 && b.messageCount < 10 && b.messages.length === b.messageCount));
      if (batches.length === 1) assert.equal(singles.length, 0, "one batch of both");
      else assert.deepEqual([batches.length, singles.length], [0, 2], "one data message each");
      assert.deepEqual(
        conn.entries().map((e) => e.id),
        ids,
      );
      // One entry alone, with room for ten: when the wait ends it comes as a data message, not a batch of one.
      const before = conn.msgs.length;
      const lone = await append(api, setupId, queue, { payload: 3 });
      await until(() => conn.entries().length === 3, "the third entry");
      assert.deepEqual(
        conn.msgs.slice(before).filter((m) => m.type === "data" || m.type === "batch").map((m) => [m.type, m.messageId]),
        [["data", lone]],
      );
    });

    it("a consumer group shares entries: each goes to exactly one connection, all are delivered", async () => {
      const queue = unique("shared");
      const group = unique("workers");
      const a = await connect("default", queue);
      const b = await connect("default", queue);
      const subA = await a.subscribe({ consumerGroup: group, ackMode: "manual" });
      await b.subscribe({ consumerGroup: group, ackMode: "manual" });
      assert.equal(subA.consumerGroup, group);
      assert.equal(subA.ackMode, "manual");
      const ids: string[] = [];
      for (let n = 0; n < 60; n++) ids.push(await append(api, "default", queue, { payload: { n } }));
      await until(() => a.entries().length + b.entries().length >= 60, "60 deliveries");
      await sleep(200);
      const got = [...a.entries(), ...b.entries()];
      assert.equal(got.length, 60, "no entry delivered twice");
      assert.deepEqual(got.map((e) => e.id).sort(cmp), ids);
      assert.ok(got.every((e) => e.deliveryCount === 1));
      const pending = await pendingCount(api, queue, group);
      assert.equal(pending.count, 60, "manual mode: delivered entries stay pending");

      for (const conn of [a, b]) {
        const mine = conn.entries().map((e) => e.id);
        if (mine.length === 0) continue;
        const acked = await conn.request({ type: "ack", messageIds: mine });
        assert.equal(acked.type, "acked", JSON.stringify(acked));
        assert.equal(acked.acked, mine.length);
      }
      assert.equal((await pendingCount(api, queue, group)).count, 0);
    });

    it("manual acks keep entries pending until acked; maxInFlight holds back the rest", async () => {
      const queue = unique("manual");
      const group = unique("g");
      const conn = await connect("default", queue);
      const sub = await conn.subscribe({ consumerGroup: group, ackMode: "manual", maxInFlight: 2 });
      assert.equal(sub.consumer, conn.welcome.connectionId, "the connection is the group's consumer");
      const ids: string[] = [];
      for (let n = 0; n < 3; n++) ids.push(await append(api, "default", queue, { payload: { n } }));
      await conn.waitEntries(2, "the first two entries");
      await sleep(300);
      assert.equal(conn.entries().length, 2, "no more than maxInFlight unacknowledged");
      let p = await pendingCount(api, queue, group);
      assert.equal(p.count, 2);
      assert.deepEqual(p.consumers, [{ name: conn.welcome.connectionId, pending: 2 }]);

      const one = await conn.request({ type: "ack", messageId: ids[0] });
      assert.equal(one.type, "acked", JSON.stringify(one));
      assert.equal(one.acked, 1);
      const third = await conn.waitEntries(3, "the third entry after an ack");
      assert.equal(third[2]!.id, ids[2]);
      assert.equal((await pendingCount(api, queue, group)).count, 2);

      const rest = await conn.request({ type: "ack", messageIds: [ids[1], ids[2]] });
      assert.equal(rest.acked, 2);
      p = await pendingCount(api, queue, group);
      assert.equal(p.count, 0);
      const twice = await conn.request({ type: "ack", messageId: ids[0] });
      assert.equal(twice.acked, 0, "an entry is acked once");
    });

    it("a nack gives an entry back to the group, frees its slot, and it comes again with deliveryCount 2", async () => {
      const queue = unique("nack");
      const group = unique("g");
      const conn = await connect("default", queue);
      await conn.subscribe({ consumerGroup: group, ackMode: "manual", maxInFlight: 1 });
      const ids = [await append(api, "default", queue, { payload: 1 }), await append(api, "default", queue, { payload: 2 })];
      await conn.waitEntries(1, "the first entry");

      const bad = await conn.request({ type: "nack", messageId: ids[0], delayMs: -1 });
      assert.equal(bad.type, "error", JSON.stringify(bad));
      assert.equal(bad.field, "delayMs");
      assert.equal((await pendingCount(api, queue, group)).count, 1, "a refused nack changes nothing");

      const nacked = await conn.request({ type: "nack", messageId: ids[0] });
      assert.equal(nacked.type, "nacked", JSON.stringify(nacked));
      assert.equal(nacked.nacked, 1);
      const [, again] = await conn.waitEntries(2, "the nacked entry again");
      assert.deepEqual([again!.id, again!.deliveryCount], [ids[0], 2]);
      assert.equal((await conn.request({ type: "ack", messageId: ids[0] })).acked, 1);
      const [, , second] = await conn.waitEntries(3, "the second entry");
      assert.equal(second!.id, ids[1]);

      const other = await connect("default", queue);
      const refused = await other.request({ type: "nack", messageId: ids[1] });
      assert.equal(refused.type, "error", "nack needs a group subscription");
      assert.equal(refused.field, "type");
    });

    it("auto ack mode settles entries as they are sent", async () => {
      const queue = unique("auto");
      const group = unique("g");
      const conn = await connect("default", queue);
      await conn.subscribe({ consumerGroup: group, ackMode: "auto" });
      for (let n = 0; n < 3; n++) await append(api, "default", queue, { payload: { n } });
      await conn.waitEntries(3, "entries");
      await until(async () => (await pendingCount(api, queue, group)).count === 0, "nothing pending");
    });

    it("a group subscriber that never acks, as in the seed's client, gets every entry (auto is the default)", async () => {
      const queue = unique("seedclient");
      const group = unique("g");
      const conn = await connect("default", queue);
      const sub = await conn.subscribe({ consumerGroup: group, filters: { messageType: "OrderCreated" } });
      assert.equal(sub.ackMode, "auto");
      // More than the 1,000 unacknowledged entries a manual subscriber may hold.
      const entries = Array.from({ length: 1100 }, (_, n) => ({ payload: { n }, type: "OrderCreated" }));
      const res = await api.post(`/stream/${queue}/entries`, { entries });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const got = await conn.waitEntries(1100, "all 1100 entries");
      assert.deepEqual(got.map((e) => e.id).sort(cmp), res.body.ids);
      await until(async () => (await pendingCount(api, queue, group)).count === 0, "nothing pending");
    });

    it("a group connection's filter settles the entries it skips", async () => {
      const queue = unique("groupfilter");
      const group = unique("g");
      const conn = await connect("default", queue);
      await conn.subscribe({ consumerGroup: group, ackMode: "manual", filters: { messageType: "Wanted" } });
      await append(api, "default", queue, { payload: 1, messageType: "Other" });
      const wanted = await append(api, "default", queue, { payload: 2, messageType: "Wanted" });
      const got = await conn.waitEntries(1, "the wanted entry");
      assert.equal(got[0]!.id, wanted);
      await sleep(200);
      assert.equal(conn.entries().length, 1);
      const p = await pendingCount(api, queue, group);
      assert.equal(p.count, 1, "only the delivered entry waits for an ack");
      assert.equal(p.smallestId, wanted);
    });

    it("a killed connection's unacked entries go to another connection with deliveryCount 2", async () => {
      const queue = unique("redeliver");
      const group = unique("g");
      const a = await connect("default", queue);
      await a.subscribe({ consumerGroup: group, ackMode: "manual" });
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push(await append(api, "default", queue, { payload: { n } }));
      const first = await a.waitEntries(5, "entries on the first connection");
      assert.ok(first.every((e) => e.deliveryCount === 1));
      // Ack one: only the other four go back.
      assert.equal((await a.request({ type: "ack", messageId: ids[0] })).acked, 1);

      const b = await connect("default", queue);
      await b.subscribe({ consumerGroup: group, ackMode: "manual" });
      await sleep(100);
      assert.equal(b.entries().length, 0, "nothing for the second connection while the first holds them");
      a.ws.terminate();
      const again = await b.waitEntries(4, "redelivered entries");
      assert.deepEqual(
        again.map((e) => e.id).sort(cmp),
        ids.slice(1),
      );
      assert.ok(again.every((e) => e.deliveryCount === 2), JSON.stringify(again.map((e) => e.deliveryCount)));
      const p = await pendingCount(api, queue, group);
      assert.deepEqual(p.consumers, [{ name: b.welcome.connectionId, pending: 4 }]);
    });

    it("answers malformed messages with an error and stays usable", async () => {
      const conn = await connect(unique("setup"), unique("q"));
      const notJson = await conn.request("this is not json");
      assert.equal(notJson.type, "error");
      assert.equal(notJson.code, "RUNNEL_BAD_REQUEST");
      assert.equal(typeof notJson.message, "string");

      const notObject = await conn.request("[1,2]");
      assert.equal(notObject.type, "error");

      const unknown = await conn.request({ type: "launch-rockets" });
      assert.equal(unknown.type, "error");
      assert.equal(unknown.code, "RUNNEL_BAD_REQUEST");
      assert.equal(unknown.field, "type");

      for (const batchSize of [0, 1001, 2.5, "3"]) {
        const bad = await conn.request({ type: "configure", batchSize });
        assert.equal(bad.type, "error", `batchSize ${JSON.stringify(batchSize)}`);
        assert.equal(bad.field, "batchSize");
      }
      const badWait = await conn.request({ type: "configure", maxWaitTime: 60_001 });
      assert.equal(badWait.field, "maxWaitTime");

      const noSub = await conn.request({ type: "ack", messageId: "1-0" });
      assert.equal(noSub.type, "error", "ack without a subscription");
      assert.equal(noSub.code, "RUNNEL_BAD_REQUEST");
      await conn.subscribe();
      const broadcastAck = await conn.request({ type: "ack", messageId: "1-0" });
      assert.equal(broadcastAck.type, "error", "ack on a subscription without a group");

      const badFilter = await conn.request({ type: "subscribe", filters: { colour: "red" } });
      assert.equal(badFilter.type, "error");

      const pong = await conn.request({ type: "ping", id: "still-here" });
      assert.equal(pong.type, "pong");
      assert.equal(pong.id, "still-here");
      assert.equal(conn.closed, undefined);
    });

    it("sends heartbeats counting messages received and sent", async () => {
      const setupId = unique("setup");
      const queue = unique("beat");
      const conn = await connect(setupId, queue);
      await conn.request({ type: "ping", id: 1 });
      await conn.subscribe();
      await append(api, setupId, queue, { payload: 1 });
      await append(api, setupId, queue, { payload: 2 });
      await conn.waitEntries(2, "entries");
      const from = conn.msgs.length;
      const beat = await until(() => conn.msgs.slice(from).find((m) => m.type === "heartbeat"), "a heartbeat after the entries");
      assert.equal(beat.connectionId, conn.welcome.connectionId);
      assert.equal(beat.messagesReceived, 2, "a ping and a subscribe");
      assert.equal(beat.messagesSent, 2, "two entries");
      assert.ok(Number.isInteger(beat.timestamp));
    });

    it("refuses an upgrade on an unknown path with 404", async () => {
      for (const path of ["/ws/nope", "/ws/queues/only-one"]) {
        const ws = new WebSocket(wsUrl(server, path));
        const status = await new Promise<number>((resolve, reject) => {
          ws.on("unexpected-response", (_req, res) => {
            resolve(res.statusCode ?? 0);
            res.resume();
          });
          ws.on("open", () => reject(new Error(`${path} upgraded`)));
          ws.on("error", () => undefined);
        });
        ws.terminate();
        assert.equal(status, 404, path);
      }
    });
  });

  describe(`WebSocket push to a slow client (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    let conn: Conn | undefined;

    before(async () => {
      server = await startTestServer(await backend.fresh(), { push: { maxBuffered: 2048 } });
      api = client(server.url);
    });
    after(async () => {
      conn?.ws.terminate();
      await until(() => server.engine.push.sessionCount === 0, "every session to end");
      await server.close();
      await backend.cleanup();
    });

    it("drops a broadcast subscriber that stops reading instead of buffering without bound", async () => {
      const setupId = unique("setup");
      const queue = unique("flood");
      conn = new Conn(new WebSocket(wsUrl(server, `/ws/queues/${setupId}/${queue}`)));
      await conn.next((m) => m.type === "welcome", "the welcome");
      await conn.subscribe();
      const socket = (conn.ws as unknown as { _socket: import("node:net").Socket })._socket;
      socket.pause();

      // 64 entries of 512 KiB: 32 MiB, far more than the socket buffers of both ends hold.
      const big = "x".repeat(512 * 1024);
      const count = 64;
      for (let n = 0; n < count; n++) await append(api, setupId, queue, { payload: { n, big } });

      socket.resume();
      const closed = await until(() => conn!.closed, "the server to close the connection", 20_000);
      assert.equal(closed.code, 1008);
      assert.equal(closed.reason, "RUNNEL_SLOW_CONSUMER");
      const error = conn.msgs.find((m) => m.type === "error");
      assert.ok(error, "an error message before the close");
      assert.equal(error.code, "RUNNEL_SLOW_CONSUMER");
      const got = conn.entries().length;
      assert.ok(got < count, `the server stopped sending (got ${got} of ${count})`);
      await until(() => server.engine.push.sessionCount === 0, "the session to end");
    });
  });

  describe(`WebSocket push while the server stops (${backend.name})`, () => {
    after(() => backend.cleanup());

    it("a server with a live subscriber exits on SIGTERM, closing the connection", async () => {
      const node = await spawnServer(storeArgs(await backend.fresh()));
      let conn: Conn | undefined;
      try {
        const setupId = unique("setup");
        const queue = unique("stopping");
        conn = new Conn(new WebSocket(wsUrl({ url: node.url } as RunningServer, `/ws/queues/${setupId}/${queue}`)));
        await conn.next((m) => m.type === "welcome", "the welcome");
        await conn.subscribe();
        await append(client(node.url), setupId, queue, { payload: 1 });
        await conn.waitEntries(1, "an entry");
        // A generous limit, not a timing check: without it a hung server would hang the test run.
        const limit = new AbortController();
        const exited = await Promise.race([
          node.stop("SIGTERM"),
          sleep(10_000, "still running" as const, { signal: limit.signal }).catch(() => "still running" as const),
        ]);
        limit.abort();
        assert.notEqual(exited, "still running", `the server did not exit:\n${node.stderr()}`);
        assert.equal(exited, 0);
        const closed = await until(() => conn!.closed, "the connection to close");
        assert.equal(closed.code, 1001, "closed as going away");
      } finally {
        conn?.ws.terminate();
        await node.stop("SIGKILL");
      }
    });
  });
}
