// The CPU time the servers behind a row spent during its measured phase (every thread, user and system), read from
// /proc on Linux. On this shared two-core machine a rate moves by a third from run to run with everything else that
// runs; the server's CPU per message moves far less, and says how far a server is from another whatever the load
// generator does.
import { readdirSync, readFileSync } from "node:fs";

/** CPU time so far of each process, in microseconds, by pid. */
export type CpuSnapshot = Map<number, number>;

/** Reads the CPU time of the processes that serve a row; an empty snapshot when it cannot (not Linux). */
export type CpuProbe = () => CpuSnapshot;

/** Linux reports utime and stime in clock ticks of 1/100 s (USER_HZ) whatever the kernel's own tick. */
const MICROS_PER_TICK = 10_000;

function cpuOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * MICROS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** A probe of fixed processes; `pids` is asked each time, so it may list processes that come and go. */
export function probeOf(pids: () => readonly number[]): CpuProbe {
  return () => {
    const snapshot: CpuSnapshot = new Map();
    for (const pid of pids()) {
      const cpu = cpuOf(pid);
      if (cpu !== undefined) snapshot.set(pid, cpu);
    }
    return snapshot;
  };
}

/** The pids of the running processes whose command name is `name` (PostgreSQL's backends: `postgres`). */
export function pidsNamed(name: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === name) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * Microseconds spent between two snapshots: a process that started in between counts from zero, one that ended is
 * left out. Null when nothing could be read.
 */
export function cpuSpent(before: CpuSnapshot, after: CpuSnapshot): number | null {
  if (after.size === 0) return null;
  let spent = 0;
  for (const [pid, cpu] of after) spent += cpu - (before.get(pid) ?? 0);
  return spent;
}

/** Runs `phase`, answering its result with the CPU the probed processes spent meanwhile (null without a probe). */
export async function withCpu<T>(probe: CpuProbe | undefined, phase: () => Promise<T>): Promise<T & { cpuMicros: number | null }> {
  const before = probe?.();
  const value = await phase();
  return { ...value, cpuMicros: probe && before ? cpuSpent(before, probe()) : null };
}
