// The storage port's public surface and the factory that picks a backend.
import { createSqliteStore } from "./sqlite/index.js";
import type { Store, StoreOptions } from "./store.js";

export type { Store, StoreOptions, SqliteStoreOptions, PostgresStoreOptions, Durability, Work } from "./store.js";
export type { Tx } from "./tx.js";
export { CommitUncertain } from "./write-batcher.js";
export * from "./records.js";

export async function createStore(options: StoreOptions): Promise<Store> {
  switch (options.kind) {
    case "sqlite":
      return createSqliteStore(options);
    case "postgres": {
      const { createPostgresStore } = await import("./postgres/index.js");
      return createPostgresStore(options);
    }
  }
}
