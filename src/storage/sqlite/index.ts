// The embedded backend: one SQLite file in WAL mode, a writer connection with group commit and a reader.
import Database from "better-sqlite3";
import { UnavailableError } from "../../core/errors.js";
import { closeSync, fdatasync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { loadMigrations } from "../migrations.js";
import type { Sql, SqlParam, SqlValue } from "../sql.js";
import type { SqliteStoreOptions, Store, Work } from "../store.js";
import { Tx } from "../tx.js";
import { WriteBatcher, type TxConnection } from "../write-batcher.js";
import { Checkpointer } from "./checkpointer.js";

export const DATABASE_FILE = "runnel.db";
const MAX_BATCH = 2000;

type Db = Database.Database;

class SqliteSql implements Sql {
  readonly dialect = "sqlite" as const;
  private readonly statements = new Map<string, Database.Statement>();
  /** Statements in raw mode (rows as arrays); a statement's mode is its own, so these are kept apart. */
  private readonly rawStatements = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  rows(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    let stmt = this.rawStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql).raw(true);
      this.rawStatements.set(sql, stmt);
    }
    return Promise.resolve(stmt.all(...params) as SqlValue[][]);
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return Promise.resolve(this.prepare(sql).all(...params) as T[]);
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return Promise.resolve(this.prepare(sql).get(...params) as T | undefined);
  }

  /** Array parameters are PostgreSQL's (`unnest`); no query sends them to SQLite. */
  run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    return Promise.resolve(this.prepare(sql).run(...params).changes);
  }
}

function open(file: string, readonly: boolean): Db {
  const db = new Database(file, { readonly });
  db.pragma("busy_timeout = 5000");
  if (!readonly) {
    // Takes effect only when the file is new. Entries live in a WITHOUT ROWID table, whose rows stay in their
    // page only up to a quarter of it: with 4 KiB pages an entry of about 1 KB spilled into an overflow page
    // of its own (four times the disk, a third of the append rate); with 16 KiB pages entries up to about
    // 4 KB stay inline. Measured no slower for 200-byte entries.
    db.pragma("page_size = 16384");
    db.pragma("journal_mode = WAL");
    // NORMAL: a commit writes the WAL without syncing it. With `full` durability the store syncs the WAL
    // itself, off the event loop, before it answers anyone (see WalSync); `relaxed` skips that.
    db.pragma("synchronous = NORMAL");
  }
  return db;
}

/**
 * Makes commits durable without blocking the event loop: fdatasync of the WAL file runs on libuv's thread
 * pool while the next transaction may already execute. Callers of a transaction are answered only after a
 * sync that started after their COMMIT, so an acknowledged write survives a power cut as with FULL.
 */
class WalSync {
  private fd: number | undefined;
  /** The sync under way, and the one that will start after it for commits that came in meanwhile. */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly path: string) {}

  /** Resolves once a sync that started after this call has finished: at most one runs at a time. */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    this.fd ??= openSync(this.path, "r");
    const fd = this.fd;
    const run = new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    this.running = run;
    const clear = () => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** One transaction at a time on the writer connection: held from BEGIN until COMMIT or ROLLBACK ran. */
class WriterLock {
  private tail: Promise<void> = Promise.resolve();
  private current: (() => void) | undefined;

  /** Waits for the lock; answers this holding's release (calling it again, or late, does nothing). */
  async acquire(): Promise<() => void> {
    const previous = this.tail;
    let resolve!: () => void;
    this.tail = new Promise<void>((r) => (resolve = r));
    await previous;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      if (this.current === release) this.current = undefined;
      resolve();
    };
    this.current = release;
    return release;
  }

  /** Releases whoever holds the lock now (the transaction that just ended). */
  releaseCurrent(): void {
    this.current?.();
  }
}

function migrate(db: Db): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const applied = new Set(
    (db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version),
  );
  for (const m of loadMigrations(new URL("./migrations/", import.meta.url))) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
    })();
  }
}

export function createSqliteStore(options: SqliteStoreOptions): Store {
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, DATABASE_FILE);
  const durability = options.durability ?? "full";
  const writer = open(file, false);
  migrate(writer);
  // Checkpoints run on a worker thread; should it die, the writer goes back to checkpointing in its commits.
  writer.pragma("wal_autocheckpoint = 0");
  // When the log is rewound, cut the file back too: its size is what asks for the next checkpoint.
  writer.pragma("journal_size_limit = 1048576");
  // Under a savepoint, and for any multi-row statement inside a transaction, SQLite copies each page it changes
  // into a statement journal. By default that journal moves to a temporary file once it passes 64 KiB (four
  // 16 KiB pages): a file created, written and unlinked in nearly every transaction. In memory it costs a copy per page (about 12% of the CPU of a group
  // read + ack, measured with `npm run bench:engine`).
  writer.pragma("temp_store = MEMORY");
  const lock = new WriterLock();
  let syncFailure: Error | undefined;
  /** The sync that makes the latest commit durable (and every commit before it: syncs run one after another). */
  let latestSync: Promise<void> | undefined;
  const checkpointer = new Checkpointer(
    file,
    () => lock.acquire(),
    () => writer.open && writer.pragma("wal_autocheckpoint = 1000"),
  );
  const reader = open(file, true);
  const walSync = durability === "full" ? new WalSync(`${file}-wal`) : undefined;
  const writeTx = new Tx(new SqliteSql(writer));
  const readTx = new Tx(new SqliteSql(reader));

  const statements = {
    BEGIN: "BEGIN IMMEDIATE",
    COMMIT: "COMMIT",
    ROLLBACK: "ROLLBACK",
    SAVEPOINT: "SAVEPOINT unit",
    RELEASE: "RELEASE unit",
    ROLLBACK_TO: "ROLLBACK TO unit",
  } as const;
  const conn: TxConnection = {
    tx: writeTx,
    async exec(statement) {
      // Only the statement that really ends our transaction hands the lock on (a late ROLLBACK must not).
      const ends = (statement === "COMMIT" || statement === "ROLLBACK") && writer.inTransaction;
      try {
        writer.exec(statements[statement]);
      } finally {
        if (ends) lock.releaseCurrent();
      }
      if (statement !== "COMMIT") return;
      checkpointer.committed();
      if (!walSync) return;
      const sync = walSync.sync();
      latestSync = sync;
      try {
        await sync;
      } catch (error) {
        // After a failed sync the kernel may have dropped the pages it could not write, and a later sync can
        // succeed without them: nothing written from here on could be promised durable. Stop taking writes.
        syncFailure ??= error instanceof Error ? error : new Error(String(error));
        throw error;
      }
      // The sync under way when this one was asked for failed, and this one ran after it: what that one lost
      // may come before this commit in the log, so this sync's success proves nothing.
      if (syncFailure) throw syncFailure;
    },
  };
  // Several batches in flight: while one waits for its sync, the next can already run its transaction.
  const batcher = new WriteBatcher(
    async () => ({ conn, release: await lock.acquire() }),
    { maxBatch: MAX_BATCH, concurrency: 4 },
  );
  let closed = false;

  return {
    kind: "sqlite",
    crossNode: false,
    write<T>(work: Work<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("the store is closed"));
      if (syncFailure) {
        return Promise.reject(
          new UnavailableError(`writes stopped after a failed sync to disk (${syncFailure.message}); check the disk and restart Runnel`),
        );
      }
      return batcher.submit(work);
    },
    async read<T>(work: Work<T>): Promise<T> {
      if (closed) throw new Error("the store is closed");
      const value = await work(readTx);
      // The reader sees what is committed, which with `full` durability may not be on disk yet: answer only once
      // it is, so nothing a client was shown can be undone by a power cut. (Should that sync fail, writing stops
      // and reads show what the database holds.)
      await latestSync?.catch(() => undefined);
      return value;
    },
    announce() {},
    onAnnounce() {
      return () => undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      await batcher.drain();
      await checkpointer.close();
      reader.close();
      writer.pragma("wal_checkpoint(TRUNCATE)");
      walSync?.close();
      writer.close();
    },
  };
}
