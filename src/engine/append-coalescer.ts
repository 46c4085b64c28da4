// Appends to one stream that arrive while its unit of work waits for the writer join that unit: one stream
// lock, one stream-row update and full multi-row inserts for all of them, instead of a unit each.
import type { AppendResult, NewEntry } from "../core/types.js";
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

export class AppendCoalescer {
  /** Requests waiting for the unit already submitted for their stream, by `namespace/stream`. */
  private readonly waiting = new Map<string, Request[]>();

  constructor(private readonly ctx: EngineContext) {}

  /** Appends `entries` (which must pass `canShare`) to the stream, together with whatever else is waiting for it. */
  append(namespace: string, name: string, entries: readonly NewEntry[]): Promise<AppendResult[]> {
    const key = `${namespace}/${name}`;
    return new Promise<AppendResult[]>((resolve, reject) => {
      const queue = this.waiting.get(key);
      if (queue) {
        queue.push({ entries, resolve, reject });
        return;
      }
      this.waiting.set(key, [{ entries, resolve, reject }]);
      void this.submit(key, namespace, name);
    });
  }

  private async submit(key: string, namespace: string, name: string): Promise<void> {
    // Taken when the unit first runs, so that everything that queued meanwhile joins; kept for a re-run.
    let requests: Request[] | undefined;
    const take = (): Request[] => {
      if (requests === undefined) {
        requests = this.waiting.get(key) ?? [];
        this.waiting.delete(key);
      }
      return requests;
    };
    try {
      const outcome = await this.ctx.store.write((tx) =>
        appendInTx(tx, namespace, name, take().flatMap((r) => r.entries), this.ctx.clock.now()),
      );
      if (outcome.stored > 0) this.ctx.changed(namespace, name);
      let at = 0;
      for (const r of take()) {
        r.resolve(outcome.results.slice(at, at + r.entries.length));
        at += r.entries.length;
      }
    } catch (error) {
      for (const r of take()) r.reject(error);
    }
  }
}
