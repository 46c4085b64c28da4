// The TypeScript SDK (runnel/client) against real servers on every backend: each HTTP operation, error mapping,
// the batching producer, consume, worker (concurrency, nack, graceful stop, auto-claim), and WS/SSE subscriptions
// that reconnect across a server restart without a gap.
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, before, describe, it } from "node:test";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import type { RunningServer } from "../src/api/server.js";
import {
  BadRequestError,
  ConflictError,
  IdTooSmallError,
  InvalidIdError,
  NotFoundError,
  RawJson,
  RunnelClient,
  RunnelError,
  UnavailableError,
  type FetchFunction,
  type Message,
  type PushMessage,
  type PushTransport,
  type SubscriptionState,
} from "../src/client/index.js";
import { compareIds, parseId } from "../src/core/ids.js";
import type { StoreOptions } from "../src/storage/index.js";
import { backends, type Backend } from "./helpers/backends.js";
import { unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** Asserts that `promise` rejects with an instance of `Class` and answers the error. */
async function rejectsWith<E extends Error>(promise: Promise<unknown>, Class: new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Class, `expected ${Class.name}, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${Class.name}, but it resolved`);
}

function ascending(ids: string[]): boolean {
  return ids.every((id, i) => i === 0 || compareIds(parseId(ids[i - 1]!), parseId(id)) < 0);
}

/** Workers and subscriptions a test started: stopped after it, so a failing test cannot leave them retrying. */
const running: (() => unknown)[] = [];

function stopAfterTest<T extends { stop(): Promise<void> } | { close(): unknown }>(started: T): T {
  running.push(() => ("stop" in started ? started.stop() : started.close()));
  return started;
}

/** Stores each nack at once but hands its answer back late, so a read under way meanwhile can carry the entry again. */
const slowNacks: FetchFunction = async (url, init) => {
  const res = await fetch(url, init);
  if (String(url).endsWith("/nack")) await sleep(300);
  return res;
};

function sdk(url: string, fetch?: FetchFunction): RunnelClient {
  return new RunnelClient({ url, WebSocket, EventSource, ...(fetch ? { fetch } : {}) });
}

for (const backend of await backends()) {
  describe(`client SDK (${backend.name})`, () => {
    let server: RunningServer;
    let client: RunnelClient;
    afterEach(async () => {
      await Promise.allSettled(running.splice(0).map(async (stop) => stop()));
    });
    before(async () => {
      server = await startTestServer(await backend.fresh());
      client = sdk(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("streams: every operation round-trips", async () => {
      const s = unique("orders");
      const created = await client.streams.create(s, { partitions: 2, maxLen: 1000, maxDeliveries: 3 });
      assert.deepEqual([created.name, created.partitions, created.maxLen, created.maxDeliveries, created.length], [s, 2, 1000, 3, 0]);

      const one = await client.streams.append(s, { orderId: 1 }, {
        type: "OrderCreated",
        headers: { region: "EU" },
        key: "customer-7",
        priority: "HIGH",
        correlationId: "corr-1",
        causationId: "cause-1",
        messageId: "order-1",
        producerId: "shop",
      });
      assert.match(one.id, /^\d+-\d+$/);
      assert.equal(one.duplicate, false);
      const again = await client.streams.append(s, { orderId: 1 }, { messageId: "order-1", producerId: "shop" });
      assert.deepEqual([again.id, again.duplicate], [one.id, true]);

      const batch = await client.streams.appendBatch(s, [
        { payload: { orderId: 2 }, partition: 1 },
        { payload: "text payload", type: "note", deliverAt: new Date(Date.now() + 60_000) },
        { payload: [1, 2, 3], priority: 2 },
      ]);
      assert.equal(batch.length, 3);
      assert.equal(batch[0]!.partition, 1);
      const ids = [one.id, ...batch.map((r) => r.id)];
      assert.ok(ascending(ids));

      assert.equal(await client.streams.len(s), 4);
      const info = await client.streams.info<unknown>(s);
      assert.deepEqual([info.length, info.lastGeneratedId, info.firstEntry?.id, info.lastEntry?.id], [4, ids[3], ids[0], ids[3]]);
      assert.deepEqual(info.groups, []);

      const all = await client.streams.range<unknown>(s);
      assert.deepEqual(all.map((e) => e.id), ids);
      const first = all[0]!;
      assert.deepEqual(
        [first.payload, first.type, first.headers, first.key, first.priority, first.correlationId, first.causationId, first.messageId],
        [{ orderId: 1 }, "OrderCreated", { region: "EU" }, "customer-7", "HIGH", "corr-1", "cause-1", "order-1"],
      );
      assert.equal(typeof first.timestamp, "number");
      assert.ok((all[2]!.deliverAt ?? 0) > Date.now());
      assert.equal(all[3]!.priority, "LOW");
      assert.deepEqual((await client.streams.range(s, { reverse: true, count: 2 })).map((e) => e.id), [ids[3], ids[2]]);
      assert.deepEqual((await client.streams.range(s, { start: `(${ids[1]}`, end: ids[2] })).map((e) => e.id), [ids[2]]);

      assert.deepEqual((await client.streams.read(s, { after: ids[1], count: 1 })).map((e) => e.id), [ids[2]]);
      const blocked = client.streams.read<{ late: boolean }>(s, { after: "$", block: 10_000 });
      await sleep(100);
      const late = await client.streams.append(s, { late: true });
      assert.deepEqual((await blocked).map((e) => [e.id, e.payload]), [[late.id, { late: true }]]);

      assert.equal(await client.streams.deleteEntries(s, [late.id, "1-1"]), 1);
      assert.equal(await client.streams.trim(s, { maxLen: 3 }), 1);
      assert.deepEqual((await client.streams.range(s)).map((e) => e.id), ids.slice(1));

      const configured = await client.streams.configure(s, { partitions: 3, maxLen: null });
      assert.deepEqual([configured.partitions, configured.maxLen], [3, null]);
      assert.ok((await client.streams.list()).some((d) => d.name === s && d.length === 3));

      await client.streams.delete(s);
      await rejectsWith(client.streams.info(s), NotFoundError);
    });

    it("groups: every operation round-trips", async () => {
      const s = unique("jobs");
      const appended = await client.streams.appendBatch(s, [1, 2, 3, 4, 5].map((n) => ({ payload: { n } })));
      const ids = appended.map((r) => r.id);
      const created = await client.groups.create(s, "g", { startId: "0" });
      assert.deepEqual(created, { stream: s, group: "g", startId: "0-0", created: true });

      const read = await client.groups.read<{ n: number }>(s, "g", "c1", { count: 2 });
      assert.deepEqual(read.entries.map((e) => [e.id, e.payload.n, e.deliveryCount]), [[ids[0], 1, 1], [ids[1], 2, 1]]);
      assert.deepEqual(read.deleted, []);

      const info = await client.groups.info(s, "g");
      assert.deepEqual([info.name, info.stream, info.pending, info.consumers, info.lag], ["g", s, 2, 1, 5]);
      assert.deepEqual(info.consumerList.map((c) => [c.name, c.pending]), [["c1", 2]]);
      assert.deepEqual((await client.groups.list(s)).map((g) => g.name), ["g"]);

      const summary = await client.groups.pending(s, "g");
      assert.deepEqual(summary, { count: 2, smallestId: ids[0], largestId: ids[1], consumers: [{ name: "c1", pending: 2 }] });
      const detail = await client.groups.pendingEntries(s, "g", { consumer: "c1" });
      assert.deepEqual(detail.map((p) => [p.id, p.consumer, p.deliveryCount]), [[ids[0], "c1", 1], [ids[1], "c1", 1]]);

      assert.equal(await client.groups.ack(s, "g", [ids[0]!]), 1);
      assert.equal(await client.groups.nack(s, "g", [ids[1]!], { consumer: "c1" }), 1);
      // The nacked entry comes back to any consumer, ahead of or among the new ones.
      const second = await client.groups.read(s, "g", "c2", { count: 10 });
      assert.deepEqual(second.entries.map((e) => e.id).sort(), ids.slice(1).sort());
      assert.equal(second.entries.find((e) => e.id === ids[1])!.deliveryCount, 2);

      const own = await client.groups.read(s, "g", "c2", { id: "0" });
      assert.deepEqual(own.entries.map((e) => e.id).sort(), ids.slice(1).sort());

      const claimed = await client.groups.claim(s, "g", { consumer: "c3", minIdleTime: 0, ids: [ids[1]!] });
      assert.deepEqual(claimed.entries.map((e) => e.id), [ids[1]]);
      assert.deepEqual(await client.groups.claimIds(s, "g", { consumer: "c3", minIdleTime: 0, ids: [ids[2]!] }), [ids[2]]);
      const auto = await client.groups.autoClaim(s, "g", { consumer: "c4", minIdleTime: 0, count: 1 });
      assert.deepEqual([auto.entries.length, auto.deleted], [1, []]);
      assert.match(auto.next, /^\d+-\d+$/);
      const autoIds = await client.groups.autoClaimIds(s, "g", { consumer: "c4", minIdleTime: 0, start: "0-0", count: 100 });
      assert.equal(autoIds.ids.length, 4);
      assert.equal(autoIds.next, "0-0");

      assert.deepEqual((await client.groups.consumers(s, "g")).map((c) => [c.name, c.pending]).sort(), [
        ["c1", 0],
        ["c2", 0],
        ["c3", 0],
        ["c4", 4],
      ]);
      assert.equal(await client.groups.deleteConsumer(s, "g", "c4"), 4);
      assert.equal((await client.groups.pending(s, "g")).count, 0);

      // A second group, from now: a noack read leaves nothing pending; setId moves its cursor back.
      await client.groups.create(s, "g2");
      const extra = await client.streams.append(s, { n: 6 });
      const noack = await client.groups.read(s, "g2", "c5", { noack: true, block: 1000 });
      assert.deepEqual(noack.entries.map((e) => e.id), [extra.id]);
      assert.equal((await client.groups.pending(s, "g2")).count, 0);
      await client.groups.setId(s, "g2", ids[2]!);
      const fromId = await client.groups.read(s, "g2", "c5", { count: 10, noack: true });
      assert.deepEqual(fromId.entries.map((e) => e.id), [ids[3], ids[4], extra.id]);

      await client.groups.destroy(s, "g2");
      await client.groups.destroy(s, "g");
      assert.deepEqual(await client.groups.list(s), []);
    });

    it("dead letters: lists and reprocesses", async () => {
      const s = unique("pay");
      await client.streams.create(s, { maxDeliveries: 1 });
      const { id } = await client.streams.append(s, { amount: 5 });
      await client.groups.create(s, "g", { startId: "0" });
      await client.groups.read(s, "g", "c1");
      await client.groups.nack(s, "g", [id]);
      assert.deepEqual((await client.groups.read(s, "g", "c1")).entries, []);

      const dlq = await client.deadLetters.list<{ amount: number }>(s);
      assert.equal(dlq.deadLetterStream, `${s}:dlq`);
      assert.equal(dlq.entries.length, 1);
      assert.deepEqual(dlq.entries[0]!.payload, { amount: 5 });
      assert.equal(dlq.entries[0]!.headers["runnel-dead-id"], id);

      const r = await client.deadLetters.reprocess(s, { ids: [dlq.entries[0]!.id] });
      assert.equal(r.reprocessed, 1);
      assert.equal(r.entries[0]!.stream, s);
      assert.deepEqual((await client.deadLetters.list(s)).entries, []);
      assert.deepEqual((await client.streams.range(s)).map((e) => e.id), [id, r.entries[0]!.id]);
    });

    it("queues: sends one message, a batch, and reads queue info", async () => {
      const setup = unique("setup");
      const sent = await client.queues.send(setup, "orders", {
        payload: { orderId: "12345" },
        messageType: "OrderCreated",
        headers: { region: "US-WEST" },
        priority: "HIGH",
        messageGroup: "customer-1",
      });
      assert.deepEqual([sent.setupId, sent.queueName, sent.duplicate], [setup, "orders", false]);
      const batch = await client.queues.sendBatch(setup, "orders", [{ payload: 1 }, { payload: 2, delaySeconds: 1 }]);
      assert.deepEqual([batch.totalMessages, batch.successfulMessages, batch.failedMessages], [2, 2, 0]);
      assert.ok(ascending([sent.messageId, ...batch.messageIds]));
      const info = await client.queues.info(setup, "orders");
      assert.deepEqual([info.messageCount, info.partitions, info.firstMessageId, info.lastMessageId], [3, 1, sent.messageId, batch.messageIds[1]]);
      await rejectsWith(client.queues.info(setup, "nothing-here"), NotFoundError);
    });

    it("membership: groups with members share partitions; join, heartbeat, member reads, leave, seed 003 lag and rebalance", async () => {
      const s = unique("members");
      await client.streams.create(s, { partitions: 2 });
      const created = await client.membership.create(s, "g", { loadBalancingStrategy: "RANGE", sessionTimeout: 30_000 });
      assert.deepEqual([created.groupName, created.loadBalancingStrategy, created.memberCount], ["g", "RANGE", 0]);
      const a = await client.membership.join(s, "g", { memberName: "a" });
      const b = await client.membership.join(s, "g", { memberName: "b" });
      assert.equal(b.memberCount, 2);
      const beat = await client.membership.heartbeat(s, "g", a.memberId);
      assert.deepEqual(beat.assignedPartitions, [0]);
      assert.deepEqual((await client.membership.heartbeat(s, "g", b.memberId)).assignedPartitions, [1]);
      await client.streams.appendBatch(s, [0, 1, 0, 1].map((partition, i) => ({ payload: { i }, partition })));
      const mine = await client.groups.read(s, "g", "ca", { memberId: a.memberId, count: 10 });
      assert.deepEqual(mine.entries.map((e) => e.partition), [0, 0], "a member reads only its partitions");
      assert.deepEqual((await client.membership.list(s)).map((g) => g.groupName), ["g"]);
      assert.deepEqual((await client.membership.get(s, "g")).members.map((m) => m.memberName), ["a", "b"]);
      const left = await client.membership.leave(s, "g", a.memberId);
      assert.deepEqual([left.handedBack, left.memberCount], [2, 1]);
      await rejectsWith(client.membership.heartbeat(s, "g", a.memberId), NotFoundError);

      const { group_id } = await client.membership.createById({ group_name: "bus", stream: s, max_poll_interval_ms: 60_000 });
      const lag = await client.membership.lag(group_id);
      assert.deepEqual([lag.group_name, lag.total_lag, lag.stream], ["bus", 4, s]);
      const rebalanced = await client.membership.rebalance(group_id);
      assert.equal(rebalanced.group_id, group_id);
      await client.membership.delete(s, "g");
      await rejectsWith(client.membership.get(s, "g"), NotFoundError);
    });

    it("event stores: configure, append (one, a batch, with expected versions), query, get, correct, history, state, snapshot, stats, seed 003", async () => {
      const setup = unique("shop");
      const configured = await client.eventStores.configure(setup, "orders", { snapshotEvery: 2 });
      assert.equal(configured.created, true);
      const placed = await client.eventStores.append(setup, "orders", {
        aggregateId: "order-1",
        aggregateType: "Order",
        eventType: "OrderPlaced",
        eventData: { total: 42, lines: 2 },
        expectedVersion: "no_stream",
      });
      assert.equal(placed.version, 1);
      const more = await client.eventStores.appendBatch(
        setup,
        "orders",
        [
          { aggregateId: "order-1", eventType: "OrderPaid", eventData: { paid: true } },
          { aggregateId: "order-1", eventType: "LineRemoved", eventData: { lines: 1 } },
        ],
        { expectedVersion: 1 },
      );
      assert.deepEqual(more.events.map((e) => e.version), [2, 3]);
      const stale = await rejectsWith(
        client.eventStores.append(setup, "orders", { aggregateId: "order-1", eventType: "Late", eventData: {}, expectedVersion: 1 }),
        ConflictError,
      );
      assert.equal(stale.details.currentVersion, 3);

      const page = await client.eventStores.query<{ total?: number }>(setup, "orders", { aggregateId: "order-1" });
      assert.deepEqual(page.events.map((e) => e.eventType), ["OrderPlaced", "OrderPaid", "LineRemoved"]);
      assert.equal((await client.eventStores.get(setup, "orders", placed.eventId)).event.eventType, "OrderPlaced");
      const fixed = await client.eventStores.correct(setup, "orders", placed.eventId, { eventData: { total: 40, lines: 2 }, correctionReason: "discount" });
      assert.equal(fixed.correctionOf, placed.eventId);
      const history = await client.eventStores.history(setup, "orders", "order-1");
      assert.equal(history.aggregateType, "Order");
      assert.ok(history.events.length >= 3);
      const state = await client.eventStores.state<{ total: number; lines: number; paid: boolean }>(setup, "orders", "order-1");
      assert.deepEqual(state.state, { total: 40, lines: 1, paid: true });
      const first = await client.eventStores.state(setup, "orders", "order-1", { version: 1 });
      assert.equal(first.currentVersion, 1);
      const snap = await client.eventStores.snapshot(setup, "orders", "order-1");
      assert.ok(snap.version >= 3);
      const stats = await client.eventStores.stats(setup, "orders");
      assert.equal(stats.stats.aggregateCount, 1);

      const user = unique("User");
      const appended = await client.eventStores.appendToAggregate({ aggregate_id: "u-1", aggregate_type: user, event_type: "UserCreated", event_data: { name: "Ada" }, expected_version: 0 });
      assert.equal(appended.version, 1);
      const rebuilt = await client.eventStores.reconstruct<{ name: string }>({ aggregate_id: "u-1", aggregate_type: user });
      assert.deepEqual([rebuilt.current_version, rebuilt.state], [1, { name: "Ada" }]);
    });

    it("event stores: subscribe delivers past events from a position, then live ones, with their positions", async () => {
      const setup = unique("live");
      await client.eventStores.append(setup, "orders", { aggregateId: "o-1", eventType: "A", eventData: { n: 1 } });
      await client.eventStores.append(setup, "orders", { aggregateId: "o-2", eventType: "B", eventData: { n: 2 } });
      const seen: [string, number][] = [];
      const sub = client.eventStores.subscribe<{ n: number }>(setup, "orders", (e, position) => seen.push([e.eventType, position]), { fromPosition: 1 });
      try {
        await until(() => seen.length === 2, "the past events");
        await client.eventStores.append(setup, "orders", { aggregateId: "o-1", eventType: "C", eventData: { n: 3 } });
        await until(() => seen.length === 3, "the live event");
        assert.deepEqual(seen.map(([type]) => type), ["A", "B", "C"]);
        assert.ok(seen[0]![1] < seen[1]![1] && seen[1]![1] < seen[2]![1], "positions grow");
        assert.equal(sub.position, seen[2]![1]);
      } finally {
        sub.close();
      }
      // Without an EventSource (none passed, none global, as in Node 20) subscribing says what is missing.
      if (!("EventSource" in globalThis)) {
        const bare = new RunnelClient({ url: server.url });
        assert.throws(() => bare.eventStores.subscribe("x", "y", () => undefined), BadRequestError);
      }
    });

    it("events: publishes seed 003's event onto a stream, with its type, key, priority and delivery limit", async () => {
      const s = unique("bus");
      const published = await client.events.publish({ event_type: "user.created", aggregate_id: "user-1", payload: { name: "Ada" }, priority: "HIGH", max_retries: 2, stream_id: s });
      assert.deepEqual([published.stream_id, published.priority], [s, "HIGH"]);
      const [entry] = await client.streams.range<{ name: string }>(s);
      assert.deepEqual(
        [entry?.id, entry?.type, entry?.key, entry?.priority, entry?.headers["runnel-max-deliveries"], entry?.payload],
        [published.event_id, "user.created", "user-1", "HIGH", "3", { name: "Ada" }],
      );
    });

    it("maps server errors to the error classes, keeping field and details", async () => {
      const s = unique("err");
      await client.streams.create(s, { partitions: 2 });

      const exists = await rejectsWith(client.streams.create(s), ConflictError);
      assert.deepEqual([exists.code, exists.field, exists.name], ["RUNNEL_CONFLICT", "stream", "ConflictError"]);
      assert.ok(exists instanceof RunnelError);

      const shrink = await rejectsWith(client.streams.configure(s, { partitions: 1 }), ConflictError);
      assert.equal(shrink.field, "partitions");

      const missing = await rejectsWith(client.streams.info(unique("missing")), NotFoundError);
      assert.deepEqual([missing.code, missing.field], ["RUNNEL_NOT_FOUND", "stream"]);
      const noGroup = await rejectsWith(client.groups.info(s, "nope"), NotFoundError);
      assert.equal(noGroup.field, "group");

      const top = await client.streams.append(s, 1, { id: "5000-0" });
      const small = await rejectsWith(client.streams.append(s, 2, { id: "4000-0" }), IdTooSmallError);
      assert.deepEqual([small.code, small.field, small.details.topId], ["RUNNEL_ID_TOO_SMALL", "id", top.id]);

      const badId = await rejectsWith(client.streams.range(s, { start: "abc" }), InvalidIdError);
      assert.deepEqual([badId.code, badId.field], ["RUNNEL_INVALID_ID", "start"]);

      const badCount = await rejectsWith(client.groups.read(s, "g", "c", { count: 0 }), BadRequestError);
      assert.deepEqual([badCount.code, badCount.field], ["RUNNEL_BAD_REQUEST", "count"]);
      const badEntry = await rejectsWith(client.streams.appendBatch(s, [{ payload: 1 }, { payload: 2, partition: 7 }]), BadRequestError);
      assert.match(badEntry.field ?? "", /^entries\/1\/partition/);
      assert.equal(await client.streams.len(s), 1, "a rejected batch stores nothing");

      const offline = sdk("http://127.0.0.1:9");
      const down = await rejectsWith(offline.health(), UnavailableError);
      assert.equal(down.code, "RUNNEL_UNAVAILABLE");
      assert.match(down.message, /http:\/\/127\.0\.0\.1:9\/health/);
      assert.equal(down.details.url, "http://127.0.0.1:9/health");
    });

    it("RawJson payloads are stored as written: big numbers keep their digits through append, batch and producer", async () => {
      const s = unique("raw");
      const big = '{"id":12345678901234567890,"price":1.10}';
      await client.streams.append(s, new RawJson(big), { type: "t" });
      await client.streams.appendBatch(s, [{ payload: new RawJson("[ 98765432109876543210 ]"), key: "k" }, { payload: { plain: 1 } }]);
      const producer = client.producer(s, { lingerMs: 1 });
      await producer.publish(new RawJson("11111111111111111111"));
      await producer.close();
      const raw = await (await fetch(`${server.url}/stream/${s}/range`)).text();
      for (const text of [big, "[ 98765432109876543210 ]", '{"plain":1}', "11111111111111111111"]) {
        assert.ok(raw.includes(`"payload":${text}`), `${text} in ${raw}`);
      }
      assert.throws(() => new RawJson("{not json"), SyntaxError);
      // Inside another value it goes out parsed.
      await client.streams.append(s, { inner: new RawJson('{"a":1}') });
      const [last] = await client.streams.range<{ inner: unknown }>(s, { start: "-", end: "+", reverse: true, count: 1 });
      assert.deepEqual(last?.payload, { inner: { a: 1 } });
    });

    it("rawPayloads: reads hand out each payload's stored text, through read, range, group reads, claims, dead letters and consume", async () => {
      const s = unique("rawread");
      const texts = ['{"id":12345678901234567890,"price":1.50}', "[ 1e2, -0.0 ]", '"a \\" quote"', "null"];
      const ids = (await client.streams.appendBatch(s, texts.map((t) => ({ payload: new RawJson(t) })))).map((r) => r.id);
      const textsOf = (entries: { payload: unknown }[]) =>
        entries.map((e) => {
          assert.ok(e.payload instanceof RawJson, `${JSON.stringify(e)} has a RawJson payload`);
          return e.payload.text;
        });
      assert.deepEqual(textsOf(await client.streams.read<RawJson>(s, { rawPayloads: true })), texts);
      assert.deepEqual(textsOf(await client.streams.range<RawJson>(s, { reverse: true, rawPayloads: true })), [...texts].reverse());
      // Without the option nothing changes: parsed payloads.
      assert.deepEqual((await client.streams.read(s, { count: 1 }))[0]?.payload, { id: 12345678901234567000, price: 1.5 });

      await client.groups.create(s, "g", { startId: "0" });
      const read = await client.groups.read<RawJson>(s, "g", "c1", { count: 2, rawPayloads: true });
      assert.deepEqual(textsOf(read.entries), texts.slice(0, 2));
      assert.deepEqual(read.entries.map((e) => e.deliveryCount), [1, 1]);
      const claimed = await client.groups.claim<RawJson>(s, "g", { consumer: "c2", minIdleTime: 0, ids: [ids[0]!], rawPayloads: true });
      assert.deepEqual(textsOf(claimed.entries), texts.slice(0, 1));
      assert.deepEqual(await client.groups.claimIds(s, "g", { consumer: "c1", minIdleTime: 0, ids: [ids[0]!], rawPayloads: true }), [ids[0]]);
      // An entry deleted while pending comes back as a deleted id, its neighbours' payloads still raw.
      await client.streams.deleteEntries(s, [ids[1]!]);
      const auto = await client.groups.autoClaim<RawJson>(s, "g", { consumer: "c3", minIdleTime: 0, rawPayloads: true });
      assert.deepEqual(textsOf(auto.entries), texts.slice(0, 1));
      assert.deepEqual(auto.deleted, [ids[1]]);
      assert.equal((await client.groups.autoClaimIds(s, "g", { consumer: "c3", minIdleTime: 0, rawPayloads: true })).ids.length, 1);

      const consumed: string[] = [];
      for await (const m of client.consume<RawJson>(s, "g", "c4", { count: 10, rawPayloads: true, recoverPending: false })) {
        consumed.push(m.payload.text);
        await m.ack();
        if (consumed.length === 2) break;
      }
      assert.deepEqual(consumed, texts.slice(2));

      await client.streams.append(`${s}:dlq`, new RawJson(texts[0]!));
      const dead = await client.deadLetters.list<RawJson>(s, { rawPayloads: true });
      assert.deepEqual(textsOf(dead.entries), texts.slice(0, 1));
    });

    it("producer: concurrent publishes share few requests and each caller gets its own id, in order", async () => {
      const s = unique("clicks");
      let entryPosts = 0;
      const counting: FetchFunction = (url, init) => {
        if (init.method === "POST" && url.endsWith(`/stream/${s}/entries`)) entryPosts++;
        return fetch(url, init);
      };
      const producer = sdk(server.url, counting).producer(s, { lingerMs: 20, maxBatch: 50 });
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => producer.publish({ i }, { type: "click" })));
      assert.equal(entryPosts, 4);
      assert.equal(producer.requests, 4);
      assert.equal(new Set(results.map((r) => r.id)).size, 200);
      assert.ok(ascending(results.map((r) => r.id)), "ids grow in publish order");
      const stored = await client.streams.range<{ i: number }>(s, { count: 1000 });
      assert.deepEqual(stored.map((e) => e.payload.i), results.map((_, i) => i));
      assert.deepEqual(stored.map((e) => e.id), results.map((r) => r.id));

      // A lone publish goes out after lingerMs; flush sends at once.
      const lone = producer.publish({ i: 200 });
      await producer.flush();
      assert.match((await lone).id, /^\d+-\d+$/);
      assert.equal(entryPosts, 5);

      await producer.close();
      await rejectsWith(producer.publish({ i: 201 }), ConflictError);
    });

    it("producer: an entry the server rejects fails alone; the rest of its batch is stored", async () => {
      const s = unique("mixed");
      await client.streams.create(s, { partitions: 2 });
      const producer = client.producer(s, { lingerMs: 50, maxBatch: 10 });
      const outcomes = await Promise.allSettled([
        producer.publish({ n: 1 }),
        producer.publish({ n: 2 }, { partition: 9 }),
        producer.publish({ n: 3 }),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
      const failure = (outcomes[1] as PromiseRejectedResult).reason as RunnelError;
      assert.ok(failure instanceof BadRequestError);
      assert.equal(failure.field, "partition");
      assert.deepEqual((await client.streams.range<{ n: number }>(s)).map((e) => e.payload.n), [1, 3]);
      await producer.close();
    });

    it("consume: iterates with ack, recovers own pending entries first, autoAck, and ends on abort", async () => {
      const s = unique("feed");
      const ids = (await client.streams.appendBatch(s, [1, 2, 3, 4, 5, 6].map((n) => ({ payload: { n } })))).map((r) => r.id);
      await client.groups.create(s, "g", { startId: "0" });
      // An earlier run of c1 got the first two and died before acking them.
      await client.groups.read(s, "g", "c1", { count: 2 });

      const seen: Message<{ n: number }>[] = [];
      for await (const m of client.consume<{ n: number }>(s, "g", "c1", { count: 2 })) {
        seen.push(m);
        assert.equal(await m.ack(), true);
        assert.equal(m.settled, true);
        if (seen.length === 4) break;
      }
      assert.deepEqual(seen.map((m) => [m.id, m.payload.n]), ids.slice(0, 4).map((id, i) => [id, i + 1]));
      assert.deepEqual(seen.map((m) => m.deliveryCount), [2, 2, 1, 1]);
      assert.equal((await client.groups.pending(s, "g")).count, 0);

      // autoAck: acked when the loop asks for the next; the message the loop leaves on stays pending.
      const more = (await client.streams.appendBatch(s, [7, 8, 9].map((n) => ({ payload: { n } })))).map((r) => r.id);
      const auto: string[] = [];
      for await (const m of client.consume<{ n: number }>(s, "g", "c2", { autoAck: true, count: 10 })) {
        auto.push(m.id);
        if (auto.length === 3) break;
      }
      assert.deepEqual(auto, [ids[4], ids[5], more[0]]);
      const pending = await client.groups.pendingEntries(s, "g");
      assert.deepEqual(pending.map((p) => [p.id, p.consumer]), [[more[0], "c2"]]);
      // What was fetched but never handed out went back to the group.
      const rest = await client.groups.read(s, "g", "c3", { count: 10 });
      assert.deepEqual(rest.entries.map((e) => e.id), more.slice(1));

      // An abort ends a loop that is waiting for entries, without an error.
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 200);
      let count = 0;
      for await (const _m of client.consume(s, "g", "c4", { blockMs: 30_000, signal: controller.signal })) count++;
      assert.equal(count, 0);
      assert.ok(Date.now() - started < 10_000);
    });

    it("worker: with concurrency 4 processes every entry exactly once", async () => {
      const s = unique("work");
      const ids = (await client.streams.appendBatch(s, Array.from({ length: 40 }, (_, n) => ({ payload: { n } })))).map((r) => r.id);
      const handled: string[] = [];
      let running = 0;
      let most = 0;
      const worker = stopAfterTest(client.worker<{ n: number }>(
        s,
        "g",
        "w1",
        async (m) => {
          running++;
          most = Math.max(most, running);
          await sleep(5 + (m.payload.n % 3) * 5);
          handled.push(m.id);
          running--;
        },
        { concurrency: 4, startId: "0" },
      ));
      await until(() => worker.processed === 40, "40 processed");
      await worker.stop();
      assert.equal(most, 4);
      assert.deepEqual([...handled].sort(), [...ids].sort());
      assert.equal(new Set(handled).size, 40);
      const info = await client.groups.info(s, "g");
      assert.deepEqual([info.pending, info.lag], [0, 0]);
    });

    it("worker: acks of handlers that finish while an ack is on its way share the next request", async () => {
      const s = unique("acks");
      await client.streams.appendBatch(s, Array.from({ length: 64 }, (_, n) => ({ payload: { n } })));
      const ackBodies: string[][] = [];
      const counting: FetchFunction = async (url, init) => {
        if (String(url).endsWith("/ack")) ackBodies.push((JSON.parse(String(init?.body)) as { ids: string[] }).ids);
        return fetch(url, init);
      };
      const worker = stopAfterTest(sdk(server.url, counting).worker(s, "g", "w1", () => sleep(1), { concurrency: 16, startId: "0" }));
      await until(() => worker.processed === 64, "64 processed");
      await worker.stop();
      const acked = ackBodies.flat();
      assert.equal(acked.length, 64, "every message acked once");
      assert.equal(new Set(acked).size, 64);
      assert.ok(ackBodies.length < 64, `${ackBodies.length} ack requests for 64 messages`);
      assert.ok(
        ackBodies.some((ids) => ids.length > 1),
        "some request carried several acks",
      );
      const info = await client.groups.info(s, "g");
      assert.deepEqual([info.pending, info.lag], [0, 0]);
    });

    it("worker: prefetch reads ahead in few requests and hands entries out in order", async () => {
      const s = unique("prefetch");
      const ids = (await client.streams.appendBatch(s, Array.from({ length: 60 }, (_, n) => ({ payload: { n } })))).map((r) => r.id);
      const reads: number[] = [];
      const counting: FetchFunction = async (url, init) => {
        const res = await fetch(url, init);
        if (String(url).includes("/consumer/w1") && init?.method === "GET") {
          const text = await res.clone().text();
          reads.push((JSON.parse(text) as { entries: unknown[] }).entries.length);
        }
        return res;
      };
      const handled: string[] = [];
      const worker = stopAfterTest(sdk(server.url, counting).worker(s, "g", "w1", (m) => void handled.push(m.id), {
        concurrency: 1,
        prefetch: 20,
        startId: "0",
        recoverPending: false,
      }));
      await until(() => worker.processed === 60, "60 processed");
      await worker.stop();
      assert.deepEqual(handled, ids, "one handler at a time takes them oldest first, each once");
      assert.equal(reads[0], 21, "the first read fills the handler and the read-ahead");
      assert.ok(reads.filter((n) => n > 0).length <= 8, `read sizes ${reads.join(",")}`);
      assert.ok(reads.every((n) => n <= 21), `never more than concurrency + prefetch: ${reads.join(",")}`);
      const info = await client.groups.info(s, "g");
      assert.deepEqual([info.pending, info.lag], [0, 0]);
    });

    it("worker: stop() gives the entries it read ahead back, and another worker handles each of them once", async () => {
      const s = unique("giveback");
      const ids = (await client.streams.appendBatch(s, Array.from({ length: 10 }, (_, n) => ({ payload: { n } })))).map((r) => r.id);
      await client.groups.create(s, "g", { startId: "0" });
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const first: Message<unknown>[] = [];
      const w1 = stopAfterTest(client.worker(s, "g", "w1", async (m) => {
        first.push(m);
        await gate;
      }, { concurrency: 1, prefetch: 5, startId: "0", leaveOnStop: false }));
      let stopping: Promise<void> | undefined;
      try {
        // The server records the delivery before the worker has the answer: wait for both.
        await until(async () => w1.running === 1 && (await client.groups.pending(s, "g")).count === 6, "one running, five held");
        stopping = w1.stop();
      } finally {
        open(); // also when an assertion failed, so the handler ends and the worker can stop
      }
      await stopping;
      assert.deepEqual(first.map((m) => m.id), [ids[0]], "no held entry started after stop");
      assert.equal((await client.groups.pending(s, "g")).count, 0, "the held entries were given back");

      const second: Message<unknown>[] = [];
      const w2 = stopAfterTest(client.worker(s, "g", "w2", (m) => void second.push(m), { concurrency: 2 }));
      await until(() => w2.processed === 9, "the other nine handled");
      await w2.stop();
      assert.deepEqual(second.map((m) => m.id).sort(), ids.slice(1).sort());
      assert.deepEqual(
        second.map((m) => m.deliveryCount),
        second.map((m) => (ids.indexOf(m.id) <= 5 ? 2 : 1)),
        "the given-back entries count their first delivery",
      );
    });

    it("a long-lived signal passed to many requests keeps no listeners from them", async () => {
      const s = unique("signal");
      await client.groups.create(s, "g", { startId: "0", mkStream: true });
      const controller = new AbortController();
      for (let i = 0; i < 30; i++) await client.groups.read(s, "g", "c", { count: 1, block: 1, signal: controller.signal });
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    });

    it("worker: a handler that throws gets the message again (nack), and succeeds on redelivery", async () => {
      const s = unique("flaky");
      await client.streams.appendBatch(s, [0, 1, 2, 3, 4, 5].map((n) => ({ payload: { n } })));
      const done = new Map<number, number>();
      const errors: unknown[] = [];
      const worker = stopAfterTest(client.worker<{ n: number }>(
        s,
        "g",
        "w1",
        (m) => {
          if (m.payload.n % 2 === 0 && m.deliveryCount === 1) throw new Error(`boom ${m.payload.n}`);
          done.set(m.payload.n, m.deliveryCount);
        },
        { concurrency: 2, startId: "0", onError: (e) => errors.push(e) },
      ));
      await until(() => done.size === 6, "all six handled");
      await worker.stop();
      assert.deepEqual([...done.entries()].sort(([a], [b]) => a - b), [[0, 2], [1, 1], [2, 2], [3, 1], [4, 2], [5, 1]]);
      assert.deepEqual([worker.failed, worker.processed], [3, 6]);
      assert.deepEqual(errors.map((e) => (e as Error).message).sort(), ["boom 0", "boom 2", "boom 4"]);
      assert.equal((await client.groups.pending(s, "g")).count, 0);
    });

    it("worker: an entry a read hands out again before its nack is answered is handled again", async () => {
      const s = unique("renack");
      await client.streams.append(s, { n: 1 });
      const deliveries: number[] = [];
      const worker = stopAfterTest(sdk(server.url, slowNacks).worker(s, "g", "w1", (m) => {
        deliveries.push(m.deliveryCount);
        if (m.deliveryCount === 1) throw new Error("first try fails");
      }, { concurrency: 1, prefetch: 1, startId: "0", blockMs: 200 }));
      await until(() => worker.processed === 1, "handled on its second delivery");
      await worker.stop();
      assert.deepEqual(deliveries, [1, 2]);
      assert.equal((await client.groups.pending(s, "g")).count, 0);
    });

    it("worker: a handler that nacks and carries on gets the entry again, even while its nack is answered late", async () => {
      const s = unique("selfnack");
      await client.streams.append(s, { n: 1 });
      const deliveries: number[] = [];
      const worker = stopAfterTest(sdk(server.url, slowNacks).worker(s, "g", "w1", async (m) => {
        deliveries.push(m.deliveryCount);
        if (m.deliveryCount === 1) {
          await m.nack();
          await sleep(200); // still busy after giving it back
        }
      }, { concurrency: 1, prefetch: 1, startId: "0", blockMs: 200 }));
      await until(() => deliveries.length === 2 && worker.processed === 2, "handled again on its second delivery");
      await worker.stop();
      assert.deepEqual(deliveries, [1, 2]);
      assert.equal((await client.groups.pending(s, "g")).count, 0);
    });

    it("worker: stop() lets running handlers finish, acks them, and then fetches nothing more", async () => {
      const s = unique("graceful");
      await client.streams.appendBatch(s, [1, 2, 3].map((n) => ({ payload: { n } })));
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const finished: number[] = [];
      const worker = stopAfterTest(client.worker<{ n: number }>(
        s,
        "g",
        "w1",
        async (m) => {
          await gate;
          finished.push(m.payload.n);
        },
        { concurrency: 3, startId: "0" },
      ));
      await until(() => worker.running === 3, "three handlers running");
      let stopped = false;
      const stopping = worker.stop().then(() => (stopped = true));
      await sleep(100);
      assert.equal(stopped, false, "stop waits for the running handlers");
      open();
      await stopping;
      assert.deepEqual([...finished].sort(), [1, 2, 3]);
      assert.equal(worker.processed, 3);
      assert.equal((await client.groups.pending(s, "g")).count, 0);
      await client.streams.append(s, { n: 4 });
      await sleep(200);
      assert.equal(worker.processed, 3);
      assert.deepEqual((await client.groups.consumers(s, "g")).map((c) => c.name), [], "the worker left the group");
    });

    it("worker: auto-claims entries a crashed consumer left pending", async () => {
      const s = unique("rescue");
      const ids = (await client.streams.appendBatch(s, [1, 2, 3, 4].map((n) => ({ payload: { n } })))).map((r) => r.id);
      await client.groups.create(s, "g", { startId: "0" });
      const crashed = await client.groups.read(s, "g", "crashed", { count: 10 });
      assert.equal(crashed.entries.length, 4);

      const handled: Message<unknown>[] = [];
      const worker = stopAfterTest(client.worker(s, "g", "rescuer", (m) => void handled.push(m), {
        concurrency: 2,
        autoClaimIdleMs: 300,
        autoClaimIntervalMs: 100,
      }));
      await until(() => worker.processed === 4, "the crashed consumer's entries processed");
      await worker.stop();
      assert.deepEqual(handled.map((m) => m.id).sort(), [...ids].sort());
      assert.ok(handled.every((m) => m.deliveryCount === 2 && m.consumer === "rescuer"));
      const summary = await client.groups.pending(s, "g");
      assert.equal(summary.count, 0);
    });

    for (const transport of ["ws", "sse"] as const) {
      it(`subscribe over ${transport}: a broadcast subscription with filters and batches`, async () => {
        const s = unique("push");
        const got: PushMessage<{ n: number }>[] = [];
        const sub = stopAfterTest(client.subscribe<{ n: number }>(
          "default",
          s,
          { transport, filters: { messageType: "keep", headers: { region: "EU" } }, batchSize: 2, maxWaitTime: transport === "sse" ? 1000 : 50 },
          (m) => void got.push(m),
        ));
        await sub.ready;
        assert.equal(sub.state, "open");
        const kept: string[] = [];
        for (let n = 1; n <= 5; n++) {
          const keep = n !== 3;
          const r = await client.streams.append(s, { n }, { type: keep ? "keep" : "skip", headers: { region: "EU" } });
          if (keep) kept.push(r.id);
        }
        await until(() => got.length === 4, "four pushed entries");
        assert.deepEqual(got.map((m) => [m.id, m.messageId, m.payload.n, m.messageType, m.headers.region]), [
          [kept[0], kept[0], 1, "keep", "EU"],
          [kept[1], kept[1], 2, "keep", "EU"],
          [kept[2], kept[2], 4, "keep", "EU"],
          [kept[3], kept[3], 5, "keep", "EU"],
        ]);
        assert.equal(got[0]!.ack, undefined);
        assert.equal(sub.lastId, kept[3]);
        await sub.close();
        assert.equal(sub.state, "closed");
      });

      it(`subscribe over ${transport}: a group subscription shares entries among its members`, async () => {
        const s = unique("pushgroup");
        const got: PushMessage<{ n: number }>[] = [];
        const options = { transport, consumerGroup: "g", startId: "0", ackMode: transport === "ws" ? "manual" : "auto" } as const;
        const onMessage = async (m: PushMessage<{ n: number }>) => {
          got.push(m);
          if (transport === "ws") assert.equal(await m.ack!(), true);
        };
        const subs = [1, 2].map(() => stopAfterTest(client.subscribe("default", s, options, onMessage)));
        await Promise.all(subs.map((x) => x.ready));
        const ids = (await client.streams.appendBatch(s, Array.from({ length: 10 }, (_, n) => ({ payload: { n } })))).map((r) => r.id);
        await until(() => got.length === 10, "ten group deliveries");
        assert.deepEqual(got.map((m) => m.id).sort(), [...ids].sort());
        assert.ok(got.every((m) => m.deliveryCount === 1));
        await until(async () => (await client.groups.pending(s, "g")).count === 0, "every delivery acknowledged");
        await Promise.all(subs.map((x) => x.close()));
      });
    }

    it("subscribe: a refused subscription ends with the server's error", async () => {
      const errors: unknown[] = [];
      const ws = client.subscribe("default", unique("bad"), { transport: "ws", filters: { nope: "x" } as never, onError: (e) => errors.push(e) }, () => undefined);
      const wsError = await rejectsWith(ws.ready, BadRequestError);
      assert.equal(wsError.field, "filters/nope");
      assert.equal(ws.state, "closed");

      const sse = client.subscribe("default", unique("bad"), { transport: "sse", batchSize: 500 }, () => undefined);
      const sseError = await rejectsWith(sse.ready, BadRequestError);
      assert.equal(sseError.field, "batchSize");
      assert.equal(sse.state, "closed");
    });
  });

  describe(`client SDK reconnection (${backend.name})`, () => {
    after(() => backend.cleanup());

    for (const transport of ["ws", "sse"] as const) {
      it(`over ${transport}: resumes after a server restart, with no gap and no repeat`, async () => {
        await resumesAcrossRestart(backend, transport);
      });
    }
  });
}

/**
 * A broadcast subscriber loses its server; while it cannot connect, entries are appended through another node on
 * another port; the server comes back on the first port. The subscriber gets every entry once, in order.
 */
async function resumesAcrossRestart(backend: Backend, transport: PushTransport): Promise<void> {
  const store: StoreOptions = await backend.fresh();
  const first = await startTestServer(store);
  const port = first.port;
  const client = sdk(first.url);
  const s = unique("resume");
  const got: string[] = [];
  const states: SubscriptionState[] = [];
  const sub = client.subscribe(
    "default",
    s,
    { transport, reconnect: { initialDelayMs: 50, maxDelayMs: 200 }, onStateChange: (st) => states.push(st) },
    (m) => void got.push(m.id),
  );
  let restarted: RunningServer | undefined;
  try {
    await sub.ready;
    const before = (await client.streams.appendBatch(s, [1, 2, 3].map((n) => ({ payload: { n } })))).map((r) => r.id);
    await until(() => got.length === 3, "the first three entries");

    await first.close();
    await until(() => sub.state === "reconnecting", "the subscription to notice");
    const other = await startTestServer(store);
    const during = (await sdk(other.url).streams.appendBatch(s, [4, 5, 6].map((n) => ({ payload: { n } })))).map((r) => r.id);
    await other.close();
    assert.notEqual(sub.state, "open");

    restarted = await startTestServer(store, { port });
    await until(() => got.length === 6, "the entries appended while disconnected");
    const afterIds = (await client.streams.appendBatch(s, [7, 8].map((n) => ({ payload: { n } })))).map((r) => r.id);
    await until(() => got.length === 8, "entries appended after the reconnect");
    await sleep(100);
    assert.deepEqual(got, [...before, ...during, ...afterIds]);
    assert.ok(sub.reconnects >= 1);
    assert.deepEqual(states, ["open", "reconnecting", "open"]);
  } finally {
    await sub.close();
    await restarted?.close();
  }
}

describe("client SDK: channels, health and local checks", () => {
  const sqlite = backends().then((list) => list[0]!);
  let server: RunningServer;
  let client: RunnelClient;
  before(async () => {
    server = await startTestServer(await (await sqlite).fresh());
    client = sdk(`${server.url}/`);
  });
  after(async () => {
    await server.close();
    await (await sqlite).cleanup();
  });

  it("a URL that is not Runnel's (an HTML page, 200 or 404) gives one line naming the URL, not a JSON parse error", async () => {
    const page = "<!DOCTYPE html>\n<html>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n";
    const other = createServer((req, res) => {
      res.writeHead(req.url?.startsWith("/stream/missing") ? 404 : 200, { "content-type": "text/html" });
      res.end(page);
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const stranger = sdk(base);
      const ok = await rejectsWith(stranger.streams.info("orders"), RunnelError);
      assert.match(ok.message, /answered 200 with something other than Runnel's JSON: Welcome to nginx!$/);
      assert.ok(ok.message.includes(`${base}/stream/orders/info`), ok.message);
      const missing = await rejectsWith(stranger.streams.info("missing"), NotFoundError);
      assert.doesNotMatch(missing.message, /\n|<html/, "one line, without the markup");
      assert.match(missing.message, /answered 404: Welcome to nginx!$/);
    } finally {
      other.close();
    }
  });

  it("health answers the store and version", async () => {
    const health = await client.health();
    assert.deepEqual([health.status, health.store], ["ok", "sqlite"]);
    assert.equal(client.url, server.url, "a trailing slash is dropped");
  });

  it("channels: broadcast, list, generator controls", async () => {
    const one = await client.channels.broadcast({ stream_id: "notifications", type: "deploy", message: "Deploy finished", data: { v: 1 } });
    assert.deepEqual([one.success, one.message], [true, "Event broadcasted to stream: notifications"]);
    const all = await client.channels.broadcast({ type: "ping", message: "hello" });
    assert.equal(all.message, "Event broadcasted to all streams");
    const channels = await client.channels.list();
    assert.deepEqual(Object.keys(channels).sort(), ["default", "notifications", "system", "user-activity"]);
    assert.deepEqual(channels.notifications!.generator, { running: false, paused: false });
    await rejectsWith(client.channels.generator("notifications", "pause"), ConflictError);
    assert.equal((await client.channels.generator("notifications", "start")).success, true);
    assert.equal((await client.channels.list()).notifications!.generator.running, true);
    await client.channels.generator("notifications", "stop");
    const bad = await rejectsWith(client.channels.broadcast({ type: "", message: "x" }), BadRequestError);
    assert.equal(bad.field, "type");
  });

  it("channels: subscribe receives what is broadcast while it is subscribed", async () => {
    const channel = unique("room");
    const seen: string[] = [];
    const sub = client.channels.subscribe(channel, (e) => seen.push(`${e.type}:${e.message}`));
    try {
      await until(() => seen.length === 1, "the connection event");
      await client.channels.broadcast({ stream_id: channel, type: "chat", message: "hi" });
      await until(() => seen.length === 2, "the broadcast");
      assert.deepEqual(seen.slice(1), ["chat:hi"]);
      assert.match(seen[0]!, /^connection:/);
    } finally {
      sub.close();
    }
  });

  it("checks options before sending anything", () => {
    assert.throws(() => new RunnelClient({ url: "ftp://x" }), (e: unknown) => e instanceof BadRequestError && e.field === "url");
    // Node 20 has neither a global WebSocket nor EventSource: the client says what to pass.
    const bare = new RunnelClient({ url: server.url });
    if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== "function") {
      assert.throws(() => bare.subscribe("default", "s", { transport: "ws" }, () => undefined), (e: unknown) => e instanceof BadRequestError && e.field === "WebSocket");
    }
    if (typeof (globalThis as { EventSource?: unknown }).EventSource !== "function") {
      assert.throws(() => bare.subscribe("default", "s", { transport: "sse" }, () => undefined), (e: unknown) => e instanceof BadRequestError && e.field === "EventSource");
    }
    assert.throws(() => client.subscribe("default", "s", { batchSize: 0 }, () => undefined), (e: unknown) => e instanceof BadRequestError && e.field === "batchSize");
    assert.throws(() => client.producer("s", { maxBatch: 0 }), (e: unknown) => e instanceof BadRequestError && e.field === "maxBatch");
    assert.throws(() => client.worker("s", "g", "c", () => undefined, { concurrency: 0 }), (e: unknown) => e instanceof BadRequestError && e.field === "concurrency");
    assert.throws(() => client.worker("s", "g", "c", () => undefined, { prefetch: -1 }), (e: unknown) => e instanceof BadRequestError && e.field === "prefetch");
    assert.throws(() => client.consume("s", "g", "c", { count: 0 }), (e: unknown) => e instanceof BadRequestError && e.field === "count");
  });
});
