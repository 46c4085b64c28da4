// Upgrading a database made by an earlier Runnel: entries written before migration 0005 (which folds the rarely set
// fields into one `meta` column) read back exactly as they were written, and new appends mix with them; group members
// from before 0006 count their last read from their last heartbeat; a stream that lost entries before 0007 gets a
// deletion mark at its top, so its lag is counted, not derived.
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
const TRIMMED_STREAM =
  "INSERT INTO streams (namespace, name, partitions, dedupe_window_ms, last_ms, last_seq, entries_added, length, levels, " +
  "positions, created_at) VALUES ('default', 'trimmed', 1, 0, 1000, 4, 5, 2, 2, '[5]', 1000)";
const ENTRIES =
  "INSERT INTO entries (stream_id, ms, seq, partition_no, position, entry_key, entry_type, headers, payload, priority, " +
  "correlation_id, causation_id, message_id, created_at, deliver_at) VALUES " +
  "(1, 1000, 0, 0, 0, 'k-1', 'order.created', '{\"trace\":\"t-1\"}', '{\"n\":1}', 2, 'corr-1', 'cause-1', 'msg-1', 1000, 5000), " +
  "(1, 1000, 1, 0, 1, NULL, NULL, '{}', '{\"n\":2}', 2, NULL, NULL, NULL, 1000, NULL)";

const GROUP_WITH_MEMBER = [
  "INSERT INTO consumer_groups (stream_id, name, start_ms, start_seq, last_ms, last_seq, created_at) VALUES (1, 'g', 0, 0, 0, 0, 1000)",
  "INSERT INTO group_settings (stream_id, group_name, group_id, strategy, max_members, session_timeout_ms, heartbeat_interval_ms, " +
    "max_poll_interval_ms, rebalance_timeout_ms, created_at) VALUES (1, 'g', 'grp_old', 'ROUND_ROBIN', 100, 30000, 3000, 300000, 60000, 1000)",
  "INSERT INTO group_members (stream_id, group_name, member_id, member_name, join_seq, joined_at, last_heartbeat, partitions, " +
    "consumers, status) VALUES (1, 'g', 'm-1', 'old', 1, 1000, 4000, '[0]', '[\"c1\"]', 'ACTIVE')",
];

/**
 * Builds, where `options` points, a database as Runnel left it at migration BEFORE: a stream of two entries with a
 * group and a member, and a stream that lost three of its five entries.
 */
async function seedOldDatabase(options: StoreOptions): Promise<void> {
  if (options.kind === "sqlite") {
    const db = new Database(join(options.dataDir, DATABASE_FILE));
    db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (const [version, name, sql] of migrationsUpTo("sqlite", BEFORE)) {
      db.exec(sql);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, 0)").run(version, name);
    }
    for (const sql of [STREAM, ENTRIES, TRIMMED_STREAM, ...GROUP_WITH_MEMBER]) db.exec(sql);
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
    for (const sql of [STREAM, ENTRIES, TRIMMED_STREAM, ...GROUP_WITH_MEMBER]) await client.query(sql);
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

    it("a stream that lost entries before the upgrade is marked deleted up to its top; one that did not is not", async () => {
      const options = await backend.fresh();
      await seedOldDatabase(options);
      const store = await createStore(options);
      try {
        const [old, trimmed] = await store.read(async (tx) => [await tx.streams.get("default", "old"), await tx.streams.get("default", "trimmed")]);
        assert.deepEqual(old?.maxDeleted, { ms: 0, seq: 0 });
        assert.deepEqual(trimmed?.maxDeleted, { ms: 1000, seq: 4 });
      } finally {
        await store.close();
      }
    });

    it("a group member from before the upgrade counts its last read from its last heartbeat", async () => {
      const options = await backend.fresh();
      await seedOldDatabase(options);
      const store = await createStore(options);
      try {
        const member = await store.read((tx) => tx.members.get(1, "g", "m-1"));
        assert.deepEqual(
          member && { ...member },
          {
            memberId: "m-1",
            memberName: "old",
            joinedAt: 1000,
            lastHeartbeat: 4000,
            lastPollAt: 4000,
            partitions: [0],
            consumers: ["c1"],
            status: "ACTIVE",
            evictedFor: null,
          },
        );
      } finally {
        await store.close();
      }
    });
  });
}
