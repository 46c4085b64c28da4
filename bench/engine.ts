// `npm run bench:engine`: the storage engine alone, without HTTP: batched appends, then group read + ack.
// It tells how much of a scenario's cost is the engine and SQLite, and how much HTTP and JSON add on top.
//
//   ENGINE_COUNT (200000)         entries appended, then consumed
//   ENGINE_PAYLOAD_BYTES (200)    size of each entry's JSON payload
//   ENGINE_DURABILITY (full)      full or relaxed (SQLite)
//   ENGINE_STORE (sqlite)         sqlite, or postgres (RUNNEL_BENCH_DATABASE_URL, a schema of its own, dropped after)
//   ENGINE_CONCURRENCY (8)        appends in flight, and consumers of the group
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Engine } from "../src/engine/index.js";
import { createStore } from "../src/storage/index.js";
import type { Durability, StoreOptions } from "../src/storage/store.js";
import { PG_URL } from "./config.js";
import { dropSchema } from "./nodes.js";
import { payload } from "./scenarios.js";

const BATCH = 100;

function setting(name: string, fallback: number): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`);
  return n;
}

const count = setting("ENGINE_COUNT", 200_000);
const bytes = setting("ENGINE_PAYLOAD_BYTES", 200);
const concurrency = setting("ENGINE_CONCURRENCY", 8);
const durability = (process.env.ENGINE_DURABILITY ?? "full") as Durability;
if (durability !== "full" && durability !== "relaxed") throw new Error("ENGINE_DURABILITY must be full or relaxed");
const kind = process.env.ENGINE_STORE ?? "sqlite";
if (kind !== "sqlite" && kind !== "postgres") throw new Error("ENGINE_STORE must be sqlite or postgres");

/** Prints the rate, and the process's CPU time per entry (every thread: sync, checkpoint). */
function report(phase: string, entries: number, started: number, cpu: NodeJS.CpuUsage): void {
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const perEntry = (used.user + used.system) / entries;
  console.log(`${phase.padEnd(22)} ${Math.round(entries / seconds).toLocaleString("en").padStart(9)} entries/s   CPU ${perEntry.toFixed(1)} µs/entry`);
}

const dir = mkdtempSync(join(tmpdir(), "runnel-bench-engine-"));
const schema = `runnel_bench_engine_${randomBytes(4).toString("hex")}`;
const options: StoreOptions =
  kind === "sqlite" ? { kind, dataDir: dir, durability } : { kind, url: PG_URL, schema, poolSize: 10 };
const engine = new Engine(await createStore(options));
try {
  const what = kind === "sqlite" ? `SQLite ${durability}` : `PostgreSQL at ${PG_URL}`;
  console.log(`# engine alone: ${what}, ${count} entries of ~${bytes} bytes, ${concurrency} in flight`);
  const batch = Array.from({ length: BATCH }, (_, i) => ({ payload: JSON.stringify(payload(bytes, 0, i)) }));
  let remaining = count;
  let started = performance.now();
  let cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (remaining > 0) {
        const size = Math.min(BATCH, remaining);
        remaining -= size;
        await engine.streams.append("default", "bench", batch.slice(0, size));
      }
    }),
  );
  report(`append (batches of ${BATCH})`, count, started, cpu);

  await engine.groups.create("default", "bench", "workers", "0");
  let consumed = 0;
  started = performance.now();
  cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (;;) {
        const deliveries = await engine.groups.read("default", "bench", "workers", `c${w}`, { count: BATCH });
        if (deliveries.length === 0) return;
        const acked = await engine.groups.ack("default", "bench", "workers", deliveries.map((d) => d.id));
        consumed += acked;
      }
    }),
  );
  report(`read + ack (${BATCH})`, consumed, started, cpu);
  if (consumed !== count) throw new Error(`consumed ${consumed} entries, appended ${count}`);
} finally {
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
  if (kind === "postgres") await dropSchema(schema);
}
