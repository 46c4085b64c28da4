// Wakes readers that wait on a stream when something they may want was committed.

type Waiter = () => void;

export class Hub {
  private readonly waiters = new Map<string, Set<Waiter>>();

  static key(namespace: string, stream: string): string {
    return `${namespace}\u0000${stream}`;
  }

  notify(key: string): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const wake of set) wake();
  }

  /**
   * Resolves on the next notify of `key`, after `timeoutMs`, or when `signal` aborts; whichever comes first.
   */
  wait(key: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
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

  /** Wakes every waiter (used on shutdown). */
  wakeAll(): void {
    for (const key of [...this.waiters.keys()]) this.notify(key);
  }
}
