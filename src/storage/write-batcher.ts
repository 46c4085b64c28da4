// Group commit: writes that arrive while a transaction is being committed share the next one.
import type { Work } from "./store.js";
import type { Tx } from "./tx.js";

/** One connection able to run a transaction, as an adapter provides it. */
export interface TxConnection {
  readonly tx: Tx;
  exec(statement: "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "ROLLBACK_TO"): Promise<void>;
}

/** Deadlocks and serialisation failures: the transaction lost a race and is worth running again. */
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_ATTEMPTS = 5;

function retryable(error: unknown): boolean {
  return RETRYABLE.has((error as { code?: string } | null)?.code ?? "");
}

/** A whole-transaction failure that every unit in it shares. */
class TransactionFailed extends Error {
  constructor(readonly reason: unknown) {
    super("transaction failed");
  }
}

interface Job {
  attempts: number;
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
      this.queue.push({ attempts: 0, work, resolve: resolve as (v: unknown) => void, reject });
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
    let outcomes: Outcome[];
    try {
      outcomes = await transact(lease.conn, batch);
      lease.release(false);
    } catch (error) {
      await lease.conn.exec("ROLLBACK").catch(() => undefined);
      lease.release(true);
      const reason = error instanceof TransactionFailed ? error.reason : error;
      // A whole transaction can fail (a deadlock between nodes, a lost connection): try each unit on its own,
      // and a lone unit that lost a race a few times more after a short, random pause.
      if (batch.length > 1) {
        for (const job of batch) await this.runBatch([job]);
        return;
      }
      const job = batch[0]!;
      if (retryable(reason) && ++job.attempts < MAX_ATTEMPTS) {
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * job.attempts));
        await this.runBatch([job]);
      } else job.reject(reason);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.value);
    });
  }
}

interface Outcome {
  ok: boolean;
  value: unknown;
}

/**
 * Runs the units in one transaction, so that a failing one is undone alone. Throws when the transaction as a
 * whole failed (then nothing of it was committed).
 *
 * The units first run one after another under a single savepoint: a savepoint per unit costs two more round
 * trips each on PostgreSQL. Only if one of them fails is that pass undone, and every unit runs again under a
 * savepoint of its own (units touch nothing but their transaction, so running one twice is safe).
 */
async function transact(conn: TxConnection, batch: Job[]): Promise<Outcome[]> {
  await conn.exec("BEGIN");
  if (batch.length === 1) {
    // A lone unit needs no savepoint: if it fails, the whole transaction is rolled back for it.
    let value: unknown;
    try {
      value = await batch[0]!.work(conn.tx);
    } catch (error) {
      if (retryable(error)) throw new TransactionFailed(error);
      await conn.exec("ROLLBACK");
      return [{ ok: false, value: error }];
    }
    await conn.exec("COMMIT");
    return [{ ok: true, value }];
  }
  const together = await runTogether(conn, batch);
  if (together) {
    await conn.exec("COMMIT");
    return together.map((value) => ({ ok: true, value }));
  }
  const outcomes: Outcome[] = [];
  for (const job of batch) {
    await conn.exec("SAVEPOINT");
    try {
      const value = await job.work(conn.tx);
      await conn.exec("RELEASE");
      outcomes.push({ ok: true, value });
    } catch (error) {
      // A deadlock loser must give up every lock it holds, not just this unit's: abort the whole transaction.
      if (retryable(error)) throw new TransactionFailed(error);
      await conn.exec("ROLLBACK_TO");
      await conn.exec("RELEASE");
      outcomes.push({ ok: false, value: error });
    }
  }
  await conn.exec("COMMIT");
  return outcomes;
}

/** Runs every unit under one savepoint; answers their values, or undefined (and undoes them all) if one failed. */
async function runTogether(conn: TxConnection, batch: Job[]): Promise<unknown[] | undefined> {
  await conn.exec("SAVEPOINT");
  const values: unknown[] = [];
  try {
    for (const job of batch) values.push(await job.work(conn.tx));
    return values;
  } catch (error) {
    if (retryable(error)) throw new TransactionFailed(error);
    await conn.exec("ROLLBACK_TO");
    await conn.exec("RELEASE");
    return undefined;
  }
}
