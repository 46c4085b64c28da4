// A group's lag stays exact — per partition, the entries it holds pending plus those it has still to read — through
// everything that changes a stream: deletions and trims before and after the group's cursor, several partitions,
// and a second priority level. A model kept by hand says what it must be after every step.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { compareIds, formatId, type StreamId } from "../src/core/ids.js";
import type { Priority } from "../src/core/types.js";
import { Engine } from "../src/engine/index.js";
import { createStore } from "../src/storage/index.js";
import { backends } from "./helpers/backends.js";

const PARTITIONS = 3;

interface Modelled {
  id: StreamId;
  partition: number;
  state: "new" | "pending" | "acked";
  /** Still in the stream (not deleted or trimmed away). */
  exists: boolean;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s % n;
  };
}

for (const backend of await backends()) {
  describe(`exact group lag (${backend.name})`, () => {
    after(() => backend.cleanup());

    it("counts what is left to read after deletions in the middle of it, at its start, of pending entries, and trims", async () => {
      const store = await createStore(await backend.fresh());
      const engine = new Engine(store);
      try {
        const lag = async () => (await engine.groups.info("default", "t", "g")).lag;
        const mark = async () => (await store.read((tx) => tx.streams.get("default", "t")))?.maxDeleted;
        const append = async (n: number) =>
          (await engine.streams.append("default", "t", Array.from({ length: n }, (_, i) => ({ payload: `{"i":${i}}` })))).map((r) => r.id);
        const e = await append(10);
        await engine.groups.create("default", "t", "g", "0", false);
        assert.equal((await engine.groups.read("default", "t", "g", "c", { count: 3 })).length, 3);
        assert.equal(await lag(), 10, "3 pending, 7 to read");
        assert.deepEqual(await mark(), { ms: 0, seq: 0 }, "nothing deleted yet");
        // An id that is not there does not move the mark: the next lag is still one lookup per partition.
        assert.equal(await engine.streams.deleteEntries("default", "t", [e[5]!, { ms: 9_999_999_999_999, seq: 0 }]), 1);
        assert.deepEqual(await mark(), e[5]);
        assert.equal(await lag(), 9, "one to read deleted from the middle");
        await engine.streams.deleteEntries("default", "t", [e[3]!]);
        assert.equal(await lag(), 8, "the next to read deleted");
        await engine.streams.deleteEntries("default", "t", [e[1]!]);
        assert.equal(await lag(), 8, "a deleted entry still pending is still owed an ack");
        await engine.groups.ack("default", "t", "g", [e[0]!, e[1]!]);
        assert.equal(await lag(), 6);
        assert.equal((await engine.groups.read("default", "t", "g", "c", { count: 10 })).length, 5);
        assert.equal(await lag(), 6, "all pending now: e2, e4, e6 to e9");
        await append(5);
        assert.equal(await lag(), 11);
        await engine.streams.trim("default", "t", { maxLen: 3 });
        assert.equal(await lag(), 9, "two unread entries trimmed away, the newest three left to read");
      } finally {
        await engine.close();
      }
    });

    it("matches a hand count after random appends, reads, acks, deletions and trims, on one level and on two", async () => {
      const engine = new Engine(await createStore(await backend.fresh()));
      try {
        const rand = random(7);
        const model = new Map<string, Modelled>();
        await engine.streams.create("default", "s", { partitions: PARTITIONS });
        await engine.groups.create("default", "s", "g", "0", false);
        const existing = () => [...model.values()].filter((e) => e.exists).sort((a, b) => compareIds(a.id, b.id));
        const pick = <T>(items: T[], n: number): T[] => items.filter(() => rand(items.length) < n);

        const step = async (priority: Priority | undefined): Promise<string> => {
          const op = rand(10);
          if (op < 3) {
            const partition = rand(PARTITIONS);
            const n = 1 + rand(20);
            const entries = Array.from({ length: n }, (_, i) => ({ payload: `{"i":${i}}`, partition, ...(priority ? { priority } : {}) }));
            for (const r of await engine.streams.append("default", "s", entries)) {
              model.set(formatId(r.id), { id: r.id, partition, state: "new", exists: true });
            }
            return `append ${n} to ${partition}`;
          }
          if (op < 5) {
            const got = await engine.groups.read("default", "s", "g", `c${rand(2)}`, { count: 1 + rand(15) });
            for (const d of got) model.get(formatId(d.id))!.state = "pending";
            return `read ${got.length}`;
          }
          if (op < 7) {
            const ids = pick([...model.values()].filter((e) => e.state === "pending"), 3).map((e) => e.id);
            assert.equal(await engine.groups.ack("default", "s", "g", ids), ids.length);
            for (const id of ids) model.get(formatId(id))!.state = "acked";
            return `ack ${ids.length}`;
          }
          if (op === 7) {
            const gone = pick(existing(), 2);
            assert.equal(await engine.streams.deleteEntries("default", "s", gone.map((e) => e.id)), gone.length);
            for (const e of gone) e.exists = false;
            return `delete ${gone.map((e) => formatId(e.id)).join(" ")}`;
          }
          const all = existing();
          if (op === 8) {
            const maxLen = Math.max(0, all.length - 1 - rand(8));
            for (const e of all.slice(0, all.length - maxLen)) e.exists = false;
            await engine.streams.trim("default", "s", { maxLen });
            return `trim to ${maxLen}`;
          }
          const minId = all[rand(all.length + 1)]?.id ?? { ms: 0, seq: 1 };
          for (const e of all) if (compareIds(e.id, minId) < 0) e.exists = false;
          await engine.streams.trim("default", "s", { minId });
          return `trim below ${formatId(minId)}`;
        };

        const check = async (what: string): Promise<void> => {
          const expected: Record<string, number> = Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [String(p), 0]));
          for (const e of model.values()) if (e.state === "pending" || (e.state === "new" && e.exists)) expected[String(e.partition)]!++;
          const info = await engine.groups.info("default", "s", "g");
          assert.deepEqual(info.partitionLags, expected, `after ${what}`);
          assert.equal(info.lag, Object.values(expected).reduce((a, b) => a + b, 0), `after ${what}`);
        };

        for (let i = 0; i < 250; i++) await check(await step(undefined));
        // Entries of a second priority level: the stream now has two levels per partition.
        for (let i = 0; i < 100; i++) await check(await step(i % 2 === 0 ? "HIGH" : undefined));
      } finally {
        await engine.close();
      }
    });
  });
}
