// The pending entries list keeps a group read's fresh deliveries as one run and single entries as rows. Whatever
// mix of the two a group holds, it must answer as one list: a model kept by hand says, after every step of random
// reads, acks, claims, re-reads and hand-backs on a stream of two partitions, what XPENDING (summary and detail),
// the consumers' counts, the group's lag and each read must show. Consumers on two nodes doing all of it at once
// must end with every entry acknowledged.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { compareIds, formatId, MIN_ID, type StreamId } from "../src/core/ids.js";
import { Engine } from "../src/engine/index.js";
import { createStore } from "../src/storage/index.js";
import { backends } from "./helpers/backends.js";

const CONSUMERS = ["c1", "c2", "c3"];

interface Modelled {
  id: StreamId;
  partition: number;
  /** new: never delivered; back: handed back to the group, to be delivered again; pending; acked. */
  state: "new" | "back" | "pending" | "acked";
  consumer: string | null;
  deliveries: number;
}

/** A small deterministic generator, so a failure can be replayed; its high bits, as the low ones repeat quickly. */
function random(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((s / 2 ** 31) * n);
  };
}

const ids = (list: { id: StreamId }[]) => list.map((e) => formatId(e.id));

/** Appends `n` entries to a new stream and hands them all to consumer `a` of group `g` in one read (one run). */
async function deliveredAsOneRead(engine: Engine, stream: string, n: number) {
  const appended = await engine.streams.append(
    "default",
    stream,
    Array.from({ length: n }, (_, i) => ({ payload: `{"i":${i}}` })),
  );
  await engine.groups.create("default", stream, "g", "0", false);
  assert.equal((await engine.groups.read("default", stream, "g", "a", { count: n })).length, n);
  return appended;
}

for (const backend of await backends()) {
  describe(`pending entries in runs and rows (${backend.name})`, () => {
    after(() => backend.cleanup());

    it("answers as one list after random reads, acks, claims, re-reads and hand-backs", async () => {
      const engine = new Engine(await createStore(await backend.fresh()));
      try {
        const rand = random(11);
        const model = new Map<string, Modelled>();
        await engine.streams.create("default", "s", { partitions: 2 });
        await engine.groups.create("default", "s", "g", "0", false);
        const pick = <T>(items: T[], n: number): T[] => items.filter(() => rand(items.length) < n);
        const inState = (...states: Modelled["state"][]) =>
          [...model.values()].filter((e) => states.includes(e.state)).sort((a, b) => compareIds(a.id, b.id));
        const consumer = () => CONSUMERS[rand(CONSUMERS.length)]!;
        const deliver = (got: { id: StreamId; deliveryCount: number }[], to: string, what: string) => {
          for (const d of got) {
            const e = model.get(formatId(d.id))!;
            e.deliveries++;
            assert.equal(d.deliveryCount, e.deliveries, `${what}: delivery count of ${formatId(d.id)}`);
            e.state = "pending";
            e.consumer = to;
          }
        };

        const step = async (): Promise<string> => {
          const op = rand(12);
          if (op < 2) {
            const appended = await engine.streams.append(
              "default",
              "s",
              Array.from({ length: 1 + rand(40) }, (_, i) => ({ payload: `{"i":${i}}`, key: `k${rand(9)}` })),
            );
            for (const r of appended) {
              model.set(formatId(r.id), { id: r.id, partition: r.partition, state: "new", consumer: null, deliveries: 0 });
            }
            return `append ${appended.length}`;
          }
          if (op < 5) {
            const who = consumer();
            const count = 1 + rand(50);
            const eligible = inState("new", "back");
            const got = await engine.groups.read("default", "s", "g", who, { count });
            assert.equal(got.length, Math.min(count, eligible.length), "a read takes what it asked for, when there is as much");
            for (const d of got) assert.ok(["new", "back"].includes(model.get(formatId(d.id))!.state), `${formatId(d.id)} was not due`);
            deliver(got, who, "read");
            return `read ${got.length} as ${who}`;
          }
          if (op < 7) {
            const pending = inState("pending");
            const chosen = rand(3) === 0 ? pending : pick(pending, 1 + rand(pending.length + 1));
            const stray = inState("new", "acked").slice(0, 2);
            const n = await engine.groups.ack("default", "s", "g", [...chosen, ...stray].map((e) => e.id));
            assert.equal(n, chosen.length, "ack counts the pending ones only");
            for (const e of chosen) e.state = "acked";
            return `ack ${chosen.length} of ${pending.length}`;
          }
          if (op === 7) {
            const who = consumer();
            const chosen = pick(inState("pending"), 3);
            const got = await engine.groups.claim("default", "s", "g", who, 0, chosen.map((e) => e.id));
            assert.deepEqual(ids(got), ids(chosen));
            deliver(got, who, "claim");
            return `claim ${chosen.length} to ${who}`;
          }
          if (op === 8) {
            const who = consumer();
            const count = 1 + rand(20);
            const result = await engine.groups.autoClaim("default", "s", "g", who, 0, MIN_ID, count);
            const expected = inState("pending").slice(0, count);
            assert.deepEqual(ids(result.claimed), ids(expected), "autoclaim takes the oldest pending");
            deliver(result.claimed, who, "autoclaim");
            return `autoclaim ${result.claimed.length} to ${who}`;
          }
          if (op === 9) {
            const who = consumer();
            const own = inState("pending").filter((e) => e.consumer === who);
            const got = await engine.groups.read("default", "s", "g", who, { count: 1000, id: "0" });
            assert.deepEqual(ids(got), ids(own), "a re-read returns the consumer's own pending entries");
            deliver(got, who, "re-read");
            return `re-read ${got.length} as ${who}`;
          }
          if (op === 10) {
            const who = consumer();
            const own = inState("pending").filter((e) => e.consumer === who);
            await engine.groups.read("default", "s", "g", who, { count: 1 }).then((got) => deliver(got, who, "read"));
            const mine = inState("pending").filter((e) => e.consumer === who);
            assert.equal(await engine.groups.deleteConsumer("default", "s", "g", who), mine.length);
            for (const e of mine) e.state = "back";
            return `delete ${who} (${own.length} held before)`;
          }
          const from = inState("pending", "acked", "new", "back");
          if (from.length === 0) return "nothing to look at";
          const start = from[rand(from.length)]!.id;
          const end = from[rand(from.length)]!.id;
          const [lo, hi] = compareIds(start, end) <= 0 ? [start, end] : [end, start];
          const who = consumer();
          const expected = inState("pending").filter(
            (e) => e.consumer === who && compareIds(e.id, lo) >= 0 && compareIds(e.id, hi) <= 0,
          );
          const got = await engine.groups.pending("default", "s", "g", { start: lo, end: hi, count: 7, consumer: who });
          assert.deepEqual(ids(got), ids(expected.slice(0, 7)), "XPENDING by range and consumer");
          return `pending ${formatId(lo)}..${formatId(hi)} of ${who}`;
        };

        const check = async (what: string) => {
          const pending = inState("pending");
          const summary = await engine.groups.pendingSummary("default", "s", "g");
          assert.equal(summary.count, pending.length, `${what}: count`);
          assert.deepEqual(summary.smallest, pending[0]?.id ?? null, `${what}: smallest`);
          assert.deepEqual(summary.largest, pending.at(-1)?.id ?? null, `${what}: largest`);
          const perConsumer = CONSUMERS.map((name) => ({ name, pending: pending.filter((e) => e.consumer === name).length }));
          assert.deepEqual(
            summary.consumers,
            perConsumer.filter((c) => c.pending > 0),
            `${what}: per consumer`,
          );
          const detail = await engine.groups.pending("default", "s", "g", { count: 100_000 });
          assert.deepEqual(
            detail.map((d) => [formatId(d.id), d.consumer, d.deliveryCount, d.partition]),
            pending.map((e) => [formatId(e.id), e.consumer, e.deliveries, e.partition]),
            `${what}: detail`,
          );
          const consumers = await engine.groups.consumers("default", "s", "g");
          for (const c of consumers) {
            assert.equal(c.pending, pending.filter((e) => e.consumer === c.name).length, `${what}: ${c.name}'s count`);
          }
          const info = await engine.groups.info("default", "s", "g");
          assert.equal(info.pending, pending.length, `${what}: info pending`);
          for (const partition of [0, 1]) {
            const owed = inState("new", "back", "pending").filter((e) => e.partition === partition).length;
            assert.equal(info.partitionLags[String(partition)] ?? 0, owed, `${what}: lag of partition ${partition}`);
          }
        };

        const done: string[] = [];
        for (let i = 0; i < 150; i++) {
          const what = await step();
          done.push(what);
          await check(`step ${i} (${done.slice(-4).join("; ")})`);
        }
        assert.ok(done.some((d) => /^ack [1-9]/.test(d)) && done.some((d) => /^claim [1-9]/.test(d)), done.join("; "));
      } finally {
        await engine.close();
      }
    });

    it("ends with every entry acknowledged when consumers on two nodes read, ack in part, claim and re-read at once", async () => {
      const options = await backend.fresh();
      const first = new Engine(await createStore(options));
      // On SQLite one process owns the file: both "nodes" are the same engine.
      const second = backend.name === "postgres" ? new Engine(await createStore(options)) : first;
      try {
        const rand = random(5);
        const total = 2000;
        await first.streams.create("default", "c", { partitions: 2 });
        await first.groups.create("default", "c", "g", "0", false);
        for (let i = 0; i < total; i += 500) {
          await first.streams.append("default", "c", Array.from({ length: 500 }, (_, k) => ({ payload: `{"k":${i + k}}`, key: `k${k % 7}` })));
        }
        const acked = new Set<string>();
        const consumer = async (engine: Engine, name: string) => {
          for (let idle = 0; idle < 5; ) {
            const op = rand(10);
            const got =
              op < 7
                ? await engine.groups.read("default", "c", "g", name, { count: 1 + rand(60) })
                : op < 9
                  ? (await engine.groups.autoClaim("default", "c", "g", name, 0, MIN_ID, 1 + rand(30))).claimed
                  : await engine.groups.read("default", "c", "g", name, { count: 50, id: "0" });
            if (got.length === 0) {
              idle++;
              continue;
            }
            idle = 0;
            const chosen = rand(3) === 0 ? got.filter(() => rand(2) === 0) : got;
            const n = await engine.groups.ack("default", "c", "g", chosen.map((d) => d.id));
            assert.ok(n <= chosen.length, "an ack counts only what it was given");
            for (const d of chosen) acked.add(formatId(d.id));
          }
        };
        await Promise.all(["c1", "c2", "c3", "c4"].map((name, i) => consumer(i % 2 === 0 ? first : second, name)));
        // What the consumers left pending (the unacked part of partial acks), taken over and acked.
        for (;;) {
          const { claimed } = await second.groups.autoClaim("default", "c", "g", "drain", 0, MIN_ID, 100);
          const fresh = await second.groups.read("default", "c", "g", "drain", { count: 100 });
          const ids = [...claimed, ...fresh].map((d) => d.id);
          if (ids.length === 0) break;
          await second.groups.ack("default", "c", "g", ids);
          for (const id of ids) acked.add(formatId(id));
        }
        assert.equal(acked.size, total, "every entry was delivered and acknowledged");
        assert.equal((await first.groups.pendingSummary("default", "c", "g")).count, 0);
        assert.equal((await first.groups.info("default", "c", "g")).lag, 0);
      } finally {
        if (second !== first) await second.close();
        await first.close();
      }
    });

    it("gives a run's entries to the new reader when the group is moved back over them, once each", async () => {
      const engine = new Engine(await createStore(await backend.fresh()));
      try {
        const appended = await deliveredAsOneRead(engine, "t", 10);
        await engine.groups.setId("default", "t", "g", "0");
        const again = await engine.groups.read("default", "t", "g", "b", { count: 4 });
        assert.deepEqual(ids(again), ids(appended.slice(0, 4)));
        assert.deepEqual(
          again.map((d) => d.deliveryCount),
          [1, 1, 1, 1],
          "as in Redis, delivering a pending entry anew starts its count again",
        );
        const summary = await engine.groups.pendingSummary("default", "t", "g");
        assert.equal(summary.count, 10, "each entry is pending once");
        assert.deepEqual(summary.consumers, [
          { name: "a", pending: 6 },
          { name: "b", pending: 4 },
        ]);
        assert.equal(await engine.groups.ack("default", "t", "g", appended.map((r) => r.id)), 10);
        assert.equal((await engine.groups.pendingSummary("default", "t", "g")).count, 0);
      } finally {
        await engine.close();
      }
    });

    it("keeps what a partial ack of a run leaves, with its consumer and delivery time", async () => {
      const engine = new Engine(await createStore(await backend.fresh()));
      try {
        const appended = await deliveredAsOneRead(engine, "u", 6);
        assert.equal(await engine.groups.ack("default", "u", "g", [appended[1]!.id, appended[4]!.id]), 2);
        assert.equal(await engine.groups.ack("default", "u", "g", [appended[1]!.id]), 0, "acked once only");
        const left = await engine.groups.pending("default", "u", "g", { count: 10 });
        assert.deepEqual(ids(left), ids([0, 2, 3, 5].map((i) => appended[i]!)));
        assert.ok(left.every((p) => p.consumer === "a" && p.deliveryCount === 1));
        const own = await engine.groups.read("default", "u", "g", "a", { count: 10, id: "0" });
        assert.deepEqual(
          own.map((d) => d.deliveryCount),
          [2, 2, 2, 2],
        );
      } finally {
        await engine.close();
      }
    });
  });
}
