// `npm run bench:sdk`: what an application sees through the SDK, against a Runnel child process on SQLite
// (full durability): the producer's publish rate, and a worker's rate with a handler that does nothing, for a
// few concurrency and prefetch settings. The same ~200-byte payloads as `npm run bench`.
//
//   SDK_COUNT (20000)    entries published, then consumed by each worker setting (each in a group of its own)
import { RunnelClient } from "../src/client/index.js";
import { resolveBenchConfig } from "./config.js";
import { startNodes } from "./nodes.js";
import { payload } from "./scenarios.js";

const count = Number(process.env.SDK_COUNT ?? 20_000);
if (!Number.isInteger(count) || count < 100) throw new Error("SDK_COUNT must be an integer of at least 100");

const PRODUCERS = [{ maxBatch: 100 }, { maxBatch: 1000 }];
const WORKERS = [
  { concurrency: 1 },
  { concurrency: 16 },
  { concurrency: 16, prefetch: 16 },
  { concurrency: 1, prefetch: 100 },
  { concurrency: 16, prefetch: 100 },
  { concurrency: 16, prefetch: 1000 },
];

function rate(n: number, started: number): string {
  return `${Math.round(n / ((performance.now() - started) / 1000)).toLocaleString("en").padStart(7)} msgs/s`;
}

function describe(options: object): string {
  return Object.entries(options)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
}

await using nodes = await startNodes("sqlite-full", resolveBenchConfig());
const client = new RunnelClient({ url: nodes.nodes[0]!.url });
console.log(`# SDK against a Runnel child process (${nodes.describe}), ${count.toLocaleString("en")} entries of ~200 bytes`);

for (const options of PRODUCERS) {
  const producer = client.producer("sdk-bench", options);
  const started = performance.now();
  await Promise.all(Array.from({ length: count }, (_, i) => producer.publish(payload(200, 0, i))));
  await producer.close();
  console.log(`producer.publish, ${describe(options).padEnd(32)} ${rate(count, started)}  (${producer.requests} requests)`);
}

for (const [i, options] of WORKERS.entries()) {
  // Each setting reads the stream from the start in a group of its own: the first `count` entries.
  const started = performance.now();
  const worker = client.worker("sdk-bench", `g${i}`, "w1", () => undefined, { ...options, startId: "0" });
  while (worker.processed < count) await new Promise((resolve) => setTimeout(resolve, 2));
  const line = `worker, ${describe(options).padEnd(39)} ${rate(count, started)}`;
  await worker.stop();
  console.log(line);
}
