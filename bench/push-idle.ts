// Idle push connections: the server's memory per open WebSocket and SSE subscriber, and one append fanned out to all.
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchClient } from "./http-client.js";
import { now, openMany, openSseSubscriber, openWsSubscriber, type Pushed, type Subscriber } from "./push-clients.js";
import { Recorder } from "./stats.js";

/** What /proc says about a process: resident memory and open file descriptors. */
export interface ProcSample {
  rssKb: number;
  fds: number;
}

export function procSample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return { rssKb: rss ? Number(rss[1]) : NaN, fds: readdirSync(`/proc/${pid}/fd`).length };
}

/** CPU time (user + system) a process has used so far, in ms; /proc counts in clock ticks, usually 10 ms each. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name: state is field 3, utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The soft limit on open files of a process ("self" for this one). */
export function fdLimit(pid: number | "self"): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
  return m?.[1] === undefined || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

export interface IdleResult {
  requested: number;
  ws: number;
  sse: number;
  openFailures: number;
  openFailureSamples: string[];
  openSeconds: { ws: number; sse: number };
  fdLimit: { server: number; client: number };
  /** Server RSS (kB) and open descriptors: before, with the WebSockets open, with both open, and after closing all. */
  server: { before: ProcSample; afterWs: ProcSample; afterSse: ProcSample; afterClose: ProcSample };
  /** Server RSS growth per connection (kB). */
  perConnectionKb: { ws: number | null; sse: number | null; all: number | null };
  /** Connections that ended while they should have sat idle. */
  dropped: number;
  droppedSamples: string[];
  /** One append, measured from just before the POST to each subscriber's receipt (this process's clock). */
  fanout: {
    reached: number;
    of: number;
    appendMs: number;
    firstMs: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    lastMs: number | null;
    /** The last receipt of each kind: WebSockets subscribed first, so the server reaches them first. */
    lastWsMs: number | null;
    lastSseMs: number | null;
    /** Server CPU time from the POST until the last receipt (10 ms resolution): the server's share of the fan-out. */
    serverCpuMs: number;
  };
  stream: string;
  problems: string[];
}

const OPEN_CONCURRENCY = 64;
const SETTLE_MS = 1500;
const FANOUT_WAIT_MS = 10_000;

function perConnection(fromKb: number, toKb: number, n: number): number | null {
  return n > 0 ? Math.round(((toKb - fromKb) / n) * 10) / 10 : null;
}

/**
 * Opens `count` WebSocket and `count` SSE subscribers on one fresh stream and leaves them idle, reading the server's
 * RSS around each step; then one append must reach every one of them. Everything is closed before returning.
 */
export async function measureIdle(client: BenchClient, base: string, serverPid: number, count: number): Promise<IdleResult> {
  const stream = `push-idle-${randomBytes(4).toString("hex")}`;
  const problems: string[] = [];
  const limits = { server: fdLimit(serverPid), client: fdLimit("self") };
  // Each connection takes one descriptor on each side; leave room for the store, the listener and stdio.
  const room = Math.floor((Math.min(limits.server, limits.client) - 200) / 2);
  const n = Math.max(0, Math.min(count, room));
  if (n < count) problems.push(`opened ${n} of each kind instead of ${count}: the open-files limit (server ${limits.server}, bench ${limits.client}) leaves no room`);

  const fanoutMarks = new Map<Subscriber, number>();
  let marker = "";
  const open = (kind: "ws" | "sse") => async () => {
    // The callback needs the subscriber it belongs to, which exists only once the open resolved.
    const holder: { sub?: Subscriber } = {};
    const onEntry = (e: Pushed) => {
      const p = e.payload as { marker?: string } | null;
      if (holder.sub && marker !== "" && p?.marker === marker && !fanoutMarks.has(holder.sub)) fanoutMarks.set(holder.sub, e.at);
    };
    holder.sub = await (kind === "ws" ? openWsSubscriber : openSseSubscriber)(base, "default", stream, onEntry);
    return holder.sub;
  };

  const all: Subscriber[] = [];
  try {
    const before = procSample(serverPid);
    const ws = await openMany(n, OPEN_CONCURRENCY, open("ws"));
    all.push(...ws.opened);
    await sleep(SETTLE_MS);
    const afterWs = procSample(serverPid);
    const sse = await openMany(n, OPEN_CONCURRENCY, open("sse"));
    all.push(...sse.opened);
    await sleep(SETTLE_MS);
    const afterSse = procSample(serverPid);
    const failures = ws.failures + sse.failures;
    if (failures > 0) problems.push(`${failures} subscribers failed to open, e.g. ${[...ws.failureSamples, ...sse.failureSamples][0]}`);

    const dropped = all.filter((s) => s.closed !== undefined);
    if (dropped.length > 0) problems.push(`${dropped.length} idle subscribers were disconnected, e.g. ${dropped[0]!.closed}`);
    const live = all.filter((s) => s.closed === undefined);

    marker = `fanout-${randomBytes(4).toString("hex")}`;
    const cpuBefore = cpuMs(serverPid);
    const t0 = now();
    const reply = await client.post(`/stream/${stream}/add`, JSON.stringify({ marker, t: t0 }));
    if (reply.status !== 201) problems.push(`the fan-out append answered HTTP ${reply.status} ${reply.text}`);
    for (const deadline = performance.now() + FANOUT_WAIT_MS; fanoutMarks.size < live.length && performance.now() < deadline; ) await sleep(5);
    const serverCpu = cpuMs(serverPid) - cpuBefore;
    const lastOf = (kind: Subscriber["kind"]) => {
      const ats = [...fanoutMarks].filter(([s]) => s.kind === kind).map(([, at]) => at - t0);
      return ats.length > 0 ? Math.max(...ats) : null;
    };
    const times = new Recorder();
    for (const at of fanoutMarks.values()) times.latency(at - t0);
    const [p50, p99, last] = times.percentiles(0.5, 0.99, 1);
    const first = fanoutMarks.size > 0 ? Math.min(...fanoutMarks.values()) - t0 : null;
    if (fanoutMarks.size < live.length) {
      const missedWs = live.filter((s) => s.kind === "ws" && !fanoutMarks.has(s)).length;
      problems.push(
        `the fan-out append reached ${fanoutMarks.size} of ${live.length} subscribers within ${FANOUT_WAIT_MS} ms (missed: ${missedWs} WebSocket, ${live.length - fanoutMarks.size - missedWs} SSE)`,
      );
    }
    for (const s of all) if (s.oddities.length > 0) problems.push(`a ${s.kind} subscriber got: ${s.oddities[0]}`);

    for (const s of all) s.close();
    all.length = 0;
    // The server notices the closes asynchronously; give it a moment before checking its descriptors.
    let afterClose = procSample(serverPid);
    for (const deadline = performance.now() + 5000; afterClose.fds > before.fds + 5 && performance.now() < deadline; ) {
      await sleep(100);
      afterClose = procSample(serverPid);
    }
    if (afterClose.fds > before.fds + 5) {
      problems.push(`the server still holds ${afterClose.fds} descriptors 5 s after every subscriber closed (${before.fds} before they opened)`);
    }

    const rnd = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
    return {
      requested: count,
      ws: ws.opened.length,
      sse: sse.opened.length,
      openFailures: failures,
      openFailureSamples: [...ws.failureSamples, ...sse.failureSamples].slice(0, 5),
      openSeconds: { ws: rnd(ws.seconds)!, sse: rnd(sse.seconds)! },
      fdLimit: limits,
      server: { before, afterWs, afterSse, afterClose },
      perConnectionKb: {
        ws: perConnection(before.rssKb, afterWs.rssKb, ws.opened.length),
        sse: perConnection(afterWs.rssKb, afterSse.rssKb, sse.opened.length),
        all: perConnection(before.rssKb, afterSse.rssKb, ws.opened.length + sse.opened.length),
      },
      dropped: dropped.length,
      droppedSamples: dropped.slice(0, 5).map((s) => s.closed!),
      fanout: { reached: fanoutMarks.size, of: live.length, appendMs: rnd(reply.ms)!, firstMs: rnd(first), p50Ms: rnd(p50), p99Ms: rnd(p99), lastMs: rnd(last),
        lastWsMs: rnd(lastOf("ws")),
        lastSseMs: rnd(lastOf("sse")),
        serverCpuMs: serverCpu,
      },
      stream,
      problems,
    };
  } finally {
    for (const s of all) s.close();
  }
}
