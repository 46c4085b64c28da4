// Upgrading a database made by an earlier Runnel: entries written before migration 0005 (which folds the rarely set
// fields into one `meta` column) read back exactly as they were written, and new appends mix with them.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { parseRangeEnd, parseRangeStart } from "../src/core/ids.js";
import { Engine } from "../src/engine/index.js";
import { createStore, type StoreOptions } from "../src/storage/index.js";
import { DATABASE_FILE } from "../src/storage/sqlite/index.js";
import { backends } from "./helpers/backends.js";

const BEFORE = 4;

/** The dialect's migrations up to and including `version`, as [version, name, sql]. */
function migrationsUpTo(dialect: "sqlite" | "postgres", version: number): [number, string, string][] {
  const dir = new URL(`../src/storage/${dialect}/migrations/`, import.meta.url);
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f) && Number(f.slice(0, 4)) <= version)
    .sort()
    .map((f) => [Number(f.slice(0, 4)), f, readFileSync(new URL(f, dir), "utf8")]);
}

const STREAM =
  "INSERT INTO streams (namespace, name, partitions, dedupe_window_ms, last_ms, last_seq, entries_added, length, levels, " +
  "positions, created_at) VALUES ('default', 'old', 1, 0, 1000, 1, 2, 2, 4, '[2]', 1000)";
const ENTRIES =
  "INSERT INTO entries (stream_id, ms, seq, partition_no, position, entry_key, entry_type, headers, payload, priority, " +
  "correlation_id, causation_id, message_id, created_at, deliver_at) VALUES " +
  "(1, 1000, 0, 0, 0, 'k-1', 'order.created', '{\"trace\":\"t-1\"}', '{\"n\":1}', 2, 'corr-1', 'cause-1', 'msg-1', 1000, 5000), " +
  "(1, 1000, 1, 0, 1, NULL, NULL, '{}', '{\"n\":2}', 2, NULL, NULL, NULL, 1000, NULL)";

/** Builds, where `options` points, a database as Runnel left it at migration BEFORE, holding two entries. */
async function seedOldDatabase(options: StoreOptions): Promise<void> {
  if (options.kind === "sqlite") {
    const db = new Database(join(options.dataDir, DATABASE_FILE));
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const [version, name, sql] of migrationsUpTo("sqlite", BEFORE)) {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, 0)").run(version, name);
    }
    db.exec(STREAM);
    db.exec(ENTRIES);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: options.url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA "${options.schema}"`);
    await client.query(`SET search_path = "${options.schema}"`);
    await client.query("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
    for (const [version, name, sql] of migrationsUpTo("postgres", BEFORE)) {
      await client.query(sql);
      await client.query("INSERT INTO schema_migrations VALUES ($1, $2, 0)", [version, name]);
    }
    await client.query(STREAM);
    await client.query(ENTRIES);
  } finally {
    await client.end();
  }
}

for (const backend of await backends()) {
  describe(`upgrading a database from migration ${BEFORE} (${backend.name})`, () => {
    after(() => backend.cleanup());

    it("entries stored before the upgrade keep every field, and new ones append after them", async () => {
      const options = await backend.fresh();
      await seedOldDatabase(options);
      const engine = new Engine(await createStore(options));
      try {
        await engine.streams.append("default", "old", [{ payload: '{"n":3}', key: "k-3", headers: { a: "b" } }]);
        const entries = await engine.streams.range("default", "old", parseRangeStart("-"), parseRangeEnd("+"), 10);
        assert.equal(entries.length, 3);
        const [first, second, third] = entries;
        assert.deepEqual(first, {
          id: { ms: 1000, seq: 0 },
          partition: 0,
          offset: 0,
          priority: 2,
          payload: '{"n":1}',
          timestamp: 1000,
          key: "k-1",
          type: "order.created",
          headers: '{"trace":"t-1"}',
          correlationId: "corr-1",
          causationId: "cause-1",
          messageId: "msg-1",
          deliverAt: 5000,
        });
        assert.deepEqual(
          { key: second!.key, type: second!.type, headers: second!.headers, deliverAt: second!.deliverAt, payload: second!.payload },
          { key: null, type: null, headers: "{}", deliverAt: null, payload: '{"n":2}' },
        );
        assert.equal(second!.correlationId, null);
        assert.equal(second!.messageId, null);
        assert.equal(third!.offset, 2);
        assert.equal(third!.key, "k-3");
        assert.deepEqual(JSON.parse(third!.headers), { a: "b" });
      } finally {
        await engine.close();
      }
    });
  });
}
