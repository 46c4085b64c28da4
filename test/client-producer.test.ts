// The SDK's batching producer against real servers on every backend: batches kept under the server's body limit,
// a batch the server finds too large split until only an entry too large alone fails, and lingering after flush().
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { RunningServer } from "../src/api/server.js";
import { BadRequestError, RunnelClient, RunnelError, type FetchFunction } from "../src/client/index.js";
import { backends } from "./helpers/backends.js";
import { unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

/** What a client sent to `POST /stream/:stream/entries`: each body's size in bytes and the status it got. */
interface EntryPost {
  bytes: number;
  status: number;
}

/** A client that records each entries POST it makes. */
function recordingClient(url: string): { client: RunnelClient; posts: EntryPost[] } {
  const posts: EntryPost[] = [];
  const recording: FetchFunction = async (target, init) => {
    const res = await fetch(target, init);
    if (init.method === "POST" && target.endsWith("/entries")) {
      posts.push({ bytes: Buffer.byteLength(String(init.body)), status: res.status });
    }
    return res;
  };
  return { client: new RunnelClient({ url, fetch: recording }), posts };
}

for (const backend of await backends()) {
  describe(`client producer (${backend.name})`, () => {
    let server: RunningServer;
    /** A server that takes request bodies of at most 16 KiB. */
    let small: RunningServer;
    before(async () => {
      server = await startTestServer(await backend.fresh());
      small = await startTestServer(await backend.fresh(), { bodyLimit: 16 * 1024 });
    });
    after(async () => {
      await Promise.all([server.close(), small.close()]);
      await backend.cleanup();
    });

    it("publishes that add up to more than the server's body limit are all stored, none refused as too large", async () => {
      const s = unique("big");
      const { client, posts } = recordingClient(server.url);
      const producer = client.producer(s, { lingerMs: 20, maxBatch: 100 });
      const text = "x".repeat(20_000);
      // 100 × 20 KB is about 2 MB, twice the server's default limit of 1 MiB.
      const outcomes = await Promise.allSettled(Array.from({ length: 100 }, (_, n) => producer.publish({ text, n })));
      assert.deepEqual(outcomes.filter((o) => o.status === "rejected"), []);
      assert.equal(await client.streams.len(s), 100);
      assert.deepEqual(posts.filter((p) => p.status === 413), [], "no request was refused as too large");
      assert.ok(posts.every((p) => p.bytes <= 512 * 1024), `every request within 512 KiB: ${posts.map((p) => p.bytes).join(", ")}`);
      await producer.close();
    });

    it("an entry larger than the server's body limit fails alone with the server's error; the rest of its batch is stored", async () => {
      const s = unique("oversized");
      const client = new RunnelClient({ url: small.url });
      const producer = client.producer(s, { lingerMs: 50, maxBatch: 10 });
      const outcomes = await Promise.allSettled([
        producer.publish({ n: 1 }),
        producer.publish({ n: 2, text: "y".repeat(20_000) }),
        producer.publish({ n: 3 }),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
      const failure = (outcomes[1] as PromiseRejectedResult).reason as unknown;
      assert.ok(failure instanceof RunnelError, `expected a RunnelError, got ${String(failure)}`);
      assert.equal(failure.code, "RUNNEL_PAYLOAD_TOO_LARGE");
      assert.deepEqual((await client.streams.range<{ n: number }>(s)).map((e) => e.payload.n), [1, 3]);
      await producer.close();
    });

    it("after flush() with nothing queued, publishes made together still share one request", async () => {
      const s = unique("linger");
      const { client, posts } = recordingClient(server.url);
      const producer = client.producer(s, { lingerMs: 50, maxBatch: 100 });
      await Promise.all([1, 2, 3].map((n) => producer.publish({ n })));
      await producer.flush();
      const before = posts.length;
      await Promise.all([4, 5, 6, 7, 8].map((n) => producer.publish({ n })));
      assert.equal(posts.length - before, 1);
      assert.deepEqual((await client.streams.range<{ n: number }>(s)).map((e) => e.payload.n), [1, 2, 3, 4, 5, 6, 7, 8]);
      await producer.close();
    });
  });
}

describe("client producer options", () => {
  it("maxBatchBytes must be a positive integer", () => {
    const client = new RunnelClient({ url: "http://127.0.0.1:1" });
    for (const maxBatchBytes of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => client.producer("s", { maxBatchBytes }), (e: unknown) => e instanceof BadRequestError && e.field === "maxBatchBytes");
    }
  });
});
