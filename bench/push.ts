// The push section of `npm run bench`: append → WebSocket latency at paced rates, then idle WebSocket and SSE
// connections (server memory per connection, one append fanned out to all), on SQLite with durability full.
import type { BenchConfig } from "./config.js";
import { createClient } from "./http-client.js";
import { startNodes, type NodeSet } from "./nodes.js";
import { measureIdle, procSample, type IdleResult, type ProcSample } from "./push-idle.js";
import { measureLatency, type LatencyResult } from "./push-latency.js";

/** The push section of the results file. */
export interface PushReport {
  backend: "sqlite-full";
  describe: string;
  /** Warm-up, then the rates in order; the first entry is the warm-up and is not in the table. */
  latency: LatencyResult[];
  idle: IdleResult | null;
  /** The server's RSS and descriptors when the section started and ended. */
  server: { start: ProcSample; end: ProcSample | null };
  problems: string[];
}

/** Above this rate the producer batches: one POST per entry would measure the load generator, not the server. */
const SINGLE_APPEND_MAX_RATE = 1000;

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs the section on a fresh SQLite (full durability) server child process; `track` sees it for Ctrl-C. */
export async function benchPush(config: BenchConfig, track: (nodes: NodeSet | undefined) => void): Promise<PushReport> {
  const push = config.push;
  const nodes = await startNodes("sqlite-full", config);
  track(nodes);
  const node = nodes.nodes[0]!;
  const pid = node.proc.pid!;
  const client = createClient(node.url, 64);
  const report: PushReport = { backend: "sqlite-full", describe: nodes.describe, latency: [], idle: null, server: { start: procSample(pid), end: null }, problems: [] };
  try {
    log(`# push on sqlite-full: ${nodes.describe} (${node.url}), server pid ${pid}`);
    // Idle first, on a server that has seen no traffic, so its baseline RSS is not mixed with the latency runs' garbage.
    if (push.idleConnections > 0) {
      const idle = await measureIdle(client, node.url, pid, push.idleConnections);
      report.idle = idle;
      const s = idle.server;
      log(
        `  idle: ${idle.ws} WS + ${idle.sse} SSE (opened in ${idle.openSeconds.ws} s + ${idle.openSeconds.sse} s), server RSS ` +
          `${mb(s.before.rssKb)} → ${mb(s.afterWs.rssKb)} → ${mb(s.afterSse.rssKb)} MB, after close ${mb(s.afterClose.rssKb)} MB; ` +
          `fan-out ${idle.fanout.reached}/${idle.fanout.of} in ${idle.fanout.lastMs ?? "-"} ms${idle.problems.length ? `  ! ${idle.problems.join("; ")}` : ""}`,
      );
    }
    const phases = [{ rate: SINGLE_APPEND_MAX_RATE, seconds: 1, warmup: true }, ...push.rates.map((rate) => ({ rate, seconds: push.secondsPerRate, warmup: false }))];
    for (const phase of phases) {
      if (nodes.crashed()) break;
      const r = await measureLatency(client, node.url, {
        rate: phase.rate,
        seconds: phase.seconds,
        perRequest: phase.rate <= SINGLE_APPEND_MAX_RATE ? 1 : push.batch,
        subscribers: push.subscribers,
        payloadBytes: config.payloadBytes,
      });
      report.latency.push(r);
      log(
        `  ${phase.warmup ? "warm-up " : ""}${r.via} at ${r.targetRate}/s: ${r.appendedPerSec} appended/s, p50 ${r.p50Ms} p99 ${r.p99Ms} max ${r.maxMs} ms ` +
          `(append p50 ${r.appendP50Ms} p99 ${r.appendP99Ms} ms; ${r.delivered} deliveries to ${r.subscribers}, ${r.errors} errors, RSS ${mb(procSample(pid).rssKb)} MB; ` +
          `worst per second ${r.perSecond.map((b) => Math.round(b.maxMs)).join(" ")})${r.problems.length ? `  ! ${r.problems.join("; ")}` : ""}`,
      );
    }
    report.server.end = procSample(pid);
  } finally {
    client.close();
    await nodes[Symbol.asyncDispose]();
    track(undefined);
  }
  const complaints = nodes.complaints();
  if (complaints.length > 0) report.problems.push(`the server wrote ${complaints.length} line(s) to stderr, first: ${complaints.slice(0, 3).join(" | ")}`);
  const crash = nodes.crashed();
  if (crash) report.problems.push(crash);
  for (const r of report.latency.slice(1)) {
    for (const p of r.problems) report.problems.push(`ws-latency ${r.targetRate}/s: ${p}`);
    if (r.errors > 0) report.problems.push(`ws-latency ${r.targetRate}/s: ${r.errors} failed appends, e.g. ${r.errorSamples[0]}`);
  }
  for (const p of report.idle?.problems ?? []) report.problems.push(`idle: ${p}`);
  return report;
}

function mb(kb: number): string {
  return (kb / 1024).toFixed(1);
}

const fmt = (n: number | null | undefined, digits = 1) => (n === null || n === undefined ? "-" : n.toFixed(digits));

/** The push section as plain text: latency rows shaped like the main table, then the idle-connection figures. */
export function formatPushSection(report: PushReport): string {
  const header = ["push scenario", "backend", "msgs/s", "p50 ms", "p99 ms", "max ms", "latency of", "msgs", "errors"];
  const body = report.latency.slice(1).map((r) => [
    `ws-latency ${r.targetRate.toLocaleString("en-US")}/s`,
    report.backend,
    r.appendedPerSec.toLocaleString("en-US"),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    fmt(r.maxMs),
    `${r.via} (${r.subscribers} subs)`,
    r.appended.toLocaleString("en-US"),
    String(r.errors) + (r.problems.length > 0 ? " !" : ""),
  ]);
  const idle = report.idle;
  if (idle) {
    body.push([
      "idle-fanout",
      report.backend,
      "-",
      fmt(idle.fanout.p50Ms),
      fmt(idle.fanout.p99Ms),
      fmt(idle.fanout.lastMs),
      `POST /add → ${idle.ws} WS + ${idle.sse} SSE`,
      `${idle.fanout.reached.toLocaleString("en-US")}/${idle.fanout.of.toLocaleString("en-US")}`,
      String(idle.openFailures) + (idle.problems.length > 0 ? " !" : ""),
    ]);
  }
  const numeric = new Set([2, 3, 4, 5, 7, 8]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  const lines = [
    `push: SQLite, durability full (${report.describe}), one server child process, loopback; latency = WebSocket receipt − send time in the payload, same clock`,
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...body.map(line),
  ];
  if (idle) {
    const s = idle.server;
    lines.push(
      `idle connections: ${idle.ws.toLocaleString("en-US")} WebSocket + ${idle.sse.toLocaleString("en-US")} SSE subscribers (open-files limit: server ${idle.fdLimit.server}, bench ${idle.fdLimit.client})`,
      `  server RSS ${mb(s.before.rssKb)} MB → ${mb(s.afterWs.rssKb)} MB with the WebSockets → ${mb(s.afterSse.rssKb)} MB with the SSE streams too; ` +
        `${fmt(idle.perConnectionKb.ws)} kB per WebSocket, ${fmt(idle.perConnectionKb.sse)} kB per SSE, ${fmt(idle.perConnectionKb.all)} kB overall`,
      `  after closing all: RSS ${mb(s.afterClose.rssKb)} MB, ${s.afterClose.fds} descriptors (${s.before.fds} before); ${idle.dropped} dropped while idle`,
      `  fan-out of one append: first ${fmt(idle.fanout.firstMs)} ms, last WebSocket ${fmt(idle.fanout.lastWsMs)} ms, last SSE ${fmt(idle.fanout.lastSseMs)} ms after the POST ` +
        `(append itself ${fmt(idle.fanout.appendMs)} ms; server CPU ${idle.fanout.serverCpuMs} ms; receipts timed by one single-threaded client)`,
      `  RSS counts garbage not yet collected (the server runs without --expose-gc), so per-connection figures are approximate`,
    );
  }
  if (body.some((row) => row[8]!.endsWith("!"))) lines.push("! see the problems listed below");
  return lines.join("\n");
}
