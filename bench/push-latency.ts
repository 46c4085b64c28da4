// Append → WebSocket delivery latency under an open-loop producer paced at a fixed rate.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchClient } from "./http-client.js";
import { now, openWsSubscriber, type Pushed, type Subscriber } from "./push-clients.js";
import { Recorder } from "./stats.js";

export interface LatencyOptions {
  /** Entries per second the producer aims at. */
  rate: number;
  seconds: number;
  /** Entries per request: 1 sends POST /stream/:s/add, more sends POST /stream/:s/entries batches. */
  perRequest: number;
  subscribers: number;
  payloadBytes: number;
}

export interface LatencyResult {
  targetRate: number;
  /** Entries the server accepted (201) per second of the send window. */
  appendedPerSec: number;
  /** Unique entries one subscriber received per second, from the first send to its last receipt (the slowest one). */
  deliveredPerSec: number;
  seconds: number;
  appended: number;
  /** Unique entries received, summed over subscribers (expected: appended × subscribers). */
  delivered: number;
  /** Appended entries some subscriber never got within the drain time, summed over subscribers. */
  missing: number;
  duplicates: number;
  /** Deliveries whose id was not above the subscriber's previous one. */
  outOfOrder: number;
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  maxMs: number | null;
  /** How far, at worst, the producer fell behind its schedule (ms of entries due but not yet sent). */
  producerLagMaxMs: number;
  /** Per second of the run (by send time): deliveries and their worst latency, to show whether slow ones cluster. */
  perSecond: { deliveries: number; maxMs: number }[];
  /** Append request round trips, for comparison with delivery. */
  appendP50Ms: number | null;
  appendP99Ms: number | null;
  requests: number;
  errors: number;
  errorSamples: string[];
  via: string;
  subscribers: number;
  perRequest: number;
  stream: string;
  problems: string[];
}

/** Requests the producer lets wait for an answer at once; past it the producer falls behind and says so. */
const MAX_IN_FLIGHT = 2000;
/** How long subscribers may take to receive the last entries after the producer stopped. */
const DRAIN_MS = 5000;

function idAbove(a: string, b: string): boolean {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am > bm || (am === bm && as > bs);
}

/** What one subscriber saw, indexed by the producer's sequence number. */
class Tally {
  readonly seen: Uint8Array;
  unique = 0;
  duplicates = 0;
  outOfOrder = 0;
  lastId = "0-0";
  lastAt = 0;

  constructor(size: number) {
    this.seen = new Uint8Array(size);
  }
}

/**
 * Runs one rate: subscribes `subscribers` WebSockets to a fresh stream, appends `rate × seconds` entries on schedule
 * (each payload carries its send time `t`), then waits for the subscribers to catch up.
 */
export async function measureLatency(client: BenchClient, base: string, options: LatencyOptions): Promise<LatencyResult> {
  const { rate, seconds, perRequest, payloadBytes } = options;
  const stream = `push-latency-${rate}-${randomBytes(4).toString("hex")}`;
  const total = Math.max(1, Math.round(rate * seconds));
  const latency = new Recorder();
  const appends = new Recorder();
  const problems: string[] = [];
  const tallies: Tally[] = [];
  const subs: Subscriber[] = [];
  const perSecond = Array.from({ length: Math.ceil(seconds) + 6 }, () => ({ deliveries: 0, maxMs: 0 }));
  let firstSendAt = Infinity;

  const onEntry = (tally: Tally) => (e: Pushed) => {
    const p = e.payload as { t?: number; seq?: number } | null;
    if (typeof p?.t !== "number" || typeof p.seq !== "number" || p.seq < 0 || p.seq >= total) return;
    const ms = e.at - p.t;
    latency.latency(ms);
    const bucket = perSecond[Math.min(perSecond.length - 1, Math.max(0, Math.floor((p.t - firstSendAt) / 1000)))]!;
    bucket.deliveries++;
    bucket.maxMs = Math.max(bucket.maxMs, ms);
    if (tally.seen[p.seq]) tally.duplicates++;
    else {
      tally.seen[p.seq] = 1;
      tally.unique++;
    }
    if (!idAbove(e.messageId, tally.lastId)) tally.outOfOrder++;
    tally.lastId = e.messageId;
    tally.lastAt = e.at;
  };

  try {
    for (let i = 0; i < options.subscribers; i++) {
      const tally = new Tally(total);
      tallies.push(tally);
      subs.push(await openWsSubscriber(base, "default", stream, onEntry(tally)));
    }

    // Every field but `t` and `seq` is fixed, so the padding is worked out once.
    const sample = JSON.stringify({ t: now(), seq: total, src: "runnel-bench-push", pad: "" });
    const pad = "x".repeat(Math.max(0, payloadBytes - sample.length));
    const body = (seq: number, t: number) => `{"t":${t.toFixed(3)},"seq":${seq},"src":"runnel-bench-push","pad":"${pad}"}`;
    const accepted = new Uint8Array(total);
    let appended = 0;
    let inFlight = 0;
    let sent = 0;
    let lagMaxMs = 0;

    const send = (first: number, n: number): void => {
      const t = now();
      const path = n === 1 ? `/stream/${stream}/add` : `/stream/${stream}/entries`;
      const text =
        n === 1 ? body(first, t) : `{"entries":[${Array.from({ length: n }, (_, i) => `{"payload":${body(first + i, t)}}`).join(",")}]}`;
      inFlight++;
      client
        .post(path, text)
        .then((reply) => {
          appends.latency(reply.ms);
          if (reply.status !== 201) {
            appends.error(`HTTP ${reply.status} ${reply.text}`);
            return;
          }
          for (let i = 0; i < n; i++) accepted[first + i] = 1;
          appended += n;
        })
        .catch((error: unknown) => appends.error((error as Error).message))
        .finally(() => inFlight--);
    };

    // Open loop: each tick sends whatever the schedule says is due, in requests of `perRequest`, without waiting
    // for earlier answers. Ticks are as long as one request's worth of entries, at least 1 ms.
    const tickMs = Math.max(1, (perRequest * 1000) / rate);
    const started = performance.now();
    firstSendAt = performance.timeOrigin + started;
    const stopBy = started + seconds * 1000 + 5000;
    while (sent < total && performance.now() < stopBy) {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((rate * elapsed) / 1000));
      while (sent < due && (due - sent >= perRequest || due === total) && inFlight < MAX_IN_FLIGHT) {
        const n = Math.min(perRequest, due - sent);
        send(sent, n);
        sent += n;
      }
      lagMaxMs = Math.max(lagMaxMs, ((due - sent) * 1000) / rate);
      await sleep(tickMs);
    }
    const sendSeconds = (performance.now() - started) / 1000;
    if (sent < total) problems.push(`the producer sent ${sent} of ${total} entries before giving up (server too slow to keep ${MAX_IN_FLIGHT} requests in flight)`);
    for (const deadline = performance.now() + 30_000; inFlight > 0 && performance.now() < deadline; ) await sleep(5);

    const drainBy = performance.now() + DRAIN_MS;
    while (tallies.some((t) => t.unique < appended) && performance.now() < drainBy) await sleep(10);

    let missing = 0;
    for (const tally of tallies) for (let s = 0; s < total; s++) if (accepted[s] && !tally.seen[s]) missing++;
    const delivered = tallies.reduce((n, t) => n + t.unique, 0);
    const duplicates = tallies.reduce((n, t) => n + t.duplicates, 0);
    const outOfOrder = tallies.reduce((n, t) => n + t.outOfOrder, 0);
    const lastAt = Math.max(...tallies.map((t) => t.lastAt));
    const slowest = Math.min(...tallies.map((t) => t.unique));
    if (missing > 0) problems.push(`${missing} appended entries never reached a subscriber within ${DRAIN_MS} ms after the last append`);
    if (duplicates > 0) problems.push(`${duplicates} entries were pushed twice to the same subscriber`);
    if (outOfOrder > 0) problems.push(`${outOfOrder} pushes arrived with an id not above the previous one`);
    for (const s of subs) {
      if (s.closed) problems.push(`a WebSocket subscriber was disconnected during the run: ${s.closed}`);
      if (s.oddities.length > 0) problems.push(`a WebSocket subscriber got: ${s.oddities[0]}`);
    }
    if (lagMaxMs > 100) problems.push(`the producer fell up to ${lagMaxMs.toFixed(0)} ms behind schedule: the rate was not held`);

    const [p50, p99, p999, max] = latency.percentiles(0.5, 0.99, 0.999, 1);
    const [a50, a99] = appends.percentiles(0.5, 0.99);
    return {
      targetRate: rate,
      appendedPerSec: Math.round(appended / sendSeconds),
      deliveredPerSec: lastAt > firstSendAt ? Math.round(slowest / ((lastAt - firstSendAt) / 1000)) : 0,
      seconds: Math.round(sendSeconds * 1000) / 1000,
      appended,
      delivered,
      missing,
      duplicates,
      outOfOrder,
      p50Ms: round(p50),
      p99Ms: round(p99),
      p999Ms: round(p999),
      maxMs: round(max),
      perSecond: perSecond.filter((b) => b.deliveries > 0).map((b) => ({ deliveries: b.deliveries, maxMs: Math.round(b.maxMs * 10) / 10 })),
      producerLagMaxMs: Math.round(lagMaxMs * 100) / 100,
      appendP50Ms: round(a50),
      appendP99Ms: round(a99),
      requests: appends.samples,
      errors: appends.errors,
      errorSamples: appends.errorSamples,
      via: perRequest === 1 ? "POST /add → WS" : `POST /entries (${perRequest}) → WS`,
      subscribers: options.subscribers,
      perRequest,
      stream,
      problems,
    };
  } finally {
    for (const s of subs) s.close();
  }
}

function round(n: number | null | undefined): number | null {
  return n === null || n === undefined ? null : Math.round(n * 100) / 100;
}
