// The `runnel` command as a child process (node dist/cli/main.js), for the CLI tests.
import { spawn } from "node:child_process";
import { MAIN } from "./server.js";

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `runnel ...args` (with RUNNEL_URL when `url` is given); its stdin is the caller's to write and end. */
export function startRunnel(args: string[], url?: string) {
  const env = { ...process.env, ...(url === undefined ? {} : { RUNNEL_URL: url }) };
  const proc = spawn(process.execPath, [MAIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
  const run: Run = { code: null, stdout: "", stderr: "" };
  proc.stdout.on("data", (c: Buffer) => (run.stdout += c.toString()));
  proc.stderr.on("data", (c: Buffer) => (run.stderr += c.toString()));
  const closed = new Promise<Run>((resolve, reject) => {
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ ...run, code }));
  });
  return { proc, run, closed };
}

/** Runs `runnel ...args` to its end, feeding `input` to stdin. */
export function runnel(args: string[], options: { input?: string; url?: string } = {}): Promise<Run> {
  const { proc, closed } = startRunnel(args, options.url);
  proc.stdin.end(options.input ?? "");
  return closed;
}

/** The non-empty lines of a command's output. */
export const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");
