// The CLI tests run dist/: build it when a source file is newer, and only then. `npm test` builds before it
// starts, and test files run two at a time: a second build while another file's CLI processes start from dist/
// would hand them half-written files.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(ROOT, "dist/cli/main.js")).mtimeMs;
  } catch {
    // not built yet
  }
  if (built < newest(join(ROOT, "src"))) execFileSync("npm", ["run", "build", "--silent"], { cwd: ROOT, stdio: "inherit" });
}
