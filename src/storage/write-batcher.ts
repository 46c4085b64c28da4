// Group commit: writes that arrive while a transaction is being committed share the next one.
import type { Work } from "./store.js";
import type { Tx } from "./tx.js";

/** One connection able to run a transaction, as an adapter provides it. */
export interface TxConnection {
  readonly tx: Tx;
  exec(statement: "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "ROLLBACK_TO"): Promise<void>;
}

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface WriteBatcherOptions {
  /** Most units of work in one transaction. */
  maxBatch: number;
  /** How many transactions may be in flight at once (1 for SQLite's single writer). */
  concurrency: number;
}

export class WriteBatcher {
  private queue: Job[] = [];
  private running = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly acquire: () => Promise<{ conn: TxConnection; release(broken?: boolean): void }>,
    private readonly options: WriteBatcherOptions,
  ) {}

  submit<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Resolves once every submitted unit has settled. */
  async drain(): Promise<void> {
    if (this.queue.length === 0 && this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.options.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    // Let every request that is already parsed join this transaction.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.options.concurrency || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.running++;
    try {
      await this.runBatch(batch);
    } finally {
      this.running--;
      if (this.queue.length > 0) this.schedule();
      else if (this.running === 0) for (const done of this.idleWaiters.splice(0)) done();
    }
  }

  private async runBatch(batch: Job[]): Promise<void> {
    let lease: { conn: TxConnection; release(broken?: boolean): void };
    try {
      lease = await this.acquire();
    } catch (error) {
      for (const job of batch) job.reject(error);
      return;
    }
    const { conn } = lease;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    let broken = false;
    try {
      await conn.exec("BEGIN");
      for (const job of batch) {
        await conn.exec("SAVEPOINT");
        try {
          const value = await job.work(conn.tx);
          await conn.exec("RELEASE");
          outcomes.push({ ok: true, value });
        } catch (error) {
          await conn.exec("ROLLBACK_TO");
          await conn.exec("RELEASE");
          outcomes.push({ ok: false, value: error });
        }
      }
      await conn.exec("COMMIT");
    } catch (error) {
      broken = true;
      await conn.exec("ROLLBACK").catch(() => undefined);
      lease.release(true);
      // A whole transaction can fail (a deadlock between nodes, a lost connection): try each unit on its own.
      if (batch.length > 1) for (const job of batch) await this.runBatch([job]);
      else batch[0]!.reject(error);
      return;
    } finally {
      if (!broken) lease.release(false);
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.value);
    });
  }
}
