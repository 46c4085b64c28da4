// The storage port's promise for writes that share a transaction (group commit): each unit succeeds or fails
// alone, a failing unit leaves nothing behind, and the others commit with exactly their own writes.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStore, type Store } from "../src/storage/index.js";
import { backends } from "./helpers/backends.js";

const NOW = 1_700_000_000_000;
const CONFIG = { partitions: 1, maxLen: null, maxAgeMs: null, maxDeliveries: null, deadLetterStream: null, dedupeWindowMs: 0 };

for (const backend of await backends()) {
  describe(`store writes sharing a transaction (${backend.name})`, () => {
    let store: Store;
    before(async () => {
      store = await createStore(await backend.fresh());
    });
    after(async () => {
      await store.close();
      await backend.cleanup();
    });

    /** A unit that creates stream `name`, then throws if `fail` is set (after writing). */
    function createStream(name: string, fail = false) {
      return store.write(async (tx) => {
        const { stream: created } = await tx.streams.create("default", name, CONFIG, NOW);
        if (fail) throw new Error(`unit ${name} gives up after writing`);
        return created.name;
      });
    }

    async function exists(name: string): Promise<boolean> {
      return (await store.read((tx) => tx.streams.get("default", name))) !== undefined;
    }

    it("units submitted together all commit, each answering its own value", async () => {
      const names = Array.from({ length: 20 }, (_, i) => `together-${i}`);
      const answers = await Promise.all(names.map((n) => createStream(n)));
      assert.deepEqual(answers, names);
      for (const n of names) assert.ok(await exists(n), n);
    });

    it("a unit that fails after writing is undone alone; the units around it commit", async () => {
      const names = Array.from({ length: 12 }, (_, i) => `mixed-${i}`);
      const failing = new Set([3, 7]);
      const settled = await Promise.allSettled(names.map((n, i) => createStream(n, failing.has(i))));
      settled.forEach((s, i) => {
        if (failing.has(i)) {
          assert.equal(s.status, "rejected", names[i]);
          assert.match(String((s as PromiseRejectedResult).reason), /gives up after writing/);
        } else {
          assert.equal(s.status, "fulfilled", names[i]);
          assert.equal((s as PromiseFulfilledResult<string>).value, names[i]);
        }
      });
      for (const [i, n] of names.entries()) assert.equal(await exists(n), !failing.has(i), n);
    });

    it("a database error in one unit (a duplicate key) does not spoil the others' writes", async () => {
      const names = ["dup-a", "dup-b", "dup-c"];
      const entry = {
        id: { ms: NOW, seq: 1 },
        partition: 0,
        offset: 0,
        key: null,
        type: null,
        headers: "{}",
        payload: "{}",
        priority: 1 as const,
        correlationId: null,
        causationId: null,
        messageId: null,
        timestamp: NOW,
        deliverAt: null,
      };
      const settled = await Promise.allSettled([
        createStream(names[0]!),
        store.write(async (tx) => {
          const { stream } = await tx.streams.create("default", "dup-broken", CONFIG, NOW);
          // The same id twice: the entries primary key refuses the second insert.
          await tx.entries.insert(stream.id, [entry]);
          await tx.entries.insert(stream.id, [entry]);
        }),
        createStream(names[1]!),
        createStream(names[2]!),
      ]);
      assert.deepEqual(
        settled.map((s) => s.status),
        ["fulfilled", "rejected", "fulfilled", "fulfilled"],
      );
      for (const n of names) assert.ok(await exists(n), n);
      assert.equal(await exists("dup-broken"), false, "the failed unit's first write was undone too");
    });
  });
}
