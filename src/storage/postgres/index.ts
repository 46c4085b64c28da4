// The shared backend: PostgreSQL for many stateless Runnel nodes; NOTIFY carries wake-up hints between them.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { loadMigrations } from "../migrations.js";
import type { Sql, SqlParam, SqlValue } from "../sql.js";
import type { PostgresStoreOptions, Store, Work } from "../store.js";
import { Tx } from "../tx.js";
import { WriteBatcher, type TxConnection } from "../write-batcher.js";

export const DEFAULT_SCHEMA = "runnel";
export const DEFAULT_POOL_SIZE = 10;
const WAKE_CHANNEL = "runnel_wake";
/** A fixed key for the advisory lock that lets one node at a time migrate. */
const MIGRATION_LOCK = 7_461_002_911;
const MAX_BATCH = 500;

const INT8 = 20;
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as "text");
  },
};

/**
 * `?` placeholders become `$1, $2, …`, and each distinct statement gets a name so every pooled connection
 * parses and plans it once (a prepared statement) and afterwards only binds values.
 */
const prepared = new Map<string, { name: string; text: string }>();
function toPg(sql: string): { name: string; text: string } {
  let statement = prepared.get(sql);
  if (statement === undefined) {
    let n = 0;
    statement = { name: `runnel_${prepared.size}`, text: sql.replace(/\?/g, () => `$${++n}`) };
    prepared.set(sql, statement);
  }
  return statement;
}

type Queryable = pg.Pool | pg.PoolClient;

class PgSql implements Sql {
  readonly dialect = "postgres" as const;
  constructor(private readonly db: Queryable) {}

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const res = await this.db.query({ ...toPg(sql), values: params as SqlValue[] });
    return res.rows as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async rows(sql: string, params: readonly SqlValue[] = []): Promise<SqlValue[][]> {
    const res = await this.db.query({ ...toPg(sql), values: params as SqlValue[], rowMode: "array" });
    return res.rows as SqlValue[][];
  }

  async run(sql: string, params: readonly SqlParam[] = []): Promise<number> {
    const res = await this.db.query({ ...toPg(sql), values: params as SqlParam[] });
    return res.rowCount ?? 0;
  }
}

function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid schema name '${name}'`);
  return `"${name}"`;
}

async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    );
    const done = new Set((await client.query("SELECT version FROM schema_migrations")).rows.map((r) => Number(r.version)));
    for (const m of loadMigrations(new URL("./migrations/", import.meta.url))) {
      if (done.has(m.version)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          m.version,
          m.name,
          Date.now(),
        ]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}

const STATEMENTS = {
  BEGIN: "BEGIN",
  COMMIT: "COMMIT",
  ROLLBACK: "ROLLBACK",
  SAVEPOINT: "SAVEPOINT unit",
  RELEASE: "RELEASE SAVEPOINT unit",
  ROLLBACK_TO: "ROLLBACK TO SAVEPOINT unit",
} as const;

export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  const connection = {
    connectionString: options.url,
    options: `-c search_path=${quoteIdent(schema)}`,
    types,
  };
  // Create the schema before pooled connections rely on it being on their search path.
  const bootstrap = new pg.Client({ connectionString: options.url });
  await bootstrap.connect();
  try {
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  } catch (error) {
    // Another node may have created it at the same moment.
    if ((error as { code?: string }).code !== "23505") throw error;
  } finally {
    await bootstrap.end();
  }
  const pool = new pg.Pool({ ...connection, max: poolSize });
  pool.on("error", () => undefined);
  await migrate(pool, schema);

  const readTx = new Tx(new PgSql(pool));
  const batcher = new WriteBatcher(
    async () => {
      const client = await pool.connect();
      const conn: TxConnection = {
        tx: new Tx(new PgSql(client)),
        async exec(statement) {
          await client.query(STATEMENTS[statement]);
        },
      };
      return { conn, release: (broken?: boolean) => client.release(broken ? true : undefined) };
    },
    // One write transaction at a time per node: concurrent ones mostly queued on each other's row locks
    // (the stream row on append), and measured about twice as slow as one writer with group commit.
    { maxBatch: MAX_BATCH, concurrency: 1 },
  );

  const nodeId = randomUUID();
  const listeners = new Set<(key: string) => void>();
  const listener = new WakeListener({ ...connection }, nodeId, (key) => {
    for (const l of listeners) l(key);
  });
  await listener.start();
  let closed = false;
  let warnedNotify = false;

  return {
    kind: "postgres",
    crossNode: true,
    write<T>(work: Work<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("the store is closed"));
      return batcher.submit(work);
    },
    read<T>(work: Work<T>): Promise<T> {
      if (closed) return Promise.reject(new Error("the store is closed"));
      return work(readTx);
    },
    announce(keys) {
      for (const key of keys) {
        pool.query("SELECT pg_notify($1, $2)", [WAKE_CHANNEL, `${nodeId} ${key}`]).catch((error: unknown) => {
          // Readers on other nodes still find the entry on their next re-poll; say once that wake-ups are failing.
          if (!warnedNotify) process.emitWarning(`runnel: NOTIFY failed, other nodes fall back to polling: ${String(error)}`);
          warnedNotify = true;
        });
      }
    },
    onAnnounce(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async close() {
      if (closed) return;
      closed = true;
      await batcher.drain();
      await listener.stop();
      await pool.end();
    },
  };
}

/**
 * One dedicated connection that LISTENs for wake-ups. It reconnects after a failure and then wakes every
 * waiter, which re-reads from the log: a lost notification delays a reader, it never loses an entry.
 */
class WakeListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly nodeId: string,
    private readonly deliver: (key: string) => void,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on("notification", (msg) => {
      const text = msg.payload ?? "";
      const space = text.indexOf(" ");
      if (space > 0 && text.slice(0, space) !== this.nodeId) this.deliver(text.slice(space + 1));
    });
    client.on("error", () => this.reconnect());
    client.on("end", () => this.reconnect());
    await client.connect();
    await client.query(`LISTEN ${WAKE_CHANNEL}`);
    this.client = client;
  }

  private reconnect(): void {
    if (this.stopped || this.retry) return;
    this.client = undefined;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start()
        .then(() => this.deliver("*"))
        .catch(() => this.reconnect());
    }, 500);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }
}
