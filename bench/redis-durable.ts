// A private Redis that syncs its append-only file on every write, so Runnel's synced commits meet a Redis as durable.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";

/** How `npm run bench` names this Redis in its tables. */
export const DURABLE_REDIS_SYSTEM = "redis aof-always" as const;

export interface DurableRedis extends AsyncDisposable {
  url: string;
}

const START_TIMEOUT_MS = 5000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));
}

/** Answers why no private Redis can be started here (no redis-server on the PATH), or undefined. */
export async function durableRedisProblem(): Promise<string | undefined> {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8", timeout: 5000 });
  if (probe.error) return `redis-server cannot be run: ${probe.error.message}`;
  return probe.status === 0 ? undefined : `redis-server --version exited with ${probe.status}`;
}

/**
 * Starts `redis-server` on a free loopback port with `appendonly yes` and `appendfsync always` in a temporary
 * folder, or answers why it cannot (no binary on this machine, or it did not come up).
 */
export async function startDurableRedis(): Promise<DurableRedis | string> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "runnel-bench-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes"];
  args.push("--appendfsync", "always", "--logfile", "", "--loglevel", "warning", "--daemonize", "no");
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let failure: string | undefined;
  child.once("error", (error) => (failure = error.message));
  child.stderr?.on("data", (chunk: Buffer) => (failure ??= chunk.toString().trim()));
  const url = `redis://127.0.0.1:${port}`;
  // If the bench exits early (Ctrl-C, a crash), the server and its folder go with it.
  const onExit = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);
  const stop = async () => {
    process.removeListener("exit", onExit);
    // A child that never started (no redis-server on the PATH) has no pid and sends no exit.
    if (child.pid !== undefined) {
      child.kill("SIGTERM");
      await exited(child);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answers(url))) {
    if (failure !== undefined || child.exitCode !== null || Date.now() > deadline) {
      await stop();
      return `redis-server did not start: ${failure ?? (child.exitCode !== null ? `exit code ${child.exitCode}` : "no answer in 5 s")}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url, [Symbol.asyncDispose]: stop };
}
