// The fluent window client against a real server on every backend: seed 002's JavaScript examples (changed in the
// import and the URL only), lease renewal, nack on a throw, seek, and Window's filter/groupBy/aggregate.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ManualClock } from "../src/core/clock.js";
import type { RunningServer } from "../src/api/server.js";
import { attachWindowClient, RunnelClient, Window, type WindowData } from "../src/client/index.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

/** A multiple of 300 s, so the seed's 5-minute windows start here. */
const T0 = 1_700_000_100_000;
const SEC = 1000;

/** The seed's examples construct a `Queen`; Runnel's client is the same thing under its own name. */
const Queen = RunnelClient;

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

for (const backend of await backends()) {
  describe(`window client (${backend.name})`, () => {
    let server: RunningServer;
    let clock: ManualClock;
    let api: ReturnType<typeof client>;

    before(async () => {
      clock = new ManualClock(T0);
      server = await startTestServer(await backend.fresh(), { clock });
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    async function send(namespace: string, queue: string, at: number, payload: unknown): Promise<void> {
      clock.set(T0 + at);
      const res = await api.post(`/api/v1/queues/${namespace}/${queue}/messages`, { payload });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }

    it("runs seed 002's examples: define, consume with filter and aggregate, advanced aggregations", async () => {
      // --- seed 002, "Basic Stream Definition" (the stream name is made unique per test run) ---
      const streamName = unique("user-activity");
      const queen = new Queen({ url: server.url });

      // Define a stream
      await queen.stream(streamName, 'production')
        .sources(['user-clicks', 'user-purchases'])
        .partitioned()  // Process by partition
        .tumblingTime(300)  // 5-minute windows
        .gracePeriod(30)    // 30-second grace period
        .define();

      await send("production", "user-clicks", 10 * SEC, { type: "click", amount: 5, userId: "u1" });
      await send("production", "user-purchases", 20 * SEC, { type: "purchase", amount: 100, quantity: 2, userId: "u1" });
      await send("production", "user-clicks", 30 * SEC, { type: "click", amount: 7, userId: "u2" });
      // Past 300 s + 30 s grace: the first window is ready.
      await send("production", "user-clicks", 340 * SEC, { type: "click", amount: 1, userId: "u3" });

      const analytics: { key: string; start: unknown; stats: any }[] = [];
      async function sendToAnalytics(key: string, start: unknown, stats: unknown) {
        analytics.push({ key, start, stats });
      }
      const logged: unknown[][] = [];
      const realLog = console.log;
      console.log = (...args: unknown[]) => void logged.push(args);
      try {
        // --- seed 002, "Stream Consumer" ---
        const consumer = queen.consumer(streamName, 'analytics-group');

        consumer.process(async (window) => {
          console.log(`Processing window: ${window.key}`);
          console.log(`Messages: ${window.allMessages.length}`);

          // Client-side filtering and aggregation
          const stats = window
            .filter(msg => msg.payload.type === 'click')
            .aggregate({
              count: true,
              sum: ['payload.amount']
            });

          console.log(`Clicks: ${stats.count}`);
          console.log(`Total: $${stats.sum['payload.amount']}`);

          // Do something with the window data
          await sendToAnalytics(window.key, window.start, stats);
        });
        // --- end of the example ---

        await until(() => analytics.length === 1, "the first window");
        assert.deepEqual(analytics[0], {
          key: "0",
          start: new Date(T0).toISOString(),
          stats: { count: 2, sum: { "payload.amount": 12 } },
        });
        assert.deepEqual(logged.slice(0, 4).map((l) => l[0]), ["Processing window: 0", "Messages: 3", "Clicks: 2", "Total: $12"]);
        await consumer.stop();

        // --- seed 002, "Advanced Aggregations" (after a seek, so the same window comes again) ---
        await consumer.seek(new Date(T0));
        logged.length = 0;
        let seen: any;
        consumer.process(async (window) => {
          // Group by user
          const byUser = window.groupBy('payload.userId');

          for (const [userId, messages] of Object.entries(byUser)) {
            console.log(`User ${userId}: ${messages.length} events`);
          }

          // Multiple aggregations
          const stats = window.aggregate({
            count: true,
            sum: ['payload.amount', 'payload.quantity'],
            avg: ['payload.amount'],
            min: ['payload.amount'],
            max: ['payload.amount']
          });
          seen = stats;
        });
        await until(() => seen !== undefined, "the replayed window");
        await consumer.stop();
        assert.deepEqual(logged.map((l) => l[0]).sort(), ["User u1: 2 events", "User u2: 1 events"]);
        assert.deepEqual(seen, {
          count: 3,
          sum: { "payload.amount": 112, "payload.quantity": 2 },
          avg: { "payload.amount": 112 / 3 },
          min: { "payload.amount": 5 },
          max: { "payload.amount": 100 },
        });
        const info = await new RunnelClient({ url: server.url }).windowStreamInfo(streamName);
        assert.deepEqual([info.stream.name, info.ingested, info.late, Object.keys(info.watermarks)], [streamName, 4, 0, ["0"]]);
      } finally {
        console.log = realLog;
      }
    });

    it("renews the lease while the callback runs, and nacks when it throws", async () => {
      const src = unique("src");
      const name = unique("win");
      // Each renew request first moves the server's clock 2.5 s on: without renewals the 3 s lease would lapse.
      let renewals = 0;
      const probe: typeof fetch = async (input, init) => {
        if (String(input).endsWith("/renew-lease")) {
          clock.advance(2500);
          renewals++;
        }
        return fetch(input, init);
      };
      const windows = attachWindowClient({ url: server.url, fetch: probe });
      const defined = await windows.stream(name).sources([src]).tumblingTime(60).leaseTimeout(3).define();
      assert.equal(defined.created, true);
      await send("default", src, 5 * SEC, { n: 1 });
      await send("default", src, 70 * SEC, { n: 2 });

      const attempts: number[] = [];
      let otherSawIt: unknown = "not checked";
      const errors: unknown[] = [];
      const consumer = windows.consumer(name, "g");
      const done = consumer.process(
        async (w) => {
          attempts.push(w.attempt);
          if (w.attempt === 1) throw new Error("first try fails");
          const before = renewals;
          await until(() => renewals >= before + 2, "two renewals");
          otherSawIt = await windows.consumer(name, "g").poll(0);
        },
        { renewEveryMs: 100, pollTimeoutMs: 200, onError: (e) => errors.push(e) },
      );
      await until(() => attempts.length === 2 && otherSawIt !== "not checked", "the redelivery");
      await consumer.stop();
      await done;
      assert.deepEqual(attempts, [1, 2]);
      assert.equal(otherSawIt, null, "the renewed lease kept the window from the other member");
      assert.equal((errors[0] as Error).message, "first try fails");
      assert.equal(errors.length, 1, JSON.stringify(errors.map(String)));
      assert.equal(await consumer.poll(0), null, "acked: the group moved past it");
    });

    it("reports a redefinition that differs as a ConflictError", async () => {
      const windows = attachWindowClient({ url: server.url });
      const name = unique("win");
      await windows.stream(name).sources(["a"]).hoppingTime(60, 30).define();
      const again = await windows.stream(name).sources(["a"]).hoppingTime(60, 30).define();
      assert.equal(again.created, false);
      await assert.rejects(windows.stream(name).sources(["a"]).sessionGap(10).define(), (e: Error) => e.name === "ConflictError");
    });
  });
}

describe("Window", () => {
  const message = (i: number, payload: Record<string, unknown>) => ({
    id: `${i}-0`,
    queue: "q",
    partition: 0,
    offset: i,
    key: null,
    type: null,
    headers: {},
    payload,
    priority: "NORMAL",
    correlationId: null,
    causationId: null,
    messageId: null,
    timestamp: i,
    createdAt: new Date(i).toISOString(),
    eventTime: i,
  });
  const data: WindowData = {
    id: "w",
    leaseId: "l",
    streamName: "s",
    consumerGroup: "g",
    key: "__GLOBAL__",
    start: new Date(0).toISOString(),
    end: new Date(60_000).toISOString(),
    leaseExpiresAt: new Date(60_000).toISOString(),
    leaseTimeoutMs: 60_000,
    attempt: 1,
    messages: [
      message(1, { type: "click", amount: 10, user: "a" }),
      message(2, { type: "click", amount: "2.5", user: "b" }),
      message(3, { type: "view", user: "a" }),
      message(4, { type: "click", amount: -4, user: "a" }),
    ],
  };

  it("aggregates count, sum, avg, min and max over the working view", () => {
    const w = new Window(data);
    assert.deepEqual(w.aggregate({ count: true, sum: ["payload.amount"], avg: ["payload.amount"], min: ["payload.amount"], max: ["payload.amount"] }), {
      count: 4,
      sum: { "payload.amount": 8.5 },
      avg: { "payload.amount": 8.5 / 3 },
      min: { "payload.amount": -4 },
      max: { "payload.amount": 10 },
    });
    assert.deepEqual(w.aggregate({ avg: ["payload.missing"], min: ["payload.missing"] }), {
      avg: { "payload.missing": null },
      min: { "payload.missing": null },
    });
  });

  it("filters and groups without touching the originals", () => {
    const w = new Window(data);
    const byUser = w.filter((m) => m.payload.type === "click").groupBy("payload.user");
    assert.deepEqual(Object.keys(byUser).sort(), ["a", "b"]);
    assert.equal(byUser.a!.length, 2);
    assert.equal(w.messages.length, 3);
    assert.equal(w.allMessages.length, 4, "allMessages stays whole");
    assert.equal(w.reset().messages.length, 4);
    assert.throws(() => (w.allMessages as unknown[]).push(1));
    assert.throws(() => {
      (w.allMessages[0]!.payload as Record<string, unknown>).amount = 99;
    });
    assert.equal(data.messages[0]!.payload.amount, 10, "the input was copied, not frozen in place");
    assert.equal(w.groupBy("payload.nothing").undefined!.length, 4);
  });
});
