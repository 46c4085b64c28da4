// The SDK's push subscriptions, status mapping and window consumer against real servers on every backend: close()
// during a backlog, the manual-ack default over WebSocket, a proxy's 429 ridden out, and no abort listeners piling
// up on a window consumer's stop signal.
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { after, afterEach, before, describe, it } from "node:test";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import type { RunningServer } from "../src/api/server.js";
import {
  BadRequestError,
  RunnelClient,
  UnavailableError,
  type FetchFunction,
  type PushMessage,
  type Subscription,
} from "../src/client/index.js";
import { backends } from "./helpers/backends.js";
import { unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

function sdk(url: string, fetch?: FetchFunction): RunnelClient {
  return new RunnelClient({ url, WebSocket, EventSource, ...(fetch ? { fetch } : {}) });
}

/** A fetch that answers `status` in plain text, as a proxy or rate limiter would, to the first `times` matching requests. */
function refusing(status: number, times: number, when = (_url: string) => true): FetchFunction & { refused: number } {
  const f = Object.assign(
    async (url: string, init: RequestInit) => {
      if (f.refused < times && when(url)) {
        f.refused++;
        return new Response("slow down", { status, headers: { "content-type": "text/plain", "retry-after": "1" } });
      }
      return fetch(url, init);
    },
    { refused: 0 },
  );
  return f;
}

/** Appends `n` entries to `stream` and answers their ids. */
async function appendMany(client: RunnelClient, stream: string, n: number): Promise<string[]> {
  const appended = await client.streams.appendBatch(stream, Array.from({ length: n }, (_, i) => ({ payload: { i } })));
  return appended.map((r) => r.id);
}

/** A promise and the function that resolves it. */
function gate(): { passed: Promise<void>; open: () => void } {
  let open!: () => void;
  const passed = new Promise<void>((resolve) => (open = resolve));
  return { passed, open };
}

const FAST_RECONNECT = { initialDelayMs: 10, maxDelayMs: 50 };

for (const backend of await backends()) {
  describe(`client subscriptions (${backend.name})`, () => {
    let server: RunningServer;
    let client: RunnelClient;
    const open: Subscription[] = [];
    before(async () => {
      server = await startTestServer(await backend.fresh());
      client = sdk(server.url);
    });
    afterEach(async () => {
      await Promise.allSettled(open.splice(0).map((s) => s.close()));
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    for (const transport of ["ws", "sse"] as const) {
      it(`${transport}: close() during a backlog finishes the message in hand and hands out no other`, async () => {
        const s = unique("backlog");
        const ids = await appendMany(client, s, 30);
        const g = gate();
        let calls = 0;
        const sub = client.subscribe("default", s, { transport, startId: "0" }, async () => {
          calls++;
          await g.passed;
        });
        open.push(sub);
        let closing: Promise<void>;
        try {
          await until(() => calls === 1 && sub.lastId === ids.at(-1), "all 30 received, the first in hand");
          closing = sub.close();
        } finally {
          g.open(); // also when the wait failed, so that closing the subscription after the test does not hang
        }
        await closing;
        assert.equal(calls, 1, "no handler call after close()");
      });
    }

    it("ws: close() lets the message in hand be acked, and leaves the queued ones to the group", async () => {
      const s = unique("backlog-group");
      const ids = await appendMany(client, s, 10);
      const g = gate();
      const acks: boolean[] = [];
      const first: string[] = [];
      const sub = client.subscribe("default", s, { consumerGroup: "g", startId: "0" }, async (m) => {
        first.push(m.id);
        await g.passed;
        acks.push(await m.ack!());
      });
      open.push(sub);
      let closing: Promise<void>;
      try {
        const delivered = async () => (await client.groups.pending(s, "g")).count === 10;
        await until(async () => first.length === 1 && (await delivered()), "all 10 delivered, one in hand");
        closing = sub.close();
      } finally {
        g.open(); // as above
      }
      await closing;
      assert.deepEqual([first, acks], [[ids[0]], [true]]);

      const second: string[] = [];
      open.push(client.subscribe("default", s, { consumerGroup: "g" }, async (m) => {
        second.push(m.id);
        await m.ack!();
      }));
      await until(() => second.length === 9, "the other nine delivered again");
      assert.deepEqual(second.sort(), ids.slice(1).sort(), "each handled once");
    });

    it("ws: a group subscription without ackMode keeps entries pending until message.ack()", async () => {
      const s = unique("manual");
      const got: PushMessage<unknown>[] = [];
      const sub = client.subscribe("default", s, { transport: "ws", consumerGroup: "g", startId: "0" }, (m) => void got.push(m));
      open.push(sub);
      await sub.ready;
      await client.streams.appendBatch(s, [{ payload: 1 }, { payload: 2 }]);
      await until(() => got.length === 2, "both delivered");
      assert.equal((await client.groups.pending(s, "g")).count, 2, "pending until acked");
      assert.deepEqual(await Promise.all(got.map((m) => m.ack!())), [true, true]);
      assert.equal((await client.groups.pending(s, "g")).count, 0);
    });

    for (const transport of ["ws", "sse"] as const) {
      it(`${transport}: a handler that throws gives its entry back at once, and it comes again with deliveryCount 2`, async () => {
        const s = unique("throws");
        const [id] = await appendMany(client, s, 1);
        const seen: [string, number | undefined][] = [];
        const sub = client.subscribe("default", s, { transport, consumerGroup: "g", startId: "0", ackMode: "manual", reconnect: false }, async (m) => {
          seen.push([m.id, m.deliveryCount]);
          if (seen.length === 1) throw new Error("the first attempt fails");
          await m.ack!();
        });
        open.push(sub);
        await until(async () => seen.length === 2 && (await client.groups.pending(s, "g")).count === 0, "handled again and acked");
        assert.deepEqual(seen, [[id, 1], [id, 2]]);
        assert.equal(sub.reconnects, 0, "on the same connection, not after a reconnect");
      });

      it(`${transport}: message.nack(delayMs) gives the entry back for later`, async () => {
        const s = unique("nack");
        const [id] = await appendMany(client, s, 1);
        const seen: number[] = [];
        let nacked: boolean | undefined;
        const sub = client.subscribe("default", s, { transport, consumerGroup: "g", startId: "0", ackMode: "manual" }, async (m) => {
          seen.push(Date.now());
          if (seen.length === 1) nacked = await m.nack!(300);
          else await m.ack!();
        });
        open.push(sub);
        await until(async () => seen.length === 2 && (await client.groups.pending(s, "g")).count === 0, "delivered again after the delay");
        assert.equal(nacked, true);
        assert.ok(seen[1]! - seen[0]! >= 250, `came again after ${seen[1]! - seen[0]!} ms`);
        assert.equal((await client.groups.info(s, "g")).pending, 0, String(id));
      });
    }

    it("a plain-text 408 or 429 (a proxy's) is an UnavailableError, not a permanent BadRequestError", async () => {
      for (const status of [408, 429]) {
        const refused = sdk(server.url, refusing(status, Infinity));
        await assert.rejects(refused.streams.len(unique("s")), (e: unknown) => {
          assert.ok(e instanceof UnavailableError && !(e instanceof BadRequestError), `${status}: got ${String(e)}`);
          return true;
        });
      }
    });

    it("an SSE subscription rides out 429 answers and subscribes once they stop", async () => {
      const s = unique("throttled");
      await client.streams.append(s, { n: 1 });
      const fetch = refusing(429, 2, (url) => url.includes("/stream?"));
      const errors: unknown[] = [];
      const got: unknown[] = [];
      const sub = sdk(server.url, fetch).subscribe(
        "default",
        s,
        { transport: "sse", startId: "0", reconnect: FAST_RECONNECT, onError: (e) => errors.push(e) },
        (m) => void got.push(m.payload),
      );
      open.push(sub);
      await sub.ready;
      await until(() => got.length === 1, "the entry");
      assert.equal(fetch.refused, 2);
      assert.ok(errors.length >= 2 && errors.every((e) => e instanceof UnavailableError), errors.map(String).join("; "));
    });

    it("consume rides out 429 answers", async () => {
      const s = unique("throttled");
      const { id } = await client.streams.append(s, { n: 1 });
      const fetch = refusing(429, 2);
      const errors: unknown[] = [];
      let first: string | undefined;
      for await (const m of sdk(server.url, fetch).consume(s, "g", "c", { startId: "0", onError: (e) => errors.push(e) })) {
        first = m.id;
        await m.ack();
        break;
      }
      assert.equal(first, id);
      assert.equal(fetch.refused, 2);
      assert.ok(errors.every((e) => e instanceof UnavailableError), errors.map(String).join("; "));
    });

    it("a window consumer's polls leave no listeners piling up on its stop signal", async () => {
      const name = unique("win");
      let polls = 0;
      let most = 0;
      const counting: FetchFunction = (url, init) => {
        if (url.endsWith("/api/v1/stream/poll")) {
          polls++;
          // Listeners earlier polls left on the signal this poll is given.
          if (init.signal) most = Math.max(most, getEventListeners(init.signal, "abort").length);
        }
        return fetch(url, init);
      };
      const windows = sdk(server.url, counting);
      await windows.stream(name).sources([unique("src")]).tumblingTime(60).define();
      const errors: unknown[] = [];
      const consumer = windows.consumer(name, "g");
      const done = consumer.process(() => undefined, { pollTimeoutMs: 1, onError: (e) => errors.push(e) });
      try {
        await until(() => polls >= 30, "30 polls");
      } finally {
        await consumer.stop();
        await done;
      }
      assert.deepEqual(errors, []);
      assert.equal(most, 0);
    });
  });
}
