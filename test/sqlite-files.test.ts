// What the SQLite backend leaves on disk: the WAL stays bounded under steady appends (checkpoints run on a
// worker thread), entries of a few KB do not balloon the file, and everything is there after a reopen.
// These are properties of SQLite's files, so this file has no PostgreSQL run.
import assert from "node:assert/strict";
import fs, { mkdtempSync, rmSync, statSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseRangeEnd, parseRangeStart } from "../src/core/ids.js";
import { Engine } from "../src/engine/index.js";
import { createStore } from "../src/storage/index.js";
import { DATABASE_FILE } from "../src/storage/sqlite/index.js";

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function openEngine(dir?: string): Promise<{ engine: Engine; dir: string }> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), "runnel-files-"));
  if (!dir) dirs.push(dataDir);
  return { engine: new Engine(await createStore({ kind: "sqlite", dataDir })), dir: dataDir };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function batchOf(bytes: number, n: number, tag: number) {
  return Array.from({ length: n }, (_, i) => ({ payload: JSON.stringify({ tag, i, pad: "x".repeat(bytes) }) }));
}

type Fdatasync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

/**
 * Runs `body` on a fresh engine; `replaceSync` routes its syncs to disk through a fake made from the real
 * fdatasync. The real one is back, and the engine closed, when `body` ends.
 */
async function withSyncs(body: (engine: Engine, replaceSync: (fake: (real: Fdatasync) => Fdatasync) => void) => Promise<void>) {
  const { engine } = await openEngine();
  const real = fs.fdatasync;
  try {
    await body(engine, (fake) => {
      fs.fdatasync = fake(real) as typeof fs.fdatasync;
      syncBuiltinESMExports();
    });
  } finally {
    fs.fdatasync = real;
    syncBuiltinESMExports();
    await engine.close();
  }
}

describe("sqlite files", () => {
  test("the WAL stays bounded while 40 MB are appended one batch after another", async () => {
    const { engine, dir } = await openEngine();
    const wal = join(dir, `${DATABASE_FILE}-wal`);
    let largest = 0;
    try {
      for (let i = 0; i < 200; i++) {
        await engine.streams.append("default", "big", batchOf(2000, 100, i));
        largest = Math.max(largest, sizeOf(wal));
      }
      assert.equal(await engine.streams.length("default", "big"), 20_000);
    } finally {
      await engine.close();
    }
    // Without checkpoints the WAL would hold all ~40 MB; a checkpoint is asked for past 4 MB.
    assert.ok(largest < 16 * 1024 * 1024, `the WAL reached ${(largest / 1e6).toFixed(1)} MB`);
  });

  test("once the WAL has been rewound its file shrinks, so small commits afterwards do not each ask for a checkpoint", async () => {
    const { engine, dir } = await openEngine();
    const wal = join(dir, `${DATABASE_FILE}-wal`);
    try {
      // Well past the 4 MB that asks for a checkpoint (about 8 MB in all)...
      for (let i = 0; i < 40; i++) await engine.streams.append("default", "grow", batchOf(2000, 100, i));
      // ...then small commits, one at a time: after the rewind the file is cut back, below the limit.
      let smallest = Infinity;
      for (let i = 0; i < 100; i++) {
        await engine.streams.append("default", "small", [{ payload: JSON.stringify({ i }) }]);
        smallest = Math.min(smallest, sizeOf(wal));
      }
      assert.ok(smallest < 4 * 1024 * 1024, `the WAL file stayed at ${(smallest / 1e6).toFixed(1)} MB or more`);
    } finally {
      await engine.close();
    }
  });

  test("entries of 1-3 KB take about their own size on disk, not a page each", async () => {
    const { engine, dir } = await openEngine();
    const count = 5000;
    let raw = 0;
    try {
      for (let b = 0; b < count / 100; b++) {
        const batch = batchOf(1000 + (b % 3) * 1000, 100, b);
        raw += batch.reduce((sum, e) => sum + e.payload.length, 0);
        await engine.streams.append("default", "kb", batch);
      }
    } finally {
      await engine.close();
    }
    // close() checkpoints and truncates the WAL, so the database file holds everything.
    const onDisk = sizeOf(join(dir, DATABASE_FILE)) + sizeOf(join(dir, `${DATABASE_FILE}-wal`));
    assert.ok(onDisk < raw * 2, `${(onDisk / 1e6).toFixed(1)} MB on disk for ${(raw / 1e6).toFixed(1)} MB of payloads`);
  });

  test("entries written while checkpoints ran are all there after a reopen", async () => {
    const first = await openEngine();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 60; i++) {
        const results = await first.engine.streams.append("default", "kept", batchOf(1500, 100, i));
        for (const r of results) ids.push(`${r.id.ms}-${r.id.seq}`);
      }
    } finally {
      await first.engine.close();
    }
    const again = await openEngine(first.dir);
    try {
      const read = await again.engine.streams.range("default", "kept", parseRangeStart("-"), parseRangeEnd("+"), 10_000);
      assert.equal(read.length, ids.length);
      assert.deepEqual(read.map((e) => `${e.id.ms}-${e.id.seq}`), ids);
      assert.equal(JSON.parse(read[5999]!.payload).tag, 59);
    } finally {
      await again.engine.close();
    }
  });

  test("a read does not answer with an append before the append is on disk", async () => {
    await withSyncs(async (engine, replaceSync) => {
      await engine.streams.append("default", "s", batchOf(10, 1, 1));
      // Every sync now takes 200 ms, so an append is committed long before it is on disk.
      let synced = 0;
      replaceSync((real) => (fd, callback) => {
        setTimeout(
          () =>
            real(fd, (error) => {
              synced++;
              callback(error);
            }),
          200,
        );
      });
      const appended = engine.streams.append("default", "s", batchOf(10, 1, 2));
      await sleep(50);
      const read = await engine.streams.range("default", "s", parseRangeStart("-"), parseRangeEnd("+"), 10);
      assert.equal(synced, 1, "the read answered once the append's sync had finished");
      assert.equal(read.length, 2, "the read sees the committed append");
      await appended;
    });
  });

  test("a failed sync fails the appends whose sync was queued behind it, even if theirs succeeds", async () => {
    await withSyncs(async (engine, replaceSync) => {
      await engine.streams.append("default", "s", batchOf(10, 1, 1));
      let failNext = true;
      replaceSync((real) => (fd, callback) => {
        if (!failNext) return real(fd, callback);
        failNext = false;
        setTimeout(() => callback(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })), 100);
      });
      const first = engine.streams.append("default", "s", batchOf(10, 1, 2));
      await sleep(20);
      // Committed while the first sync is failing; its own sync runs after that one, for real, and succeeds.
      const second = engine.streams.append("default", "s", batchOf(10, 1, 3));
      const settled = await Promise.allSettled([first, second]);
      assert.deepEqual(settled.map((r) => r.status), ["rejected", "rejected"]);
      for (const r of settled) assert.match(String((r as PromiseRejectedResult).reason), /may or may not have been stored/);
      await assert.rejects(engine.streams.append("default", "s", batchOf(10, 1, 4)), /writes stopped after a failed sync/);
    });
  });

  test("a failed sync to disk: those writes are reported as unknown, never stored twice, and writing stops", async () => {
    await withSyncs(async (engine, replaceSync) => {
      await engine.streams.append("default", "a", [{ payload: "0" }]);
      await engine.streams.append("default", "b", [{ payload: "0" }]);
      let failNext = true;
      replaceSync((real) => (fd, callback) => {
        if (!failNext) return real(fd, callback);
        failNext = false;
        setImmediate(() => callback(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" })));
      });
      const settled = await Promise.allSettled([
        engine.streams.append("default", "a", [{ payload: '"once"' }]),
        engine.streams.append("default", "b", [{ payload: '"once"' }]),
      ]);
      for (const s of settled) {
        assert.equal(s.status, "rejected");
        assert.match(String((s as PromiseRejectedResult).reason), /may or may not have been stored/);
      }
      // Stored at most once each, never twice.
      assert.ok((await engine.streams.length("default", "a")) <= 2);
      assert.ok((await engine.streams.length("default", "b")) <= 2);
      await assert.rejects(engine.streams.append("default", "a", [{ payload: "1" }]), /writes stopped after a failed sync/);
    });
  });
});
