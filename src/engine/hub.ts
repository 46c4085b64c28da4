// Wakes readers that wait on a stream when something they may want was committed.

type Waiter = () => void;

export class Hub {
  private readonly waiters = new Map<string, Set<Waiter>>();
  /** Grows on every notify of a key; a reader notes it before reading so a wake-up during the read is not lost. */
  private readonly versions = new Map<string, number>();
  private allVersion = 0;

  /** Names cannot hold `/`, so this is unambiguous; it also travels as a PostgreSQL NOTIFY payload (no NUL there). */
  static key(namespace: string, stream: string): string {
    return `${namespace}/${stream}`;
  }

  /** Changes whenever `key` (or every key) was notified. */
  version(key: string): number {
    return (this.versions.get(key) ?? 0) + this.allVersion;
  }

  notify(key: string): void {
    this.versions.set(key, (this.versions.get(key) ?? 0) + 1);
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /**
   * Resolves on the next notify of `key`, after `timeoutMs`, or when `signal` aborts; whichever comes first.
   * With `since` (a `version()` noted earlier), resolves at once if `key` was notified after it.
   */
  wait(key: string, timeoutMs: number, signal?: AbortSignal, since?: number): Promise<void> {
    if (since !== undefined && this.version(key) !== since) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let set = this.waiters.get(key);
      if (!set) {
        set = new Set();
        this.waiters.set(key, set);
      }
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        const current = this.waiters.get(key);
        current?.delete(done);
        if (current?.size === 0) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
    });
  }

  /** Wakes every waiter (on shutdown, or when notifications may have been lost). */
  wakeAll(): void {
    this.allVersion++;
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }
}
