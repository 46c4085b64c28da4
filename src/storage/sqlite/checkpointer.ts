// Checkpoints the WAL on a worker thread: copying pages into the database file, and syncing it, never blocks
// the event loop the way SQLite's automatic checkpoint (run inside a writer's COMMIT) does.
//
// SQLite rewinds the WAL only when a write transaction starts on a fully checkpointed log; a checkpoint racing
// new commits would never catch up, and the WAL would grow without end. So a checkpoint runs in two passes: the
// first beside the writer, copying most of the log while commits go on; the second holding the writer lock,
// copying only what was committed during the first. Writes wait for the second pass alone: appending 200,000
// entries here, the lock was held 33-44 ms in all instead of 195 ms with one pass holding it throughout (the
// rate did not move beyond this machine's noise; a write that lands on a checkpoint waits less). Meanwhile the
// event loop keeps taking requests, and the next transaction carries everything that queued.
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** The WAL size that asks for a checkpoint: SQLite's own default of 1,000 pages of 4 KiB. */
const WAL_LIMIT_BYTES = 4 * 1024 * 1024;

// Plain CommonJS, so the worker needs no loader whether Runnel runs from dist/ or from source under tsx.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma("busy_timeout = 5000");
db.pragma("synchronous = NORMAL");
parentPort.on("message", (message) => {
  if (message === "close") {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage(null);
  } catch (error) {
    parentPort.postMessage(String((error && error.message) || error));
  }
});
`;

export class Checkpointer {
  private readonly walFile: string;
  private readonly worker: Worker;
  private running = false;
  private failed = false;
  private closing: Promise<void> | undefined;
  private finished: (() => void) | undefined;
  /** Waits on the worker (a checkpoint, the close) that must keep the process alive; idle, it must not. */
  private holds = 0;

  /**
   * `lockWriter` waits for the writer lock and answers its release. `fallback` runs once if the worker dies:
   * the writer then checkpoints for itself again.
   */
  constructor(
    file: string,
    private readonly lockWriter: () => Promise<() => void>,
    private readonly fallback: () => void,
  ) {
    this.walFile = `${file}-wal`;
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver } });
    this.worker.unref();
    this.worker.on("message", () => this.finished?.());
    this.worker.on("error", () => this.fail());
    this.worker.on("exit", () => {
      if (this.closing === undefined) this.fail();
    });
  }

  /** Called after a commit: asks the worker for a checkpoint once the WAL has grown past its limit. */
  committed(): void {
    if (this.running || this.failed || this.closing) return;
    let size: number;
    try {
      size = statSync(this.walFile).size;
    } catch {
      return;
    }
    if (size < WAL_LIMIT_BYTES) return;
    this.running = true;
    void this.checkpoint().finally(() => (this.running = false));
  }

  private async checkpoint(): Promise<void> {
    if (!(await this.pass())) return;
    const release = await this.lockWriter();
    try {
      await this.pass();
    } finally {
      release();
    }
  }

  /**
   * One PASSIVE checkpoint on the worker's connection, keeping the process alive meanwhile; false when the
   * worker is gone or closing, so there is nothing to do.
   */
  private async pass(): Promise<boolean> {
    if (this.failed || this.closing) return false;
    this.hold(1);
    try {
      await new Promise<void>((resolve) => {
        this.finished = () => {
          this.finished = undefined;
          resolve();
        };
        this.worker.postMessage("checkpoint");
      });
      return true;
    } finally {
      this.hold(-1);
    }
  }

  private hold(delta: 1 | -1): void {
    this.holds += delta;
    if (this.holds === 0) this.worker.unref();
    else if (this.holds === 1 && delta === 1) this.worker.ref();
  }

  private fail(): void {
    if (this.failed) return;
    this.failed = true;
    this.finished?.();
    this.fallback();
  }

  /** Stops the worker once its checkpoint (if any) has finished. */
  close(): Promise<void> {
    this.closing ??= this.failed
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.worker.once("exit", () => resolve());
          this.hold(1);
          this.worker.postMessage("close");
        });
    return this.closing;
  }
}
