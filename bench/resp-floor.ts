// Runs the Redis workloads of bench/redis.ts against bench/resp-floor-server.ts: the rate ioredis reaches when the
// server does no work beyond reading and writing the Redis protocol in Node, i.e. the ceiling any Node server
// speaking RESP (Runnel's --resp-port included) meets here.
import { fileURLToPath } from "node:url";
import type { BenchConfig } from "./config.js";
import { startFloor } from "./http-floor.js";
import { benchResp, type RedisRun } from "./redis.js";

/** How `npm run bench` names the RESP floor in its tables. */
export const RESP_FLOOR_SYSTEM = "resp floor (no storage)" as const;

const SERVER = fileURLToPath(new URL("./resp-floor-server.ts", import.meta.url));

export async function benchRespFloor(config: BenchConfig, log: (message: string) => void): Promise<RedisRun> {
  const floor = await startFloor(SERVER, config.payloadBytes);
  try {
    return await benchResp(`redis://127.0.0.1:${floor.port}`, RESP_FLOOR_SYSTEM, config, log, floor.pid);
  } finally {
    await floor.stop();
  }
}
