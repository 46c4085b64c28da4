// Partition assignment strategies as pure functions: examples per strategy, balance for all, and STICKY's fewest moves.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ASSIGNMENT_STRATEGIES,
  assignPartitions,
  movedPartitions,
  parseStrategy,
  type Assignment,
  type AssignmentStrategy,
} from "../src/core/assignment.js";
import { BadRequestError } from "../src/core/errors.js";

/** A small seeded generator (mulberry32), so a failing sequence can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every partition owned exactly once, every member listed, and counts differ by at most one. */
function assertValid(a: Assignment, members: readonly string[], partitions: number, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), [...members].sort(), `${what}: one entry per member`);
  const owned = Object.values(a).flat().sort((x, y) => x - y);
  assert.deepEqual(owned, Array.from({ length: partitions }, (_, p) => p), `${what}: each partition exactly once`);
  if (members.length > 0) {
    const sizes = Object.values(a).map((l) => l.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${what}: balanced ${JSON.stringify(a)}`);
  }
}

/** The fewest partitions any balanced assignment must move from `previous`, by trying every assignment. */
function fewestMoves(previous: Assignment, members: readonly string[], partitions: number): number {
  let best = Infinity;
  const owner = new Array<number>(partitions).fill(0);
  const total = members.length ** partitions;
  for (let code = 0; code < total; code++) {
    let c = code;
    for (let p = 0; p < partitions; p++) {
      owner[p] = c % members.length;
      c = Math.floor(c / members.length);
    }
    const counts = new Array<number>(members.length).fill(0);
    for (const o of owner) counts[o]!++;
    if (Math.max(...counts) - Math.min(...counts) > 1) continue;
    const next: Assignment = Object.fromEntries(members.map((m) => [m, [] as number[]]));
    owner.forEach((o, p) => next[members[o]!]!.push(p));
    best = Math.min(best, movedPartitions(previous, next));
  }
  return best;
}

describe("assignment strategies", () => {
  const members = ["a", "b", "c"];

  it("ROUND_ROBIN deals partitions one by one in member order", () => {
    assert.deepEqual(assignPartitions("ROUND_ROBIN", { members, partitions: 8 }), { a: [0, 3, 6], b: [1, 4, 7], c: [2, 5] });
  });

  it("RANGE gives contiguous ranges, the first members one more", () => {
    assert.deepEqual(assignPartitions("RANGE", { members, partitions: 8 }), { a: [0, 1, 2], b: [3, 4, 5], c: [6, 7] });
    assert.deepEqual(assignPartitions("RANGE", { members: ["a", "b"], partitions: 4 }), { a: [0, 1], b: [2, 3] });
  });

  it("STICKY starts like RANGE and afterwards keeps what members own", () => {
    const first = assignPartitions("STICKY", { members, partitions: 8 });
    assert.deepEqual(first, { a: [0, 1, 2], b: [3, 4, 5], c: [6, 7] });
    // c leaves: a and b keep all they had and share c's two partitions.
    const after = assignPartitions("STICKY", { members: ["a", "b"], partitions: 8, previous: first });
    assert.deepEqual(after, { a: [0, 1, 2, 6], b: [3, 4, 5, 7] });
    // d joins: each of a and b gives up exactly one.
    const joined = assignPartitions("STICKY", { members: ["a", "b", "d"], partitions: 8, previous: after });
    assert.equal(movedPartitions(after, joined), 2);
    assert.deepEqual(joined.a!.filter((p) => after.a!.includes(p)).length + joined.b!.filter((p) => after.b!.includes(p)).length, 6);
  });

  it("RANDOM is balanced and follows the random source it is given", () => {
    const one = assignPartitions("RANDOM", { members, partitions: 12, random: seeded(7) });
    const again = assignPartitions("RANDOM", { members, partitions: 12, random: seeded(7) });
    assert.deepEqual(one, again);
    assertValid(one, members, 12, "random");
    const others = Array.from({ length: 20 }, (_, i) => JSON.stringify(assignPartitions("RANDOM", { members, partitions: 12, random: seeded(100 + i) })));
    assert.ok(new Set(others).size > 1, "different sources give different assignments");
  });

  it("with more members than partitions, the extra members get none", () => {
    for (const strategy of ASSIGNMENT_STRATEGIES) {
      const a = assignPartitions(strategy, { members: ["a", "b", "c", "d", "e"], partitions: 2, random: seeded(1) });
      assertValid(a, ["a", "b", "c", "d", "e"], 2, strategy);
      assert.equal(Object.values(a).filter((l) => l.length === 0).length, 3, strategy);
    }
  });

  it("no members, no assignment", () => {
    for (const strategy of ASSIGNMENT_STRATEGIES) assert.deepEqual(assignPartitions(strategy, { members: [], partitions: 4 }), {});
  });

  it("every strategy covers each partition once, balanced, for random members and partition counts", () => {
    const rnd = seeded(42);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rnd() * 12);
      const partitions = Math.floor(rnd() * 70);
      const ms = Array.from({ length: n }, (_, i) => `m${i}`);
      for (const strategy of ASSIGNMENT_STRATEGIES) {
        assertValid(assignPartitions(strategy, { members: ms, partitions, random: rnd }), ms, partitions, `${strategy} n=${n} p=${partitions}`);
      }
    }
  });

  it("STICKY moves no more partitions than any balanced assignment must, over random join and leave sequences", () => {
    const rnd = seeded(2024);
    let checked = 0;
    for (let sequence = 0; sequence < 60; sequence++) {
      const partitions = 1 + Math.floor(rnd() * 7);
      let live: string[] = [];
      let current: Assignment = {};
      let next = 0;
      for (let step = 0; step < 25; step++) {
        const join = live.length === 0 || (live.length < 4 && rnd() < 0.55);
        if (join) live = [...live, `m${next++}`];
        else live = live.filter((_, i) => i !== Math.floor(rnd() * live.length));
        if (live.length === 0) {
          current = {};
          continue;
        }
        const assigned = assignPartitions("STICKY", { members: live, partitions, previous: current });
        assertValid(assigned, live, partitions, `sequence ${sequence} step ${step}`);
        const moved = movedPartitions(current, assigned);
        assert.equal(moved, fewestMoves(current, live, partitions), `sequence ${sequence} step ${step}: ${JSON.stringify({ current, assigned })}`);
        current = assigned;
        checked++;
      }
    }
    assert.ok(checked > 1000);
  });

  it("STICKY, at scale: members keep what they had up to their share and never move more than ROUND_ROBIN or RANGE", () => {
    const rnd = seeded(99);
    const strategies: AssignmentStrategy[] = ["ROUND_ROBIN", "RANGE"];
    for (let sequence = 0; sequence < 20; sequence++) {
      const partitions = 1 + Math.floor(rnd() * 128);
      let live: string[] = [];
      let current: Assignment = {};
      let next = 0;
      for (let step = 0; step < 60; step++) {
        if (live.length === 0 || (live.length < 20 && rnd() < 0.6)) live = [...live, `m${next++}`];
        else live = live.filter((_, i) => i !== Math.floor(rnd() * live.length));
        if (live.length === 0) continue;
        const assigned = assignPartitions("STICKY", { members: live, partitions, previous: current });
        assertValid(assigned, live, partitions, "sticky at scale");
        for (const m of live) {
          const had = current[m] ?? [];
          const kept = assigned[m]!.filter((p) => had.includes(p)).length;
          assert.equal(kept, Math.min(had.length, assigned[m]!.length), `${m} keeps what fits in its share`);
        }
        const moved = movedPartitions(current, assigned);
        for (const other of strategies) {
          const alt = assignPartitions(other, { members: live, partitions });
          assert.ok(moved <= movedPartitions(current, alt), `sticky moved ${moved}, ${other} would move ${movedPartitions(current, alt)}`);
        }
        current = assigned;
      }
    }
  });

  it("reads strategy names as both seeds spell them and refuses others with a 400 naming the field", () => {
    assert.equal(parseStrategy("ROUND_ROBIN"), "ROUND_ROBIN");
    assert.equal(parseStrategy("roundrobin"), "ROUND_ROBIN");
    assert.equal(parseStrategy("range"), "RANGE");
    assert.equal(parseStrategy("cooperative-sticky"), "STICKY");
    assert.equal(parseStrategy("Random"), "RANDOM");
    assert.throws(
      () => parseStrategy("LEAST_LOADED", "partition_assignment_strategy"),
      (e: unknown) => e instanceof BadRequestError && e.field === "partition_assignment_strategy",
    );
  });
});
