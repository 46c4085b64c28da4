// The SDK's consume and worker riding out trouble, on every backend: failed acks and nacks, an abort in the
// middle of a batch, a server that never answers, and a group deleted under a running consume.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, afterEach, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { NotFoundError, RunnelClient, type FetchFunction } from "../src/client/index.js";
import { backends } from "./helpers/backends.js";
import { unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** Workers and consume loops a test started: ended after it, so a failing test cannot leave them running. */
const running: (() => unknown)[] = [];

function sdk(url: string, fetch?: FetchFunction): RunnelClient {
  return new RunnelClient({ url, ...(fetch ? { fetch } : {}) });
}

/** A fetch whose first request to a path ending in `suffix` fails as a network error would; the rest go through. */
function failingOnce(suffix: string): FetchFunction {
  let failed = false;
  return (url, init) => {
    if (!failed && url.endsWith(suffix)) {
      failed = true;
      return Promise.reject(new TypeError("fetch failed"));
    }
    return fetch(url, init);
  };
}

/** A fetch for a server that never answers the requests `hangs` picks: they end only when their signal aborts. */
function hanging(hangs: (url: string, method: string) => boolean): { fetch: FetchFunction; hung: () => number } {
  let hung = 0;
  const fetchFn: FetchFunction = (url, init) => {
    if (!hangs(url, init.method ?? "GET")) return fetch(url, init);
    hung++;
    return new Promise((_resolve, reject) => {
      init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")), { once: true });
    });
  };
  return { fetch: fetchFn, hung: () => hung };
}

/** Answers what `promise` settles with, or fails naming `what` when it is still waiting after a generous limit. */
async function settles<T>(promise: Promise<T>, what: string): Promise<T> {
  const waiting = Symbol("waiting");
  const result = await Promise.race([promise, sleep(5000, waiting, { ref: false })]);
  assert.notEqual(result, waiting, `${what} is still waiting`);
  return result as T;
}

for (const backend of await backends()) {
  describe(`client recovery (${backend.name})`, () => {
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

    it("worker: an entry whose ack request failed is handled again and acked", async () => {
      const s = unique("lost-ack");
      await client.streams.append(s, { n: 1 });
      const errors: unknown[] = [];
      let calls = 0;
      const worker = sdk(server.url, failingOnce("/ack")).worker(s, "g", "w1", () => void calls++, {
        startId: "0",
        blockMs: 200,
        onError: (e) => errors.push(e),
      });
      running.push(() => worker.stop());
      await until(async () => worker.processed === 1 && (await client.groups.pending(s, "g")).count === 0, "the entry acked");
      assert.equal(calls, 2, "handled once more after its ack failed");
      assert.equal(errors.length, 1, "the failed ack was reported");
    });

    it("worker: a message whose nack failed after its handler threw is retried", async () => {
      const s = unique("lost-nack");
      await client.streams.append(s, { n: 1 });
      let calls = 0;
      const worker = sdk(server.url, failingOnce("/nack")).worker(
        s,
        "g",
        "w1",
        () => {
          if (++calls === 1) throw new Error("transient");
        },
        { startId: "0", blockMs: 200, onError: () => undefined },
      );
      running.push(() => worker.stop());
      await until(async () => worker.processed === 1 && (await client.groups.pending(s, "g")).count === 0, "the retried entry acked");
      assert.equal(calls, 2);
      assert.equal(worker.failed, 1);
    });

    it("consume: messages whose auto-ack failed come again and are acked", async () => {
      const s = unique("lost-autoack");
      await client.streams.appendBatch(s, [{ payload: { n: 1 } }, { payload: { n: 2 } }]);
      const controller = new AbortController();
      const seen: number[] = [];
      const messages = sdk(server.url, failingOnce("/ack")).consume<{ n: number }>(s, "g", "c1", {
        startId: "0",
        blockMs: 200,
        autoAck: true,
        signal: controller.signal,
        onError: () => undefined,
      });
      const loop = (async () => {
        for await (const m of messages) seen.push(m.payload.n);
      })();
      running.push(() => controller.abort());
      await until(async () => seen.length === 4 && (await client.groups.pending(s, "g")).count === 0, "both entries acked");
      assert.deepEqual(seen, [1, 2, 1, 2]);
      controller.abort();
      await loop;
    });

    it("consume: aborting during a message hands out no more of its batch and gives the rest back", async () => {
      const s = unique("abort-batch");
      await client.streams.appendBatch(s, Array.from({ length: 10 }, (_, i) => ({ payload: { i } })));
      const controller = new AbortController();
      const seen: number[] = [];
      for await (const m of client.consume<{ i: number }>(s, "g", "c1", { count: 10, startId: "0", autoAck: true, signal: controller.signal })) {
        seen.push(m.payload.i);
        controller.abort();
      }
      assert.deepEqual(seen, [0]);
      // The message handled is acked; the nine never handed out are back with the group, not pending on c1.
      const info = await client.groups.info(s, "g");
      assert.deepEqual([info.pending, info.lag], [0, 9]);
      const { entries } = await client.groups.read<{ i: number }>(s, "g", "c2", { count: 100 });
      assert.deepEqual(entries.map((e) => e.payload.i), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it("consume and worker.stop() end while group creation never answers", async () => {
      const s = unique("hang-create");
      const server2 = hanging((url, method) => method === "POST" && url.endsWith(`/stream/${s}/group/g`));
      const slow = sdk(server.url, server2.fetch);

      const controller = new AbortController();
      const first = slow.consume(s, "g", "c1", { signal: controller.signal }).next();
      await until(() => server2.hung() === 1, "consume creating its group");
      controller.abort();
      assert.equal((await settles(first, "the aborted consume")).done, true);

      const worker = slow.worker(s, "g", "w1", () => undefined, { onError: () => undefined });
      await until(() => server2.hung() === 2, "the worker creating its group");
      await settles(worker.stop(), "worker.stop()");
    });

    it("worker.stop() ends while an auto-claim never answers", async () => {
      const s = unique("hang-claim");
      await client.groups.create(s, "g", { mkStream: true });
      const server2 = hanging((url) => url.endsWith(`/stream/${s}/group/g/autoclaim`));
      const worker = sdk(server.url, server2.fetch).worker(s, "g", "w1", () => undefined, {
        createGroup: false,
        autoClaimIdleMs: 60_000,
        onError: () => undefined,
      });
      await until(() => server2.hung() === 1, "the worker auto-claiming");
      await settles(worker.stop(), "worker.stop()");
    });

    it("consume: a group deleted under the loop is created again and the loop carries on", async () => {
      const s = unique("lost-group");
      await client.streams.append(s, { n: 1 });
      const controller = new AbortController();
      const seen: number[] = [];
      const errors: unknown[] = [];
      let loopError: unknown;
      const loop = (async () => {
        const options = { startId: "0", blockMs: 200, autoAck: true, signal: controller.signal, onError: (e: unknown) => errors.push(e) };
        for await (const m of client.consume<{ n: number }>(s, "g", "c1", options)) seen.push(m.payload.n);
      })().catch((e: unknown) => (loopError = e));
      running.push(() => controller.abort());
      // Fails at once when the loop ended with an error, instead of waiting for what will not come.
      const whileRunning = (check: () => boolean) => () => {
        if (loopError !== undefined) throw loopError;
        return check();
      };
      await until(whileRunning(() => seen.includes(1)), "the first entry");
      await client.groups.destroy(s, "g");
      await until(whileRunning(() => errors.some((e) => e instanceof NotFoundError)), "the loop finding its group gone");
      await client.streams.append(s, { n: 2 });
      await until(whileRunning(() => seen.includes(2)), "an entry appended after the group came back");
      controller.abort();
      await loop;
      assert.equal(loopError, undefined);
    });

    it("consume with createGroup false: a deleted group ends the loop with NotFoundError", async () => {
      const s = unique("gone-group");
      await client.groups.create(s, "g", { mkStream: true });
      const loop = (async () => {
        for await (const _m of client.consume(s, "g", "c1", { createGroup: false, blockMs: 200 })) void _m;
      })();
      await until(async () => (await client.groups.info(s, "g")).consumers === 1, "the consumer reading");
      await client.groups.destroy(s, "g");
      await assert.rejects(settles(loop, "the consume loop"), (e: unknown) => e instanceof NotFoundError && e.field === "group");
    });
  });
}
