// The storage port: units of work run inside transactions, writes committed together (group commit).
import type { Dialect } from "./sql.js";
import type { Tx } from "./tx.js";

/** A unit of work. It may only await the `tx` it is given: no timers, no network. */
export type Work<T> = (tx: Tx) => Promise<T>;

export interface Store {
  readonly kind: Dialect;
  /**
   * Runs `work` in a write transaction, batched with other writes that arrived meanwhile; resolves once the
   * transaction is durable. A failing unit is rolled back alone and rejects alone.
   */
  write<T>(work: Work<T>): Promise<T>;
  /** Runs `work` against committed data, outside the write path. */
  read<T>(work: Work<T>): Promise<T>;
  /** Tells other nodes sharing the database that these keys changed; a hint, never the delivery. */
  announce(keys: readonly string[]): void;
  /** Listens for keys other nodes announced; answers the unsubscribe function. */
  onAnnounce(listener: (key: string) => void): () => void;
  /** True when announcements from other nodes can arrive (so waiters need not poll as often). */
  readonly crossNode: boolean;
  close(): Promise<void>;
}

export type Durability = "full" | "relaxed";

export interface SqliteStoreOptions {
  kind: "sqlite";
  /** Folder for the database file; created when missing. */
  dataDir: string;
  /** `full` fsyncs every commit (the default); `relaxed` survives a crash of Runnel but not of the machine. */
  durability?: Durability;
}

export interface PostgresStoreOptions {
  kind: "postgres";
  url: string;
  schema?: string;
  poolSize?: number;
}

export type StoreOptions = SqliteStoreOptions | PostgresStoreOptions;
