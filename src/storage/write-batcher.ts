// Group commit: writes that arrive while a transaction is being committed share the next one.
import { UnavailableError } from "../core/errors.js";
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

/**
 * COMMIT was sent and did not come back as done: the transaction may be stored, possibly not durably. Its
 * units must not run again (they would be stored twice); their callers learn the outcome is unknown.
 */
export class CommitUncertain extends UnavailableError {
  constructor(readonly reason: unknown) {
    super(`the write may or may not have been stored: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

async function commit(conn: TxConnection): Promise<void> {
  try {
    await conn.exec("COMMIT");
  } catch (error) {
    // A lost race is reported before anything is committed: running the units again is safe.
    if (retryable(error)) throw new TransactionFailed(error);
    throw new CommitUncertain(error);
  }
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
      if (error instanceof CommitUncertain) {
        for (const job of batch) job.reject(error);
        return;
      }
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
 * The units run one after another under a single savepoint: a savepoint per unit costs two more round trips
 * each on PostgreSQL. When one fails, the savepoint undoes it together with the units before it; those run
 * again (they succeeded a moment ago on the same state, and touch nothing but their transaction, so running
 * one twice is safe), and the rest continue under a new savepoint.
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
      // The database may have ended the transaction itself (SQLite on a full disk): the unit's error is the news.
      await conn.exec("ROLLBACK").catch(() => undefined);
      return [{ ok: false, value: error }];
    }
    await commit(conn);
    return [{ ok: true, value }];
  }
  const outcomes: Outcome[] = new Array(batch.length);
  for (let from = 0; from < batch.length; ) {
    const failed = await runSegment(conn, batch, outcomes, from, batch.length);
    if (failed === undefined) break;
    if (failed > from && (await runSegment(conn, batch, outcomes, from, failed)) !== undefined) {
      // A unit that did not do the same twice: give each of these a savepoint of its own.
      for (let i = from; i < failed; i++) outcomes[i] = await runAlone(conn, batch[i]!);
    }
    from = failed + 1;
  }
  await commit(conn);
  return outcomes;
}

/**
 * Runs units `from` to `to - 1` under one savepoint, recording each outcome. If one fails, everything since the
 * savepoint is undone, its failure is recorded, and its index is answered.
 */
async function runSegment(conn: TxConnection, batch: Job[], outcomes: Outcome[], from: number, to: number): Promise<number | undefined> {
  await conn.exec("SAVEPOINT");
  for (let i = from; i < to; i++) {
    try {
      outcomes[i] = { ok: true, value: await batch[i]!.work(conn.tx) };
    } catch (error) {
      // A deadlock loser must give up every lock it holds, not just this unit's: abort the whole transaction.
      if (retryable(error)) throw new TransactionFailed(error);
      await undo(conn, error);
      outcomes[i] = { ok: false, value: error };
      return i;
    }
  }
  await conn.exec("RELEASE");
  return undefined;
}

async function runAlone(conn: TxConnection, job: Job): Promise<Outcome> {
  await conn.exec("SAVEPOINT");
  try {
    const value = await job.work(conn.tx);
    await conn.exec("RELEASE");
    return { ok: true, value };
  } catch (error) {
    if (retryable(error)) throw new TransactionFailed(error);
    await undo(conn, error);
    return { ok: false, value: error };
  }
}

/**
 * Rolls back to the savepoint after a unit failed. If the database already ended the whole transaction itself
 * (SQLite on a full disk or an I/O error), there is no savepoint left: the batch fails with the unit's error,
 * not with "no such savepoint".
 */
async function undo(conn: TxConnection, error: unknown): Promise<void> {
  try {
    await conn.exec("ROLLBACK_TO");
    await conn.exec("RELEASE");
  } catch {
    throw new TransactionFailed(error);
  }
}
