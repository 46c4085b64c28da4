// Summarises V8 .cpuprofile files (from BENCH_CPU_PROF) as the functions with the most self time.
// Usage: node --import tsx bench/profile-summary.ts <file-or-folder>... [--top N]
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function files(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory() ? files(readdirSync(p).map((f) => join(p, f))) : p.endsWith(".cpuprofile") ? [p] : [],
  );
}

function where(url: string, line: number): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  const nm = path.lastIndexOf("node_modules/");
  const short = nm >= 0 ? path.slice(nm + "node_modules/".length) : relative(process.cwd(), path);
  return `${short}:${line + 1}`;
}

/** Self time per function (ms), summed over every node with the same name and place. */
export function selfTimes(profile: Profile): { total: number; rows: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${where(url, lineNumber)}`.trim();
    self.set(key, (self.get(key) ?? 0) + ms);
    total += ms;
  });
  return { total, rows: [...self].sort((a, b) => b[1] - a[1]) };
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
const found = files(args.length > 0 ? args : ["bench/results"]);
if (found.length === 0) {
  console.error("no .cpuprofile files found; run the bench with BENCH_CPU_PROF=<folder> first");
  process.exitCode = 1;
}
for (const file of found) {
  const { total, rows } = selfTimes(JSON.parse(readFileSync(file, "utf8")) as Profile);
  const idle = rows.filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  console.log(`\n${file}: ${(total / 1000).toFixed(1)} s sampled, ${(((total - idle) / total) * 100).toFixed(0)}% busy`);
  for (const [name, ms] of rows.slice(0, top)) {
    console.log(`${ms.toFixed(0).padStart(8)} ms ${((ms / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
  }
}
