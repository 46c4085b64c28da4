// Partition assignment strategies for consumer group members: pure functions from members and partitions to owners.
import { BadRequestError } from "./errors.js";

export const ASSIGNMENT_STRATEGIES = ["ROUND_ROBIN", "RANGE", "STICKY", "RANDOM"] as const;
export type AssignmentStrategy = (typeof ASSIGNMENT_STRATEGIES)[number];

/** Member id → the partitions it owns, ascending. Every member of the input has an entry, possibly empty. */
export type Assignment = Record<string, number[]>;

export interface AssignInput {
  /** Member ids in a stable order (Runnel uses join order); earlier members get the extra partitions. */
  members: readonly string[];
  /** Partitions 0 … partitions-1 are assigned. */
  partitions: number;
  /** What each member owned before; only STICKY looks at it. */
  previous?: Readonly<Record<string, readonly number[]>>;
  /** A source of numbers in [0, 1) for RANDOM; Math.random when left out. */
  random?: () => number;
}

/**
 * Reads a strategy name the way both seeds spell it: `ROUND_ROBIN`, `range`, `roundrobin`, `cooperative-sticky`…
 * Throws a 400 naming `field` for anything else.
 */
export function parseStrategy(text: string, field = "loadBalancingStrategy"): AssignmentStrategy {
  const plain = text.trim().toUpperCase().replace(/[-\s]/g, "_");
  const known: Record<string, AssignmentStrategy> = {
    ROUND_ROBIN: "ROUND_ROBIN",
    ROUNDROBIN: "ROUND_ROBIN",
    RANGE: "RANGE",
    STICKY: "STICKY",
    COOPERATIVE_STICKY: "STICKY",
    RANDOM: "RANDOM",
  };
  const strategy = known[plain];
  if (!strategy) {
    throw new BadRequestError(`${field} must be one of ${ASSIGNMENT_STRATEGIES.join(", ")} (got '${text}')`, { field });
  }
  return strategy;
}

/** How many partitions each member gets in a balanced assignment: `floor` each, `extra` of them one more. */
function quotas(members: number, partitions: number): { floor: number; extra: number } {
  return { floor: Math.floor(partitions / members), extra: partitions % members };
}

function empty(members: readonly string[]): Assignment {
  const out: Assignment = {};
  for (const m of members) out[m] = [];
  return out;
}

function sorted(a: Assignment): Assignment {
  for (const list of Object.values(a)) list.sort((x, y) => x - y);
  return a;
}

/** Partition i goes to member i mod n. */
export function roundRobin(members: readonly string[], partitions: number): Assignment {
  const out = empty(members);
  if (members.length === 0) return out;
  for (let p = 0; p < partitions; p++) out[members[p % members.length]!]!.push(p);
  return out;
}

/** Contiguous ranges: the first members get one partition more when the count does not divide evenly. */
export function range(members: readonly string[], partitions: number): Assignment {
  const out = empty(members);
  if (members.length === 0) return out;
  const { floor, extra } = quotas(members.length, partitions);
  let next = 0;
  members.forEach((m, i) => {
    const take = floor + (i < extra ? 1 : 0);
    for (let k = 0; k < take; k++) out[m]!.push(next++);
  });
  return out;
}

/** A balanced deal of the partitions in a random order. */
export function random(members: readonly string[], partitions: number, rnd: () => number = Math.random): Assignment {
  const out = empty(members);
  if (members.length === 0) return out;
  const order = Array.from({ length: partitions }, (_, p) => p);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  order.forEach((p, i) => out[members[i % members.length]!]!.push(p));
  return sorted(out);
}

/**
 * Balanced, moving as few partitions as possible: every member keeps what it had up to its quota, the quotas
 * one above the floor go to the members that kept the most, and only the partitions left over change hands.
 * No balanced assignment keeps more partitions with their previous owner.
 */
export function sticky(
  members: readonly string[],
  partitions: number,
  previous: Readonly<Record<string, readonly number[]>> = {},
): Assignment {
  const out = empty(members);
  if (members.length === 0) return out;
  const taken = new Set<number>();
  const kept = new Map<string, number[]>();
  for (const m of members) {
    const own: number[] = [];
    for (const p of previous[m] ?? []) {
      if (Number.isInteger(p) && p >= 0 && p < partitions && !taken.has(p)) {
        taken.add(p);
        own.push(p);
      }
    }
    kept.set(m, own.sort((x, y) => x - y));
  }
  const { floor, extra } = quotas(members.length, partitions);
  // Members that kept the most get the larger quotas; ties keep the members' order.
  const byKept = members
    .map((m, i) => ({ m, i, n: kept.get(m)!.length }))
    .sort((a, b) => b.n - a.n || a.i - b.i);
  const quota = new Map<string, number>();
  byKept.forEach(({ m }, rank) => quota.set(m, floor + (rank < extra ? 1 : 0)));

  const free: number[] = [];
  for (const m of members) {
    const own = kept.get(m)!;
    const q = quota.get(m)!;
    for (const p of own.splice(q)) free.push(p);
    out[m] = own;
  }
  for (let p = 0; p < partitions; p++) if (!taken.has(p)) free.push(p);
  free.sort((x, y) => x - y);
  let next = 0;
  for (const m of members) {
    const q = quota.get(m)!;
    while (out[m]!.length < q) out[m]!.push(free[next++]!);
  }
  return sorted(out);
}

/** Assigns partitions by `strategy`. */
export function assignPartitions(strategy: AssignmentStrategy, input: AssignInput): Assignment {
  switch (strategy) {
    case "ROUND_ROBIN":
      return roundRobin(input.members, input.partitions);
    case "RANGE":
      return range(input.members, input.partitions);
    case "STICKY":
      return sticky(input.members, input.partitions, input.previous);
    case "RANDOM":
      return random(input.members, input.partitions, input.random);
  }
}

/** How many partitions have an owner in `next` other than their owner in `previous` (or had none). */
export function movedPartitions(
  previous: Readonly<Record<string, readonly number[]>>,
  next: Readonly<Record<string, readonly number[]>>,
): number {
  const before = new Map<number, string>();
  for (const [m, list] of Object.entries(previous)) for (const p of list) before.set(p, m);
  let moved = 0;
  for (const [m, list] of Object.entries(next)) for (const p of list) if (before.get(p) !== m) moved++;
  return moved;
}
