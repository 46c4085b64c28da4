// The backends every storage and engine test runs against: SQLite always, PostgreSQL when reachable (always in CI).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { StoreOptions } from "../../src/storage/index.js";

export const PG_URL = process.env.RUNNEL_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export interface Backend {
  name: "sqlite" | "postgres";
  /** Fresh, empty storage for one server (or several nodes sharing it): a temp folder or a new schema. */
  fresh(): Promise<StoreOptions>;
  /** Removes what `fresh` made. */
  cleanup(): Promise<void>;
}

/** Answers why PostgreSQL at `url` cannot be used, or undefined when it answers. */
export async function postgresProblem(url = PG_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function sqliteBackend(): Backend {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), "runnel-test-"));
      dirs.push(dir);
      return { kind: "sqlite", dataDir: dir };
    },
    async cleanup() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schemas: string[] = [];
  return {
    name: "postgres",
    async fresh() {
      const schema = `runnel_test_${randomBytes(6).toString("hex")}`;
      schemas.push(schema);
      return { kind: "postgres", url: PG_URL, schema, poolSize: 8 };
    },
    async cleanup() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

let cached: Promise<Backend[]> | undefined;

/**
 * SQLite, plus PostgreSQL when it answers. Without PostgreSQL the run says why it skipped it; with CI=true a
 * missing PostgreSQL is an error, because CI must test both.
 */
export function backends(): Promise<Backend[]> {
  cached ??= (async () => {
    const list: Backend[] = [sqliteBackend()];
    const problem = await postgresProblem();
    if (problem === undefined) list.push(postgresBackend());
    else if (process.env.CI === "true") throw new Error(`PostgreSQL is required in CI but unreachable at ${PG_URL}: ${problem}`);
    else console.log(`# skipping the PostgreSQL runs: ${PG_URL} is unreachable (${problem})`);
    return list;
  })();
  return cached;
}
