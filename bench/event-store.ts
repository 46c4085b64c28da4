// Event store benchmark: appends per second with expected-version checks (one writer per aggregate, and writers
// racing on one aggregate), and reconstruction of a 10k-event aggregate with and without a snapshot.
//
//   node --import tsx bench/event-store.ts        (runs `npm run build` output: build first)
//   ES_BENCH_BACKENDS=sqlite,postgres   ES_BENCH_APPENDS=10000   ES_BENCH_WRITERS=32   ES_BENCH_RACERS=8
//   ES_BENCH_AGGREGATE=10000 (events in the reconstructed aggregate)   ES_BENCH_RUNS=7 (reconstructions timed)
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { MAIN, spawnServer, storeArgs, type ChildServer } from "../test/helpers/server.js";
import type { StoreOptions } from "../src/storage/index.js";
import { PG_URL } from "./config.js";
import { createClient, type BenchClient } from "./http-client.js";
import { postgresProblem } from "./nodes.js";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const APPENDS = num("ES_BENCH_APPENDS", 10_000);
const WRITERS = num("ES_BENCH_WRITERS", 32);
const RACERS = num("ES_BENCH_RACERS", 8);
const RACE_APPENDS = Math.max(100, Math.floor(APPENDS / 10));
const AGGREGATE = num("ES_BENCH_AGGREGATE", 10_000);
const RUNS = num("ES_BENCH_RUNS", 7);
const TAIL = 100;
const BACKENDS = (process.env.ES_BENCH_BACKENDS ?? "sqlite,postgres").split(",").map((s) => s.trim());

interface Row {
  backend: string;
  measure: string;
  value: string;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

/** One writer per aggregate, each appending with the exact version it expects: the common, uncontended case. */
async function appendsWithExpectedVersion(http: BenchClient, store: string): Promise<Row[]> {
  const perWriter = Math.ceil(APPENDS / WRITERS);
  const latencies: number[] = [];
  let conflicts = 0;
  const data = JSON.stringify({ amount: 42, note: "x".repeat(100) });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let v = 0; v < perWriter; v++) {
        const body = `{"aggregateId":"acct-${w}","eventType":"Deposited","eventData":${data},"expectedVersion":${v}}`;
        const r = await http.post(`/api/v1/eventstores/bench/${store}/events`, body);
        latencies.push(r.ms);
        if (r.status === 409) conflicts++;
        else if (r.status !== 201) throw new Error(`append answered ${r.status}: ${r.text}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const total = perWriter * WRITERS;
  const p50 = percentile(latencies, 0.5).toFixed(1);
  const p99 = percentile(latencies, 0.99).toFixed(1);
  return [
    { backend: "", measure: `appends/s, ${WRITERS} writers, own aggregate each, exact expectedVersion`, value: `${Math.round(total / seconds)}` },
    { backend: "", measure: "  latency p50 / p99 (ms)", value: `${p50} / ${p99}` },
    { backend: "", measure: "  conflicts (expected 0)", value: String(conflicts) },
  ];
}

/** Writers racing on one aggregate: each retries with the current version a 409 reports, until it succeeds. */
async function racingWriters(http: BenchClient, store: string): Promise<Row[]> {
  let succeeded = 0;
  let conflicts = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: RACERS }, async (_, w) => {
      let expected = 0;
      while (succeeded < RACE_APPENDS) {
        const r = await http.post(
          `/api/v1/eventstores/bench/${store}/events`,
          `{"aggregateId":"hot","eventType":"Moved","eventData":{"w":${w}},"expectedVersion":${expected}}`,
        );
        if (r.status === 201) {
          succeeded++;
          expected = (JSON.parse(r.text) as { version: number }).version;
        } else if (r.status === 409) {
          conflicts++;
          expected = (JSON.parse(r.text) as { error: { currentVersion: number } }).error.currentVersion;
        } else throw new Error(`append answered ${r.status}: ${r.text}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const versions = await http.get(`/api/v1/eventstores/bench/${store}/aggregates/hot?limit=1`);
  const current = (JSON.parse(versions.text) as { currentVersion: number }).currentVersion;
  if (current !== succeeded) throw new Error(`the aggregate is at ${current} after ${succeeded} successful appends`);
  return [
    { backend: "", measure: `appends/s, ${RACERS} writers racing on one aggregate (409 → retry)`, value: `${Math.round(succeeded / seconds)}` },
    { backend: "", measure: "  conflicts per successful append", value: (conflicts / succeeded).toFixed(2) },
  ];
}

/** A 10k-event aggregate rebuilt by full replay, and from a snapshot `TAIL` events before its head. */
async function reconstruction(http: BenchClient, type: string): Promise<Row[]> {
  const put = await fetch(`${http.base}/api/v1/eventstores/default/${type}`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ snapshotEvery: 0 }),
  });
  if (put.status !== 201) throw new Error(`configure answered ${put.status}`);
  const keys = ["name", "email", "status", "plan", "region", "score", "tags", "address"];
  const eventData = (i: number) => {
    const k = keys[i % keys.length]!;
    return k === "address" ? { address: { city: `c${i % 50}`, line: `street ${i}` } } : { [k]: i % 17 === 0 ? null : `${k}-${i}` };
  };
  const append = async (from: number, to: number) => {
    const events = [];
    for (let i = from; i < to; i++) events.push({ aggregateId: "big", eventType: "changed", eventData: eventData(i) });
    const r = await http.post(`/api/v1/eventstores/default/${type}/events`, JSON.stringify({ events }));
    if (r.status !== 201) throw new Error(`prefill answered ${r.status}: ${r.text}`);
  };
  for (let i = 0; i < AGGREGATE - TAIL; i += 1000) await append(i, Math.min(i + 1000, AGGREGATE - TAIL));
  const snap = await http.post(`/api/v1/eventstores/default/${type}/aggregates/big/snapshots`, "{}");
  if (snap.status !== 201) throw new Error(`snapshot answered ${snap.status}: ${snap.text}`);
  await append(AGGREGATE - TAIL, AGGREGATE);

  const time = async (useSnapshots: boolean) => {
    const ms: number[] = [];
    let state = "";
    for (let run = 0; run < RUNS + 1; run++) {
      const r = await http.post(
        "/api/v1/event-sourcing/reconstruct",
        JSON.stringify({ aggregate_id: "big", aggregate_type: type, use_snapshots: useSnapshots }),
      );
      if (r.status !== 200) throw new Error(`reconstruct answered ${r.status}: ${r.text}`);
      const body = JSON.parse(r.text) as { current_version: number; state: unknown; events_replayed: number };
      if (body.current_version !== AGGREGATE) throw new Error(`reconstructed version ${body.current_version}`);
      state = JSON.stringify(body.state);
      if (run > 0) ms.push(r.ms);
    }
    return { ms: median(ms), state };
  };
  const full = await time(false);
  const fast = await time(true);
  if (full.state !== fast.state) throw new Error("the state from a snapshot differs from the full replay");
  return [
    { backend: "", measure: `reconstruct ${AGGREGATE} events, full replay (median of ${RUNS}, ms)`, value: full.ms.toFixed(1) },
    { backend: "", measure: `reconstruct ${AGGREGATE} events, snapshot + ${TAIL} later (median of ${RUNS}, ms)`, value: fast.ms.toFixed(1) },
  ];
}

async function withServer(backend: string, run: (http: BenchClient) => Promise<Row[]>): Promise<Row[]> {
  let store: StoreOptions;
  let cleanup: () => Promise<void>;
  if (backend === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "runnel-es-bench-"));
    store = { kind: "sqlite", dataDir: dir };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `runnel_es_bench_${randomBytes(4).toString("hex")}`;
    store = { kind: "postgres", url: PG_URL, schema };
    cleanup = async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    };
  }
  let server: ChildServer | undefined;
  try {
    server = await spawnServer(storeArgs(store));
    const http = createClient(server.url, Math.max(WRITERS, RACERS) + 4);
    try {
      return (await run(http)).map((r) => ({ ...r, backend }));
    } finally {
      http.close();
    }
  } finally {
    await server?.stop();
    await cleanup();
  }
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const rows: Row[] = [];
  for (const backend of BACKENDS) {
    if (backend === "postgres") {
      const problem = await postgresProblem();
      if (problem) {
        console.log(`# skipping PostgreSQL: ${problem}`);
        continue;
      }
    }
    console.error(`# ${backend}…`);
    rows.push(
      ...(await withServer(backend, async (http) => [
        ...(await appendsWithExpectedVersion(http, `accounts-${Date.now()}`)),
        ...(await racingWriters(http, `hot-${Date.now()}`)),
        ...(await reconstruction(http, `Big${Date.now()}`)),
      ])),
    );
  }
  const width = Math.max(...rows.map((r) => r.measure.length));
  for (const r of rows) console.log(`${r.backend.padEnd(9)} ${r.measure.padEnd(width)}  ${r.value}`);
}

await main();
