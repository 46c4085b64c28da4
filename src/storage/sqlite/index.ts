// The embedded backend: one SQLite file in WAL mode, a writer connection with group commit and a reader.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadMigrations } from "../migrations.js";
import type { Sql, SqlValue } from "../sql.js";
import type { SqliteStoreOptions, Store, Work } from "../store.js";
import { Tx } from "../tx.js";
import { WriteBatcher, type TxConnection } from "../write-batcher.js";

export const DATABASE_FILE = "runnel.db";
const MAX_BATCH = 2000;

type Db = Database.Database;

class SqliteSql implements Sql {
  readonly dialect = "sqlite" as const;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  private prepare(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return Promise.resolve(this.prepare(sql).all(...params) as T[]);
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return Promise.resolve(this.prepare(sql).get(...params) as T | undefined);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return Promise.resolve(this.prepare(sql).run(...params).changes);
  }
}

function open(file: string, durability: "full" | "relaxed", readonly: boolean): Db {
  const db = new Database(file, { readonly });
  db.pragma("busy_timeout = 5000");
  if (!readonly) {
    db.pragma("journal_mode = WAL");
    // FULL syncs the WAL on every commit, so an acknowledged write survives a power cut; NORMAL survives a crash of the process.
    db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
  }
  return db;
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
  const writer = open(file, durability, false);
  migrate(writer);
  const reader = open(file, durability, true);
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
    exec(statement) {
      writer.exec(statements[statement]);
      return Promise.resolve();
    },
  };
  const batcher = new WriteBatcher(async () => ({ conn, release: () => undefined }), {
    maxBatch: MAX_BATCH,
    concurrency: 1,
  });
  let closed = false;

  return {
    kind: "sqlite",
    crossNode: false,
    write<T>(work: Work<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("the store is closed"));
      return batcher.submit(work);
    },
    read<T>(work: Work<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("the store is closed"));
      return work(readTx);
    },
    announce() {},
    onAnnounce() {
      return () => undefined;
    },
    async close() {
      if (closed) return;
      closed = true;
      await batcher.drain();
      reader.close();
      writer.pragma("wal_checkpoint(TRUNCATE)");
      writer.close();
    },
  };
}
