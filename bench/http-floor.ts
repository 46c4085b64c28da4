// Runs the HTTP scenarios against bench/http-floor-server.ts: the rate the load generator reaches when the server
// does no work beyond node:http and JSON, i.e. the ceiling any Node HTTP server (Runnel included) meets here.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import { probeOf } from "./cpu.js";
import { createClient } from "./http-client.js";
import { appendBatch, appendOne, groupReadAck, type Target } from "./scenarios.js";
import type { ScenarioResult } from "./stats.js";

/** How `npm run bench` names the floor in its tables. */
export const HTTP_FLOOR_SYSTEM = "http floor (no storage)" as const;

const SERVER = fileURLToPath(new URL("./http-floor-server.ts", import.meta.url));
const START_TIMEOUT_MS = 10_000;

/**
 * Starts a floor server (`server`, a script that prints `listening <port>`) as a child process, with its own event
 * loop as Runnel's servers have; answers its address on the loopback.
 */
export function startFloor(server: string, payloadBytes: number): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...process.execArgv, server, String(payloadBytes)], { stdio: ["ignore", "pipe", "inherit"] });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${server} did not listen within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({ port: Number(port), pid: child.pid!, stop });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${server} exited with ${code} before listening`));
    });
  });
}

/** The three HTTP scenarios against the floor server, with the comparison section's time cap. */
export async function benchHttpFloor(config: BenchConfig, log: (message: string) => void): Promise<{ server: null; rows: ScenarioResult[] }> {
  const floor = await startFloor(SERVER, config.payloadBytes);
  const url = `http://127.0.0.1:${floor.port}`;
  const sockets = Math.max(config.appendOne.concurrency, config.appendBatch.concurrency, config.groupRead.consumers, 4);
  const client = createClient(url, sockets);
  const capped = { ...config, maxSeconds: config.compare.maxSeconds };
  const target: Target = { backend: HTTP_FLOOR_SYSTEM, clients: [client], cpu: probeOf(() => [floor.pid]) };
  try {
    log(`# ${HTTP_FLOOR_SYSTEM}: node:http answering Runnel's routes from counters, at ${url}`);
    await appendOne(target, capped, config.warmupRequests);
    await groupReadAck(target, capped, config.warmupRequests);
    const rows = [await appendOne(target, capped), await appendBatch(target, capped), await groupReadAck(target, capped)];
    return { server: null, rows };
  } finally {
    client.close();
    await floor.stop();
  }
}
