// Appends to one stream that arrive while its unit of work waits for the writer join that unit: one stream
// lock, one stream-row update and full multi-row inserts for all of them, instead of a unit each.
import type { AppendResult, NewEntry } from "../core/types.js";
import { CommitUncertain } from "../storage/index.js";
import { appendInTx } from "./append.js";
import type { EngineContext } from "./context.js";

interface Request {
  entries: readonly NewEntry[];
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/**
 * Only entries that cannot be refused share a unit: an explicit id may be too low, an explicit partition out of
 * range, and an idempotency key makes an entry depend on the ones before it. Such requests get a unit of their
 * own, so one bad request never fails its neighbours.
 */
export function canShare(entries: readonly NewEntry[]): boolean {
  for (const e of entries) {
    if (e.id !== undefined || e.partition !== undefined || (e.messageId !== undefined && e.messageId !== null)) return false;
  }
  return true;
}

/** Most entries one shared unit takes; past it, the next request starts a unit of its own. */
export const MAX_SHARED_ENTRIES = 10_000;

/** The requests that will share one unit of work, open to more until that unit starts. */
interface Batch {
  requests: Request[];
  entries: number;
}

export class AppendCoalescer {
  /** The batch still open for each stream, by `namespace/stream`. */
  private readonly open = new Map<string, Batch>();

  constructor(private readonly ctx: EngineContext) {}

  /** Appends `entries` (which must pass `canShare`) to the stream, together with whatever else is waiting for it. */
  append(namespace: string, name: string, entries: readonly NewEntry[]): Promise<AppendResult[]> {
    const key = `${namespace}/${name}`;
    return new Promise<AppendResult[]>((resolve, reject) => {
      let batch = this.open.get(key);
      if (batch === undefined || batch.entries + entries.length > MAX_SHARED_ENTRIES) {
        batch = { requests: [], entries: 0 };
        this.open.set(key, batch);
        void this.submit(key, batch, namespace, name);
      }
      batch.requests.push({ entries, resolve, reject });
      batch.entries += entries.length;
    });
  }

  private async submit(key: string, batch: Batch, namespace: string, name: string): Promise<void> {
    const { requests } = batch;
    try {
      const outcome = await this.ctx.store.write((tx) => {
        // From here on the batch is closed: later requests open the next one. A re-run sees the same requests.
        if (this.open.get(key) === batch) this.open.delete(key);
        return appendInTx(tx, namespace, name, requests.flatMap((r) => r.entries), this.ctx.clock.now());
      });
      if (outcome.stored > 0) this.ctx.changed(namespace, name);
      let at = 0;
      for (const r of requests) {
        r.resolve(outcome.results.slice(at, at + r.entries.length));
        at += r.entries.length;
      }
    } catch (error) {
      if (this.open.get(key) === batch) this.open.delete(key);
      // The database may refuse one request's value (PostgreSQL: a NUL in a text, a number out of range):
      // then each request runs alone, so only that one fails. Not when the commit's outcome is unknown:
      // running them again could store them twice.
      if (requests.length > 1 && !(error instanceof CommitUncertain)) {
        for (const r of requests) this.alone(namespace, name, r);
        return;
      }
      for (const r of requests) r.reject(error);
    }
  }

  private alone(namespace: string, name: string, request: Request): void {
    this.ctx.store
      .write((tx) => appendInTx(tx, namespace, name, request.entries, this.ctx.clock.now()))
      .then((outcome) => {
        if (outcome.stored > 0) this.ctx.changed(namespace, name);
        request.resolve(outcome.results);
      }, request.reject);
  }
}
