// Seed 000's queue routes (/api/v1/queues/:setupId/:queueName) against every backend: send, batch, describe, namespaces.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import type { RunningServer } from "../src/api/server.js";

type Api = ReturnType<typeof client>;

const queuePath = (setupId: string, queue: string) => `/api/v1/queues/${setupId}/${queue}`;

async function rangeOf(api: Api, stream: string): Promise<any[]> {
  const res = await api.get(`/stream/${stream}/range`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.entries;
}

async function messageCount(api: Api, setupId: string, queue: string): Promise<number> {
  const res = await api.get(queuePath(setupId, queue));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.messageCount;
}

for (const backend of await backends()) {
  describe(`seed 000 queue routes (${backend.name})`, () => {
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

    describe("POST /api/v1/queues/:setupId/:queueName/messages", () => {
      it("sends one message and answers 201 with its id", async () => {
        const setupId = unique("setup");
        const queue = unique("orders");
        const res = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: { orderId: 1 } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.message, "Message sent successfully");
        assert.equal(res.body.queueName, queue);
        assert.equal(res.body.setupId, setupId);
        assert.match(res.body.messageId, /^\d+-\d+$/);
        assert.equal(res.body.partition, 0);
        assert.equal(res.body.offset, 0);
        assert.equal(res.body.duplicate, false);
        assert.equal(typeof res.body.timestamp, "number");

        const second = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: { orderId: 2 } });
        assert.equal(second.status, 201);
        assert.equal(second.body.offset, 1);
        assert.notEqual(second.body.messageId, res.body.messageId);

        const info = await api.get(queuePath(setupId, queue));
        assert.equal(info.body.messageCount, 2);
        assert.equal(info.body.firstMessageId, res.body.messageId);
        assert.equal(info.body.lastMessageId, second.body.messageId);
      });

      it("stores messageType, headers, priority, delaySeconds, correlationId and messageGroup on the entry", async () => {
        // The default setup is the namespace /stream/... uses, so the entry can be read back there.
        const queue = unique("fields");
        const earliest = Date.now();
        const res = await api.post(`${queuePath("default", queue)}/messages`, {
          payload: { text: "héllo 🌍", list: [1, null, { deep: true }] },
          messageType: "order.created",
          headers: { "x-source": "web", tenant: "t1" },
          priority: "CRITICAL",
          delaySeconds: 90,
          correlationId: "corr-9",
          messageGroup: "customer-42",
        });
        const latest = Date.now();
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const [entry] = await rangeOf(api, queue);
        assert.equal(entry.id, res.body.messageId);
        assert.deepEqual(entry.payload, { text: "héllo 🌍", list: [1, null, { deep: true }] });
        assert.equal(entry.type, "order.created");
        assert.deepEqual(entry.headers, { "x-source": "web", tenant: "t1" });
        assert.equal(entry.priority, "CRITICAL");
        assert.equal(entry.correlationId, "corr-9");
        assert.equal(entry.key, "customer-42");
        assert.ok(entry.deliverAt >= earliest + 90_000 && entry.deliverAt <= latest + 90_000, String(entry.deliverAt));
      });

      it("accepts the four priority names and numbers 0-10, and refuses anything else", async () => {
        const queue = unique("priorities");
        const given: (string | number)[] = ["CRITICAL", "HIGH", "NORMAL", "LOW", 10, 9, 8, 7, 6, 4, 3, 0];
        const expected = ["CRITICAL", "HIGH", "NORMAL", "LOW", "CRITICAL", "CRITICAL", "HIGH", "HIGH", "NORMAL", "NORMAL", "LOW", "LOW"];
        for (const priority of given) {
          const res = await api.post(`${queuePath("default", queue)}/messages`, { payload: priority, priority });
          assert.equal(res.status, 201, `${priority}: ${JSON.stringify(res.body)}`);
        }
        const entries = await rangeOf(api, queue);
        assert.deepEqual(
          entries.map((e) => [e.payload, e.priority]),
          given.map((p, i) => [p, expected[i]]),
        );
        for (const priority of [11, -1, "URGENT", 5.5]) {
          const res = await api.post(`${queuePath("default", queue)}/messages`, { payload: 1, priority });
          assert.equal(res.status, 400, `${priority}`);
          assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
          assert.equal(res.body.error.field, "priority");
        }
        assert.equal(await messageCount(api, "default", queue), given.length);
      });

      it("refuses a message without payload, with unknown fields or conflicting type names", async () => {
        const setupId = unique("setup");
        const queue = unique("invalid");
        const noPayload = await api.post(`${queuePath(setupId, queue)}/messages`, { messageType: "x" });
        assert.equal(noPayload.status, 400);
        assert.equal(noPayload.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(noPayload.body.error.field, "payload");

        const unknown = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 1, colour: "red" });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error.field, "colour");

        const conflicting = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 1, type: "a", messageType: "b" });
        assert.equal(conflicting.status, 400);
        assert.equal(conflicting.body.error.field, "type");

        const twoDelays = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 1, delaySeconds: 1, delayMs: 5 });
        assert.equal(twoDelays.status, 400);
        assert.equal(twoDelays.body.error.field, "deliverAt");

        const badSetup = await api.post(`${queuePath("-bad", queue)}/messages`, { payload: 1 });
        assert.equal(badSetup.status, 400);
        assert.equal(badSetup.body.error.code, "RUNNEL_BAD_REQUEST");

        assert.equal((await api.get(queuePath(setupId, queue))).status, 404);
      });

      it("answers a repeated messageId with the original id", async () => {
        const setupId = unique("setup");
        const queue = unique("idempotent");
        const first = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 1, messageId: "order-1" });
        assert.equal(first.status, 201, JSON.stringify(first.body));
        const again = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 2, messageId: "order-1" });
        assert.equal(again.status, 201, JSON.stringify(again.body));
        assert.equal(again.body.messageId, first.body.messageId);
        assert.equal(again.body.duplicate, true);
        assert.equal(await messageCount(api, setupId, queue), 1);
      });
    });

    describe("batches", () => {
      it("sends {messages: [...]} to /messages and answers the batch summary", async () => {
        const queue = unique("batch-inline");
        const res = await api.post(`${queuePath("default", queue)}/messages`, {
          messages: [
            { payload: { n: 1 }, messageType: "a" },
            { payload: { n: 2 }, priority: "HIGH" },
            { payload: { n: 3 }, messageGroup: "g" },
          ],
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.message, "Batch messages sent successfully");
        assert.equal(res.body.queueName, queue);
        assert.equal(res.body.setupId, "default");
        assert.equal(res.body.totalMessages, 3);
        assert.equal(res.body.successfulMessages, 3);
        assert.equal(res.body.failedMessages, 0);
        assert.equal(res.body.messageIds.length, 3);
        const entries = await rangeOf(api, queue);
        assert.deepEqual(
          entries.map((e) => [e.id, e.payload.n, e.type, e.priority, e.key]),
          [
            [res.body.messageIds[0], 1, "a", "NORMAL", null],
            [res.body.messageIds[1], 2, null, "HIGH", null],
            [res.body.messageIds[2], 3, null, "NORMAL", "g"],
          ],
        );
      });

      it("sends to /messages/batch and answers the same summary", async () => {
        const setupId = unique("setup");
        const queue = unique("batch-route");
        const res = await api.post(`${queuePath(setupId, queue)}/messages/batch`, {
          messages: Array.from({ length: 5 }, (_, n) => ({ payload: n })),
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.message, "Batch messages sent successfully");
        assert.equal(res.body.setupId, setupId);
        assert.equal(res.body.queueName, queue);
        assert.equal(res.body.totalMessages, 5);
        assert.equal(res.body.successfulMessages, 5);
        assert.equal(res.body.failedMessages, 0);
        assert.equal(new Set(res.body.messageIds).size, 5);
        const info = (await api.get(queuePath(setupId, queue))).body;
        assert.equal(info.messageCount, 5);
        assert.equal(info.firstMessageId, res.body.messageIds[0]);
        assert.equal(info.lastMessageId, res.body.messageIds[4]);
      });

      it("stores nothing of a batch with an invalid message, naming messages/1/...", async () => {
        const setupId = unique("setup");
        const queue = unique("batch-invalid");
        const seeded = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: "seed", id: "10-0" });
        assert.equal(seeded.status, 201);

        const badPriority = await api.post(`${queuePath(setupId, queue)}/messages/batch`, {
          messages: [{ payload: 1 }, { payload: 2, priority: "URGENT" }],
        });
        assert.equal(badPriority.status, 400);
        assert.equal(badPriority.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(badPriority.body.error.field, "messages/1/priority");

        const tooSmall = await api.post(`${queuePath(setupId, queue)}/messages`, {
          messages: [{ payload: 1, id: "20-0" }, { payload: 2, id: "5-0" }],
        });
        assert.equal(tooSmall.status, 409);
        assert.equal(tooSmall.body.error.code, "RUNNEL_ID_TOO_SMALL");
        assert.equal(tooSmall.body.error.field, "messages/1/id");

        const empty = await api.post(`${queuePath(setupId, queue)}/messages/batch`, { messages: [] });
        assert.equal(empty.status, 400);

        const info = (await api.get(queuePath(setupId, queue))).body;
        assert.equal(info.messageCount, 1);
        assert.equal(info.entriesAdded, 1);
        assert.equal(info.lastMessageId, "10-0");
      });

      it("counts a repeated messageId within a batch once", async () => {
        const setupId = unique("setup");
        const queue = unique("batch-dedupe");
        const res = await api.post(`${queuePath(setupId, queue)}/messages/batch`, {
          messages: [
            { payload: "a", messageId: "m1" },
            { payload: "b", messageId: "m1" },
          ],
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.totalMessages, 2);
        assert.equal(res.body.messageIds[0], res.body.messageIds[1]);
        assert.equal(res.body.duplicates, 1);
        assert.equal(await messageCount(api, setupId, queue), 1);
      });
    });

    describe("GET /api/v1/queues/:setupId/:queueName", () => {
      it("describes a queue: counts, partitions, config and consumer groups", async () => {
        const queue = unique("describe");
        assert.equal((await api.post(`/stream/${queue}`, { partitions: 2, maxDeliveries: 3 })).status, 201);
        const sent = await api.post(`${queuePath("default", queue)}/messages/batch`, {
          messages: [{ payload: 1 }, { payload: 2 }, { payload: 3 }],
        });
        assert.equal(sent.status, 201);
        assert.equal((await api.post(`/stream/${queue}/group/workers`, { startId: "0" })).status, 201);

        const res = await api.get(queuePath("default", queue));
        assert.equal(res.status, 200);
        const info = res.body;
        assert.equal(info.message, "Queue information retrieved successfully");
        assert.equal(info.setupId, "default");
        assert.equal(info.queueName, queue);
        assert.equal(info.messageCount, 3);
        assert.equal(info.entriesAdded, 3);
        assert.equal(info.partitions, 2);
        assert.equal(info.firstMessageId, sent.body.messageIds[0]);
        assert.equal(info.lastMessageId, sent.body.messageIds[2]);
        assert.equal(info.config.partitions, 2);
        assert.equal(info.config.maxDeliveries, 3);
        assert.equal(typeof info.createdAt, "number");
        assert.deepEqual(info.consumerGroups, [
          { groupName: "workers", consumers: 0, pending: 0, lag: 3, lastDeliveredId: "0-0" },
        ]);

        const read = await api.get(`/stream/${queue}/group/workers/consumer/c1?count=2`);
        assert.equal(read.body.entries.length, 2);
        const after = (await api.get(queuePath("default", queue))).body;
        assert.equal(after.consumerGroups[0].consumers, 1);
        assert.equal(after.consumerGroups[0].pending, 2);
      });

      it("reports the first and last message ids of a queue under its setup", async () => {
        const setupId = unique("setup");
        const queue = unique("empty");
        await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 1, id: "3-0" });
        const q = await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 2, id: "4-0" });
        assert.equal(q.status, 201);
        const info = (await api.get(queuePath(setupId, queue))).body;
        assert.equal(info.messageCount, 2);
        assert.equal(info.firstMessageId, "3-0");
        assert.equal(info.lastMessageId, "4-0");
      });

      it("answers 404 with a JSON error for an unknown queue", async () => {
        const res = await api.get(queuePath(unique("setup"), unique("nothing")));
        assert.equal(res.status, 404);
        assert.equal(res.body.error.code, "RUNNEL_NOT_FOUND");
        assert.equal(typeof res.body.error.message, "string");
        assert.ok(res.body.error.message.length > 0);
      });
    });

    describe("namespaces", () => {
      it("keeps a queue of one name apart under different setups", async () => {
        const a = unique("a");
        const b = unique("b");
        const orders = unique("orders");
        for (const n of [1, 2]) {
          assert.equal((await api.post(`${queuePath(a, orders)}/messages`, { payload: { setup: "a", n } })).status, 201);
        }
        const inB = await api.post(`${queuePath(b, orders)}/messages`, { payload: { setup: "b" }, id: "1-0" });
        assert.equal(inB.status, 201);
        // Each setup has its own id sequence: 1-0 is free in b even though a's ids are far larger.
        assert.equal(inB.body.messageId, "1-0");
        assert.equal(inB.body.offset, 0);

        assert.equal(await messageCount(api, a, orders), 2);
        assert.equal(await messageCount(api, b, orders), 1);
        assert.equal((await api.get(queuePath(b, orders))).body.lastMessageId, "1-0");

        // Neither is the stream of that name in the default namespace.
        assert.equal((await api.get(`/stream/${orders}/len`)).body.length, 0);
        assert.equal((await api.get(`/stream/${orders}/info`)).status, 404);
        assert.equal((await api.get(queuePath("default", orders))).status, 404);
        const listed = (await api.get("/streams")).body.streams.map((s: any) => s.name);
        assert.ok(!listed.includes(orders));
      });

      it("treats /stream/:name as the queue of that name under setup 'default'", async () => {
        const orders = unique("orders");
        const viaStream = await api.post(`/stream/${orders}/add`, JSON.stringify({ from: "stream" }));
        assert.equal(viaStream.status, 201);
        const viaQueue = await api.post(`${queuePath("default", orders)}/messages`, { payload: { from: "queue" } });
        assert.equal(viaQueue.status, 201);
        assert.equal(viaQueue.body.offset, 1);

        const info = (await api.get(queuePath("default", orders))).body;
        assert.equal(info.messageCount, 2);
        assert.equal(info.firstMessageId, viaStream.body.id);
        assert.equal(info.lastMessageId, viaQueue.body.messageId);

        const streamInfo = (await api.get(`/stream/${orders}/info`)).body;
        assert.equal(streamInfo.namespace, "default");
        assert.equal(streamInfo.length, 2);
        assert.deepEqual(
          (await rangeOf(api, orders)).map((e) => e.payload),
          [{ from: "stream" }, { from: "queue" }],
        );

        const other = unique("other");
        assert.equal((await api.get(queuePath(other, orders))).status, 404);
      });
    });

    describe("POST, PATCH and DELETE /api/v1/queues/:setupId/:queueName", () => {
      it("creates a queue with partitions in any setup, whose group members then share them", async () => {
        const setupId = unique("my-setup");
        const queue = unique("orders");
        const created = await api.post(queuePath(setupId, queue), { partitions: 4, maxLen: 1000 });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        assert.equal(created.body.message, "Queue created successfully");
        assert.equal(created.body.partitions, 4);
        assert.equal(created.body.config.maxLen, 1000);

        const groups = `${queuePath(setupId, queue)}/consumer-groups`;
        const group = await api.post(groups, { groupName: "order-processors", maxMembers: 10, loadBalancingStrategy: "ROUND_ROBIN" });
        assert.equal(group.status, 201, JSON.stringify(group.body));
        const a = await api.post(`${groups}/order-processors/members`, { memberName: "a" });
        const b = await api.post(`${groups}/order-processors/members`, { memberName: "b" });
        assert.equal(b.status, 201, JSON.stringify(b.body));
        const described = await api.get(`${groups}/order-processors`);
        const assigned = (described.body.members as any[]).map((m) => m.assignedPartitions as number[]);
        assert.deepEqual(assigned.map((p) => p.length), [2, 2], JSON.stringify(described.body.members));
        assert.deepEqual(assigned.flat().sort(), [0, 1, 2, 3]);
        assert.ok(a.body.memberId);

        const grown = await api.patch(queuePath(setupId, queue), { partitions: 6 });
        assert.equal(grown.status, 200, JSON.stringify(grown.body));
        assert.equal(grown.body.partitions, 6);
        assert.equal((await api.get(queuePath(setupId, queue))).body.partitions, 6);
        assert.equal((await api.get(queuePath("default", queue))).status, 404, "the queue lives in its setup only");
      });

      it("refuses a second create, shrinking, and bad options, changing nothing", async () => {
        const setupId = unique("setup");
        const queue = unique("q");
        assert.equal((await api.post(queuePath(setupId, queue), { partitions: 3 })).status, 201);
        const again = await api.post(queuePath(setupId, queue), { partitions: 5 });
        assert.equal(again.status, 409, JSON.stringify(again.body));
        const shrink = await api.patch(queuePath(setupId, queue), { partitions: 2 });
        assert.equal(shrink.status, 409, JSON.stringify(shrink.body));
        assert.equal(shrink.body.error.field, "partitions");
        const bad = await api.post(queuePath(setupId, unique("q")), { partitions: 0 });
        assert.equal(bad.status, 400, JSON.stringify(bad.body));
        assert.equal(bad.body.error.field, "partitions");
        assert.equal((await api.get(queuePath(setupId, queue))).body.partitions, 3);
      });

      it("deletes a queue with its messages", async () => {
        const setupId = unique("setup");
        const queue = unique("q");
        assert.equal((await api.post(`${queuePath(setupId, queue)}/messages`, { payload: 1 })).status, 201);
        const deleted = await api.del(queuePath(setupId, queue));
        assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
        assert.equal(deleted.body.deleted, true);
        assert.equal((await api.get(queuePath(setupId, queue))).status, 404);
        assert.equal((await api.del(queuePath(setupId, queue))).status, 404);
      });
    });
  });
}
