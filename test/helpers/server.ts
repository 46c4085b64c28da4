// Real Runnel servers for tests: in-process on a loopback port, or as a child process that can be killed.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startServer, type RunningServer, type ServerOptions } from "../../src/api/server.js";
import type { StoreOptions } from "../../src/storage/index.js";

export const MAIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** An in-process server on 127.0.0.1 with a random free port. */
export function startTestServer(store: StoreOptions, options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({ store, port: 0, host: "127.0.0.1", logLevel: "warn", ...options });
}

export interface ChildServer {
  url: string;
  proc: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the process to exit; answers its exit code (null when killed by the signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Arguments for `runnel serve` that point at the given store. */
export function storeArgs(store: StoreOptions): string[] {
  if (store.kind === "sqlite") return ["--store", "sqlite", "--data", store.dataDir];
  return ["--store", "postgres", "--database-url", store.url, "--schema", store.schema ?? "runnel"];
}

/** Starts `node dist/cli/main.js serve` and resolves once it listens. */
export function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const proc = spawn(process.execPath, [MAIN, "serve", "--host", "127.0.0.1", "--log-level", "warn", ...args], {
    env: { ...process.env, RUNNEL_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 15 s:\n${err}`)), 15_000);
    proc.stderr!.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          proc,
          stderr: () => err,
          async stop(signal = "SIGTERM") {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    });
    proc.stdout!.resume();
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${err}`));
    });
  });
}
