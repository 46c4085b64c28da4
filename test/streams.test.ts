// The /stream/:stream HTTP surface against every backend: append, ids, batches, ranges, reads, info, config, trim, idempotency.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import type { RunningServer } from "../src/api/server.js";
import { compareIds, idParts } from "./helpers/ids.js";

type Api = ReturnType<typeof client>;

/** A query string from options; `+` and `(` are encoded the way a URL needs them. */
function qs(params: Record<string, string | number | boolean>): string {
  const text = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
  return text ? `?${text}` : "";
}


async function add(api: Api, stream: string, payload: unknown, query: Record<string, string | number | boolean> = {}) {
  const res = await api.post(`/stream/${stream}/add${qs(query)}`, JSON.stringify(payload));
  return res;
}

/** Appends and insists it worked; answers the new id. */
async function addOk(api: Api, stream: string, payload: unknown, query: Record<string, string | number | boolean> = {}) {
  const res = await add(api, stream, payload, query);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

async function rangeOf(api: Api, stream: string, query: Record<string, string | number | boolean> = {}) {
  const res = await api.get(`/stream/${stream}/range${qs(query)}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.entries as any[];
}

async function lengthOf(api: Api, stream: string): Promise<number> {
  const res = await api.get(`/stream/${stream}/len`);
  assert.equal(res.status, 200);
  return res.body.length as number;
}

for (const backend of await backends()) {
  describe(`streams over HTTP (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    before(async () => {
      server = await startTestServer(await backend.fresh());
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    describe("POST /stream/:stream/add", () => {
      it("answers 201 with id, partition, offset and duplicate, and ids strictly increase", async () => {
        const stream = unique("add");
        const first = await add(api, stream, { n: 0 });
        assert.equal(first.status, 201);
        assert.deepEqual(Object.keys(first.body).sort(), ["duplicate", "id", "offset", "partition"]);
        assert.match(first.body.id, /^\d+-\d+$/);
        assert.equal(first.body.partition, 0);
        assert.equal(first.body.offset, 0);
        assert.equal(first.body.duplicate, false);

        const ids = [first.body.id as string];
        for (let n = 1; n < 10; n++) {
          const res = await add(api, stream, { n });
          assert.equal(res.status, 201);
          assert.equal(res.body.offset, n);
          assert.equal(res.body.duplicate, false);
          ids.push(res.body.id);
        }
        for (let i = 1; i < ids.length; i++) assert.ok(compareIds(ids[i - 1]!, ids[i]!) < 0, `${ids[i - 1]} < ${ids[i]}`);

        const entries = await rangeOf(api, stream);
        assert.deepEqual(
          entries.map((e) => [e.id, e.payload.n]),
          ids.map((id, n) => [id, n]),
        );
        assert.equal(await lengthOf(api, stream), 10);
      });

      it("gives concurrent appends distinct ids, all stored in id order", async () => {
        const stream = unique("concurrent");
        const results = await Promise.all(Array.from({ length: 25 }, (_, n) => add(api, stream, { n })));
        for (const r of results) assert.equal(r.status, 201);
        const ids = results.map((r) => r.body.id as string);
        assert.equal(new Set(ids).size, 25);
        const entries = await rangeOf(api, stream);
        assert.deepEqual(
          entries.map((e) => e.id),
          [...ids].sort(compareIds),
        );
        assert.deepEqual(
          entries.map((e) => e.offset),
          Array.from({ length: 25 }, (_, i) => i),
        );
      });

      it("stores every query-string option on the entry", async () => {
        const stream = unique("options");
        const res = await add(api, stream, { order: 1 }, {
          type: "order.created",
          key: "customer-7",
          priority: "HIGH",
          correlationId: "corr-1",
          causationId: "cause-1",
          messageId: "msg-1",
          producerId: "prod-1",
          deliverAt: 4_102_444_800_000,
          "header.trace": "abc",
          "header.source": "test",
        });
        assert.equal(res.status, 201);
        const [entry] = await rangeOf(api, stream);
        assert.equal(entry.id, res.body.id);
        assert.equal(entry.partition, 0);
        assert.equal(entry.offset, 0);
        assert.equal(entry.type, "order.created");
        assert.equal(entry.key, "customer-7");
        assert.equal(entry.priority, "HIGH");
        assert.equal(entry.correlationId, "corr-1");
        assert.equal(entry.causationId, "cause-1");
        assert.equal(entry.messageId, "msg-1");
        assert.equal(entry.deliverAt, 4_102_444_800_000);
        assert.deepEqual(entry.headers, { trace: "abc", source: "test" });
        assert.deepEqual(entry.payload, { order: 1 });
        assert.equal(typeof entry.timestamp, "number");
      });

      it("defaults the entry's options when none are given", async () => {
        const stream = unique("defaults");
        await addOk(api, stream, { plain: true });
        const [entry] = await rangeOf(api, stream);
        assert.equal(entry.type, null);
        assert.equal(entry.key, null);
        assert.equal(entry.priority, "NORMAL");
        assert.equal(entry.correlationId, null);
        assert.equal(entry.causationId, null);
        assert.equal(entry.messageId, null);
        assert.equal(entry.deliverAt, null);
        assert.deepEqual(entry.headers, {});
      });

      it("folds numeric priorities 0-10 into the four levels and rejects others", async () => {
        const stream = unique("priority");
        for (const p of ["0", "3", "4", "6", "7", "8", "9", "10", "LOW", "CRITICAL"]) await addOk(api, stream, p, { priority: p });
        const entries = await rangeOf(api, stream);
        assert.deepEqual(
          entries.map((e) => [e.payload, e.priority]),
          [
            ["0", "LOW"],
            ["3", "LOW"],
            ["4", "NORMAL"],
            ["6", "NORMAL"],
            ["7", "HIGH"],
            ["8", "HIGH"],
            ["9", "CRITICAL"],
            ["10", "CRITICAL"],
            ["LOW", "LOW"],
            ["CRITICAL", "CRITICAL"],
          ],
        );
        for (const bad of ["11", "URGENT", "-1"]) {
          const res = await add(api, stream, 1, { priority: bad });
          assert.equal(res.status, 400, bad);
          assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
          assert.equal(res.body.error.field, "priority");
        }
        assert.equal(await lengthOf(api, stream), 10);
      });

      it("turns delayMs into an absolute deliverAt and refuses delayMs together with deliverAt", async () => {
        const stream = unique("delay");
        const earliest = Date.now();
        await addOk(api, stream, "later", { delayMs: 60_000 });
        const latest = Date.now();
        const [entry] = await rangeOf(api, stream);
        assert.ok(entry.deliverAt >= earliest + 60_000 && entry.deliverAt <= latest + 60_000, String(entry.deliverAt));

        const both = await add(api, stream, "x", { delayMs: 10, deliverAt: 5 });
        assert.equal(both.status, 400);
        assert.equal(both.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(both.body.error.field, "deliverAt");
        assert.equal(await lengthOf(api, stream), 1);
      });

      it("takes an explicit id, the <ms>-* form and a bare ms", async () => {
        const stream = unique("explicit");
        const a = await add(api, stream, "a", { id: "5-1" });
        assert.equal(a.status, 201);
        assert.equal(a.body.id, "5-1");
        assert.equal((await add(api, stream, "b", { id: "5-*" })).body.id, "5-2");
        assert.equal((await add(api, stream, "c", { id: "7-*" })).body.id, "7-0");
        assert.equal((await add(api, stream, "d", { id: "9" })).body.id, "9-0");
        assert.equal((await add(api, stream, "e", { id: "9-5" })).body.id, "9-5");
        const auto = await addOk(api, stream, "f");
        assert.ok(compareIds(auto, "9-5") > 0);
        assert.equal(idParts(auto)[1], 0n);

        const entries = await rangeOf(api, stream);
        assert.deepEqual(
          entries.map((e) => [e.id, e.payload]),
          [
            ["5-1", "a"],
            ["5-2", "b"],
            ["7-0", "c"],
            ["9-0", "d"],
            ["9-5", "e"],
            [auto, "f"],
          ],
        );
      });

      it("refuses an id at or below the top with 409 RUNNEL_ID_TOO_SMALL and stores nothing", async () => {
        const stream = unique("too-small");
        await addOk(api, stream, "a", { id: "10-5" });
        for (const id of ["10-5", "10-4", "3-0", "9-*", "10"]) {
          const res = await add(api, stream, "no", { id });
          assert.equal(res.status, 409, `${id}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, "RUNNEL_ID_TOO_SMALL");
          assert.equal(res.body.error.field, "id");
          assert.equal(typeof res.body.error.message, "string");
        }
        assert.equal(await lengthOf(api, stream), 1);
        const info = await api.get(`/stream/${stream}/info`);
        assert.equal(info.body.lastGeneratedId, "10-5");
        assert.equal(info.body.entriesAdded, 1);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.payload),
          ["a"],
        );
        assert.equal((await add(api, stream, "b", { id: "10-*" })).body.id, "10-6");
      });

      it("keeps an accepted append when a refused one runs at the same time", async () => {
        const stream = unique("mixed");
        await addOk(api, stream, "seed", { id: "10-0" });
        const results = await Promise.all([
          add(api, stream, "bad", { id: "1-0" }),
          add(api, stream, "good"),
          add(api, stream, "bad too", { id: "zz" }),
          add(api, stream, "good too"),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          [409, 201, 400, 201],
        );
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.payload).sort(),
          ["good", "good too", "seed"],
        );
        assert.equal(await lengthOf(api, stream), 3);
      });

      it("accepts names of up to 200 letters, digits and _ . : @ - { } and refuses longer ones", async () => {
        for (const name of [unique("a.b:c@d_e"), `x${"y".repeat(199)}`, unique("app:{user1}:events"), unique("{tag}")]) {
          const stream = encodeURIComponent(name);
          const id = await addOk(api, stream, "named");
          assert.deepEqual(
            (await rangeOf(api, stream)).map((e) => e.id),
            [id],
          );
          assert.equal((await api.get(`/stream/${stream}/info`)).body.name, name);
        }
        for (const stream of [`x${"y".repeat(200)}`, ".dot-first", "has%20space", "%7Dbrace-first"]) {
          const res = await api.post(`/stream/${stream}/add`, "1");
          assert.equal(res.status, 400, stream);
          assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
        }
      });

      it("refuses 0-0 with 400 RUNNEL_INVALID_ID", async () => {
        const stream = unique("zero");
        const res = await add(api, stream, "x", { id: "0-0" });
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, "RUNNEL_INVALID_ID");
        assert.equal(res.body.error.field, "id");
        assert.equal(await lengthOf(api, stream), 0);
        assert.equal((await api.get(`/stream/${stream}/info`)).status, 404);
      });

      it("refuses malformed ids with 400 RUNNEL_INVALID_ID", async () => {
        const stream = unique("malformed");
        for (const id of ["abc", "1-x", "1-2-3", "-1", "1.5", "x-*", "12345678901234567", "9999999999999999-0"]) {
          const res = await add(api, stream, "x", { id });
          assert.equal(res.status, 400, `${id}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.error.code, "RUNNEL_INVALID_ID", id);
          assert.equal(res.body.error.field, "id", id);
        }
        assert.equal(await lengthOf(api, stream), 0);
      });

      it("refuses a missing or non-JSON body, unknown options and bad stream names with 400", async () => {
        const stream = unique("bad-body");
        const empty = await api.post(`/stream/${stream}/add`);
        assert.equal(empty.status, 400);
        assert.equal(empty.body.error.code, "RUNNEL_BAD_REQUEST");

        const notJson = await api.post(`/stream/${stream}/add`, "{not json");
        assert.equal(notJson.status, 400);
        assert.equal(notJson.body.error.code, "RUNNEL_BAD_REQUEST");

        const unknown = await add(api, stream, 1, { colour: "red" });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(unknown.body.error.field, "colour");

        const badName = await api.post(`/stream/-starts-with-dash/add`, "1");
        assert.equal(badName.status, 400);
        assert.equal(badName.body.error.code, "RUNNEL_BAD_REQUEST");

        assert.equal(await lengthOf(api, stream), 0);
      });
    });

    describe("payloads", () => {
      const payloads: [string, unknown][] = [
        ["object", { a: 1, b: { c: [1, 2, { d: null }] }, e: "f" }],
        ["array", [1, "two", { three: 3 }, [4], null, true]],
        ["string", "just a string"],
        ["empty string", ""],
        ["integer", 42],
        ["zero", 0],
        ["negative float", -3.25],
        ["null", null],
        ["false", false],
        ["unicode", { text: "héllo wörld 🌍 中文 русский", nested: { emoji: ["🚀", "👩‍👩‍👧"], quote: "\"q\" \\ /" } }],
        ["control characters", "line1\nline2\ttab\u0000nul\u001f"],
      ];

      it("returns every kind of JSON payload appended with /add exactly", async () => {
        const stream = unique("payload-add");
        const ids: string[] = [];
        for (const [, payload] of payloads) ids.push(await addOk(api, stream, payload));
        const entries = await rangeOf(api, stream);
        assert.equal(entries.length, payloads.length);
        entries.forEach((e, i) => {
          assert.equal(e.id, ids[i]);
          assert.deepEqual(e.payload, payloads[i]![1], payloads[i]![0]);
        });
        const read = await api.get(`/stream/${stream}/read`);
        assert.deepEqual(
          read.body.entries.map((e: any) => e.payload),
          payloads.map(([, p]) => p),
        );
        const info = await api.get(`/stream/${stream}/info`);
        assert.deepEqual(info.body.firstEntry.payload, payloads[0]![1]);
        assert.deepEqual(info.body.lastEntry.payload, payloads[payloads.length - 1]![1]);
      });

      it("returns every kind of JSON payload appended with /entries exactly", async () => {
        const stream = unique("payload-entries");
        const res = await api.post(`/stream/${stream}/entries`, { entries: payloads.map(([, payload]) => ({ payload })) });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const entries = await rangeOf(api, stream);
        assert.deepEqual(
          entries.map((e) => e.payload),
          payloads.map(([, p]) => p),
        );
      });

      it("keeps the text of an /add payload as sent (numbers beyond double precision survive)", async () => {
        const stream = unique("payload-raw");
        await addOk(api, stream, 0);
        const text = '{"big":12345678901234567890123,"exp":1E+2,"str":"\\u00e9"}';
        const res = await api.post(`/stream/${stream}/add`, text);
        assert.equal(res.status, 201);
        const raw = await (await fetch(`${server.url}/stream/${stream}/range?start=${res.body.id}`)).text();
        assert.ok(raw.includes(`"payload":${text}`), raw);
      });

      it("keeps the text of each /entries payload as sent, in a batch and alone", async () => {
        const stream = unique("payload-raw-batch");
        const texts = ['{"big":12345678901234567890123,"exp":1E+2}', '[ 1.50, "\\u00e9" ]', '"} ]"'];
        const body = `{"entries":[${texts.map((t, i) => `{"type":"t${i}", "payload" : ${t}}`).join(" , ")}]}`;
        const batch = await api.post(`/stream/${stream}/entries`, body);
        assert.equal(batch.status, 201, JSON.stringify(batch.body));
        const one = await api.post(`/stream/${stream}/entries`, '{"payload": {"n": 1.0}}');
        assert.equal(one.status, 201, JSON.stringify(one.body));
        const raw = await (await fetch(`${server.url}/stream/${stream}/range`)).text();
        for (const t of [...texts, '{"n": 1.0}']) assert.ok(raw.includes(`"payload":${t}`), `${t} in ${raw}`);
      });
    });

    describe("POST /stream/:stream/entries", () => {
      it("appends one entry object with its options and answers ids and results", async () => {
        const stream = unique("entries-one");
        const res = await api.post(`/stream/${stream}/entries`, {
          payload: { hello: "world" },
          type: "greeting",
          headers: { "x-trace": "t1" },
          key: "k1",
          priority: "CRITICAL",
          correlationId: "c1",
          causationId: "z1",
          messageId: "m1",
          deliverAt: "2100-01-01T00:00:00.000Z",
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.ids.length, 1);
        assert.deepEqual(res.body.results, [{ id: res.body.ids[0], partition: 0, offset: 0, duplicate: false }]);
        const [entry] = await rangeOf(api, stream);
        assert.equal(entry.id, res.body.ids[0]);
        assert.deepEqual(entry.payload, { hello: "world" });
        assert.equal(entry.type, "greeting");
        assert.deepEqual(entry.headers, { "x-trace": "t1" });
        assert.equal(entry.key, "k1");
        assert.equal(entry.priority, "CRITICAL");
        assert.equal(entry.correlationId, "c1");
        assert.equal(entry.causationId, "z1");
        assert.equal(entry.messageId, "m1");
        assert.equal(entry.deliverAt, Date.parse("2100-01-01T00:00:00.000Z"));
      });

      it("appends a batch in order with consecutive offsets", async () => {
        const stream = unique("entries-batch");
        const res = await api.post(`/stream/${stream}/entries`, {
          entries: [{ payload: 1 }, { payload: 2, type: "two" }, { payload: 3, priority: 8 }],
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.ids.length, 3);
        assert.deepEqual(
          res.body.results.map((r: any) => [r.id, r.partition, r.offset, r.duplicate]),
          res.body.ids.map((id: string, i: number) => [id, 0, i, false]),
        );
        const entries = await rangeOf(api, stream);
        assert.deepEqual(
          entries.map((e) => [e.id, e.payload, e.type, e.priority]),
          [
            [res.body.ids[0], 1, null, "NORMAL"],
            [res.body.ids[1], 2, "two", "NORMAL"],
            [res.body.ids[2], 3, null, "HIGH"],
          ],
        );
      });

      it("stores nothing of a batch whose second entry has a too-small id, naming entries/1/id", async () => {
        const stream = unique("atomic-id");
        await addOk(api, stream, "seed", { id: "10-0" });
        const res = await api.post(`/stream/${stream}/entries`, {
          entries: [
            { payload: "ok", id: "20-0" },
            { payload: "bad", id: "15-0" },
            { payload: "never", id: "30-0" },
          ],
        });
        assert.equal(res.status, 409, JSON.stringify(res.body));
        assert.equal(res.body.error.code, "RUNNEL_ID_TOO_SMALL");
        assert.equal(res.body.error.field, "entries/1/id");

        assert.equal(await lengthOf(api, stream), 1);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => [e.id, e.payload]),
          [["10-0", "seed"]],
        );
        const info = await api.get(`/stream/${stream}/info`);
        assert.equal(info.body.lastGeneratedId, "10-0");
        assert.equal(info.body.entriesAdded, 1);
        assert.equal((await add(api, stream, "after", { id: "20-0" })).body.id, "20-0");
      });

      it("stores nothing of a batch whose second entry has an invalid id or partition", async () => {
        const stream = unique("atomic-other");
        await addOk(api, stream, "seed");
        const badId = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1 }, { payload: 2, id: "nope" }] });
        assert.equal(badId.status, 400);
        assert.equal(badId.body.error.code, "RUNNEL_INVALID_ID");
        assert.equal(badId.body.error.field, "entries/1/id");

        const zero = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1 }, { payload: 2, id: "0-0" }] });
        assert.equal(zero.status, 400);
        assert.equal(zero.body.error.code, "RUNNEL_INVALID_ID");
        assert.equal(zero.body.error.field, "entries/1/id");

        const badPartition = await api.post(`/stream/${stream}/entries`, {
          entries: [{ payload: 1 }, { payload: 2, partition: 1 }],
        });
        assert.equal(badPartition.status, 400);
        assert.equal(badPartition.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(badPartition.body.error.field, "entries/1/partition");

        const badPriority = await api.post(`/stream/${stream}/entries`, {
          entries: [{ payload: 1 }, { payload: 2, priority: "URGENT" }],
        });
        assert.equal(badPriority.status, 400);
        assert.equal(badPriority.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(badPriority.body.error.field, "entries/1/priority");

        const missingPayload = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1 }, { type: "t" }] });
        assert.equal(missingPayload.status, 400);
        assert.equal(missingPayload.body.error.field, "entries/1/payload");

        assert.equal(await lengthOf(api, stream), 1);
        assert.equal((await api.get(`/stream/${stream}/info`)).body.entriesAdded, 1);
      });

      it("names the field of a one-entry batch entries/0/id", async () => {
        const stream = unique("batch-of-one");
        await addOk(api, stream, "seed", { id: "10-0" });
        const tooSmall = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1, id: "5-0" }] });
        assert.equal(tooSmall.status, 409);
        assert.equal(tooSmall.body.error.code, "RUNNEL_ID_TOO_SMALL");
        assert.equal(tooSmall.body.error.field, "entries/0/id");

        const badPartition = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1, partition: 3 }] });
        assert.equal(badPartition.status, 400);
        assert.equal(badPartition.body.error.field, "entries/0/partition");
        assert.equal(await lengthOf(api, stream), 1);
      });

      it("names a single entry object's fields without a prefix", async () => {
        const stream = unique("single-errors");
        await addOk(api, stream, "seed", { id: "10-0" });
        const tooSmall = await api.post(`/stream/${stream}/entries`, { payload: 1, id: "9-0" });
        assert.equal(tooSmall.status, 409);
        assert.equal(tooSmall.body.error.code, "RUNNEL_ID_TOO_SMALL");
        assert.equal(tooSmall.body.error.field, "id");

        const unknown = await api.post(`/stream/${stream}/entries`, { payload: 1, colour: "red" });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error.field, "colour");

        const noPayload = await api.post(`/stream/${stream}/entries`, { type: "t" });
        assert.equal(noPayload.status, 400);
        assert.equal(noPayload.body.error.field, "payload");

        const emptyBatch = await api.post(`/stream/${stream}/entries`, { entries: [] });
        assert.equal(emptyBatch.status, 400);
        assert.equal(emptyBatch.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(await lengthOf(api, stream), 1);
      });
    });

    describe("GET /stream/:stream/range", () => {
      async function seeded(prefix: string): Promise<string> {
        const stream = unique(prefix);
        const res = await api.post(`/stream/${stream}/entries`, {
          entries: [
            { id: "1-0", payload: "a" },
            { id: "1-1", payload: "b" },
            { id: "2-0", payload: "c" },
            { id: "3-0", payload: "d" },
            { id: "3-1", payload: "e" },
            { id: "4-0", payload: "f" },
          ],
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return stream;
      }
      const payloadsOf = (entries: any[]) => entries.map((e) => e.payload).join("");

      it("answers everything with - and +, oldest first", async () => {
        const stream = await seeded("range-all");
        const res = await api.get(`/stream/${stream}/range${qs({ start: "-", end: "+" })}`);
        assert.equal(res.status, 200);
        assert.equal(res.body.stream, stream);
        assert.equal(payloadsOf(res.body.entries), "abcdef");
        assert.equal(payloadsOf(await rangeOf(api, stream)), "abcdef");
      });

      it("takes + typed unencoded in the URL (it arrives as a space), as the README's curl sends it", async () => {
        const stream = await seeded("range-plus");
        const res = await api.get(`/stream/${stream}/range?start=-&end=+&count=10`);
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(payloadsOf(res.body.entries), "abcdef");
        const reverse = await api.get(`/stream/${stream}/range?start=+&end=-&reverse=true`);
        assert.equal(reverse.status, 200, JSON.stringify(reverse.body));
      });

      it("takes inclusive ids, exclusive (ids and bare ms", async () => {
        const stream = await seeded("range-bounds");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "1-1", end: "3-0" })), "bcd");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "(1-1", end: "(3-1" })), "cd");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "(1-0", end: "+" })), "bcdef");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "-", end: "(2-0" })), "ab");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "3", end: "3" })), "de");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "2", end: "3" })), "cde");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "1", end: "1" })), "ab");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "3-1", end: "3-1" })), "e");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "(3-1", end: "(3-1" })), "");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "4-0", end: "1-0" })), "");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "5", end: "+" })), "");
      });

      it("answers newest first with reverse and limits with count", async () => {
        const stream = await seeded("range-reverse");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "-", end: "+", reverse: true })), "fedcba");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "-", end: "+", count: 2 })), "ab");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "-", end: "+", count: 2, reverse: true })), "fe");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "2", end: "3", reverse: true })), "edc");
        assert.equal(payloadsOf(await rangeOf(api, stream, { start: "(1-1", count: 3 })), "cde");
      });

      it("answers at most 100 entries when no count is given", async () => {
        const stream = unique("range-default");
        const res = await api.post(`/stream/${stream}/entries`, {
          entries: Array.from({ length: 150 }, (_, n) => ({ payload: n })),
        });
        assert.equal(res.status, 201);
        const entries = await rangeOf(api, stream);
        assert.equal(entries.length, 100);
        assert.equal(entries[0].payload, 0);
        assert.equal(entries[99].payload, 99);
        assert.equal((await rangeOf(api, stream, { count: 150 })).length, 150);
      });

      it("refuses bad bounds and counts with 400 and answers 404 for a missing stream", async () => {
        const stream = await seeded("range-errors");
        const badStart = await api.get(`/stream/${stream}/range${qs({ start: "x-1" })}`);
        assert.equal(badStart.status, 400);
        assert.equal(badStart.body.error.code, "RUNNEL_INVALID_ID");
        assert.equal(badStart.body.error.field, "start");
        const badEnd = await api.get(`/stream/${stream}/range${qs({ end: "((1" })}`);
        assert.equal(badEnd.status, 400);
        assert.equal(badEnd.body.error.field, "end");
        const zeroCount = await api.get(`/stream/${stream}/range${qs({ count: 0 })}`);
        assert.equal(zeroCount.status, 400);
        assert.equal(zeroCount.body.error.field, "count");
        const missing = await api.get(`/stream/${unique("nothing")}/range`);
        assert.equal(missing.status, 404);
        assert.equal(missing.body.error.code, "RUNNEL_NOT_FOUND");
      });
    });

    describe("GET /stream/:stream/read", () => {
      it("answers entries after an id, limited by count", async () => {
        const stream = unique("read-after");
        const ids: string[] = [];
        for (let n = 0; n < 5; n++) ids.push(await addOk(api, stream, n));
        const all = await api.get(`/stream/${stream}/read`);
        assert.equal(all.status, 200);
        assert.equal(all.body.stream, stream);
        assert.deepEqual(
          all.body.entries.map((e: any) => e.id),
          ids,
        );
        const after = await api.get(`/stream/${stream}/read${qs({ after: ids[1]! })}`);
        assert.deepEqual(
          after.body.entries.map((e: any) => e.payload),
          [2, 3, 4],
        );
        const limited = await api.get(`/stream/${stream}/read${qs({ after: ids[0]!, count: 2 })}`);
        assert.deepEqual(
          limited.body.entries.map((e: any) => e.payload),
          [1, 2],
        );
        const atTop = await api.get(`/stream/${stream}/read${qs({ after: ids[4]! })}`);
        assert.deepEqual(atTop.body.entries, []);
        const dollar = await api.get(`/stream/${stream}/read${qs({ after: "$" })}`);
        assert.deepEqual(dollar.body.entries, []);
        const bad = await api.get(`/stream/${stream}/read${qs({ after: "later" })}`);
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.code, "RUNNEL_INVALID_ID");
        assert.equal(bad.body.error.field, "after");
      });

      it("with $ and block, waits for and returns an entry appended by another request", async () => {
        const stream = unique("read-block");
        await addOk(api, stream, "old");
        let settled = false;
        const reading = api.get(`/stream/${stream}/read${qs({ after: "$", block: 10_000 })}`).finally(() => {
          settled = true;
        });
        const appended: string[] = [];
        for (let i = 0; i < 30 && !settled; i++) {
          await sleep(100);
          if (!settled) appended.push(await addOk(api, stream, { fresh: i }));
        }
        const res = await reading;
        assert.equal(res.status, 200);
        assert.ok(res.body.entries.length >= 1, JSON.stringify(res.body));
        for (const e of res.body.entries) {
          assert.ok(appended.includes(e.id), `${e.id} was appended while the read waited`);
          assert.notEqual(e.payload, "old");
        }
        assert.equal(res.body.entries[0].id, appended[0]);
      });

      it("answers an empty list when the block times out", async () => {
        const stream = unique("read-timeout");
        await addOk(api, stream, "old");
        const res = await api.get(`/stream/${stream}/read${qs({ after: "$", block: 150 })}`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { stream, entries: [] });
        const missing = unique("read-missing");
        const none = await api.get(`/stream/${missing}/read${qs({ block: 100 })}`);
        assert.equal(none.status, 200);
        assert.deepEqual(none.body, { stream: missing, entries: [] });
      });
    });

    describe("len, info and the stream list", () => {
      it("reports length 0 for a stream that does not exist and the count otherwise", async () => {
        const stream = unique("len");
        assert.deepEqual((await api.get(`/stream/${stream}/len`)).body, { length: 0 });
        for (let n = 0; n < 3; n++) await addOk(api, stream, n);
        const res = await api.get(`/stream/${stream}/len`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { length: 3 });
      });

      it("describes a stream: length, ids, counters, first and last entries, config", async () => {
        const stream = unique("info");
        const first = await addOk(api, stream, { n: 1 }, { type: "t1" });
        await addOk(api, stream, { n: 2 });
        const last = await addOk(api, stream, { n: 3 }, { key: "k" });
        const res = await api.get(`/stream/${stream}/info`);
        assert.equal(res.status, 200);
        const info = res.body;
        assert.equal(info.name, stream);
        assert.equal(info.namespace, "default");
        assert.equal(info.length, 3);
        assert.equal(info.lastGeneratedId, last);
        assert.equal(info.entriesAdded, 3);
        assert.equal(info.partitions, 1);
        assert.equal(info.maxLen, null);
        assert.equal(info.maxAgeMs, null);
        assert.equal(info.maxDeliveries, null);
        assert.equal(info.deadLetterStream, null);
        assert.equal(info.dedupeWindowMs, 120_000);
        assert.equal(typeof info.createdAt, "number");
        assert.equal(info.firstEntry.id, first);
        assert.deepEqual(info.firstEntry.payload, { n: 1 });
        assert.equal(info.firstEntry.type, "t1");
        assert.equal(info.lastEntry.id, last);
        assert.deepEqual(info.lastEntry.payload, { n: 3 });
        assert.equal(info.lastEntry.key, "k");
        assert.deepEqual(info.groups, []);
      });

      it("describes an empty stream with null first and last entries", async () => {
        const stream = unique("info-empty");
        assert.equal((await api.post(`/stream/${stream}`, {})).status, 201);
        const info = (await api.get(`/stream/${stream}/info`)).body;
        assert.equal(info.length, 0);
        assert.equal(info.lastGeneratedId, "0-0");
        assert.equal(info.entriesAdded, 0);
        assert.equal(info.firstEntry, null);
        assert.equal(info.lastEntry, null);
        assert.deepEqual(info.groups, []);
        const missing = await api.get(`/stream/${unique("info-missing")}/info`);
        assert.equal(missing.status, 404);
        assert.equal(missing.body.error.code, "RUNNEL_NOT_FOUND");
      });

      it("lists groups with their lag", async () => {
        const stream = unique("info-groups");
        for (let n = 0; n < 3; n++) await addOk(api, stream, n);
        assert.equal((await api.post(`/stream/${stream}/group/everything`, { startId: "0" })).status, 201);
        assert.equal((await api.post(`/stream/${stream}/group/newonly`, { startId: "$" })).status, 201);
        let info = (await api.get(`/stream/${stream}/info`)).body;
        assert.deepEqual(
          info.groups.map((g: any) => [g.name, g.lag, g.pending, g.consumers]).sort(),
          [
            ["everything", 3, 0, 0],
            ["newonly", 0, 0, 0],
          ],
        );
        await addOk(api, stream, 3);
        await addOk(api, stream, 4);
        info = (await api.get(`/stream/${stream}/info`)).body;
        assert.deepEqual(
          info.groups.map((g: any) => [g.name, g.lag]).sort(),
          [
            ["everything", 5],
            ["newonly", 2],
          ],
        );
        const read = await api.get(`/stream/${stream}/group/newonly/consumer/c1?count=10`);
        assert.deepEqual(
          read.body.entries.map((e: any) => e.payload),
          [3, 4],
        );
        const ack = await api.post(`/stream/${stream}/group/newonly/ack`, { ids: read.body.entries.map((e: any) => e.id) });
        assert.deepEqual(ack.body, { acked: 2 });
        info = (await api.get(`/stream/${stream}/info`)).body;
        const newonly = info.groups.find((g: any) => g.name === "newonly");
        assert.equal(newonly.lag, 0);
        assert.equal(newonly.pending, 0);
        assert.equal(newonly.consumers, 1);
        assert.equal(newonly.lastDeliveredId, read.body.entries[1].id);
      });

      it("lists streams by name with their lengths", async () => {
        const a = unique("list-a");
        const b = unique("list-b");
        await addOk(api, a, 1);
        await addOk(api, b, 1);
        const lastB = await addOk(api, b, 2);
        const res = await api.get("/streams");
        assert.equal(res.status, 200);
        const mine = res.body.streams.filter((s: any) => s.name === a || s.name === b);
        assert.deepEqual(
          mine.map((s: any) => [s.name, s.namespace, s.length, s.entriesAdded]),
          [
            [a, "default", 1, 1],
            [b, "default", 2, 2],
          ],
        );
        assert.equal(mine[1].lastGeneratedId, lastB);
        const names = res.body.streams.map((s: any) => s.name);
        assert.deepEqual(names, [...names].sort());
      });
    });

    describe("create, configure and delete streams", () => {
      it("creates a stream with options and answers 409 when it exists", async () => {
        const stream = unique("create");
        const options = {
          partitions: 3,
          maxLen: 100,
          maxAgeMs: 3_600_000,
          maxDeliveries: 5,
          deadLetterStream: `${stream}-dlq`,
          dedupeWindowMs: 1_000,
        };
        const res = await api.post(`/stream/${stream}`, options);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.name, stream);
        assert.equal(res.body.length, 0);
        for (const [k, v] of Object.entries(options)) assert.equal(res.body[k], v, k);

        const info = (await api.get(`/stream/${stream}/info`)).body;
        for (const [k, v] of Object.entries(options)) assert.equal(info[k], v, k);

        const again = await api.post(`/stream/${stream}`, { partitions: 1 });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, "RUNNEL_CONFLICT");
        assert.equal((await api.get(`/stream/${stream}/info`)).body.partitions, 3);

        const implicit = unique("create-implicit");
        await addOk(api, implicit, 1);
        assert.equal((await api.post(`/stream/${implicit}`, {})).status, 409);
      });

      it("refuses invalid options with 400", async () => {
        const cases: [Record<string, unknown>, string][] = [
          [{ partitions: 0 }, "partitions"],
          [{ partitions: 2000 }, "partitions"],
          [{ maxLen: -1 }, "maxLen"],
          [{ maxAgeMs: 0 }, "maxAgeMs"],
          [{ deadLetterStream: "-bad" }, "deadLetterStream"],
          [{ colour: "red" }, "colour"],
        ];
        for (const [body, field] of cases) {
          const stream = unique("create-bad");
          const res = await api.post(`/stream/${stream}`, body);
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
          assert.equal(res.body.error.field, field, JSON.stringify(body));
          assert.equal((await api.get(`/stream/${stream}/info`)).status, 404);
        }
      });

      it("grows partitions with PATCH but never shrinks them (409)", async () => {
        const stream = unique("patch");
        assert.equal((await api.post(`/stream/${stream}`, { partitions: 2 })).status, 201);
        await addOk(api, stream, "p1", { partition: 1 });
        const tooFar = await add(api, stream, "p3", { partition: 3 });
        assert.equal(tooFar.status, 400);
        assert.equal(tooFar.body.error.field, "partition");

        const grown = await api.patch(`/stream/${stream}`, { partitions: 4, maxLen: 50 });
        assert.equal(grown.status, 200, JSON.stringify(grown.body));
        assert.equal(grown.body.partitions, 4);
        assert.equal(grown.body.maxLen, 50);
        assert.equal(grown.body.length, 1);

        const p3 = await add(api, stream, "p3", { partition: 3 });
        assert.equal(p3.status, 201);
        assert.equal(p3.body.partition, 3);
        assert.equal(p3.body.offset, 0);
        const p1 = await add(api, stream, "p1 again", { partition: 1 });
        assert.equal(p1.body.offset, 1);

        const shrink = await api.patch(`/stream/${stream}`, { partitions: 3 });
        assert.equal(shrink.status, 409);
        assert.equal(shrink.body.error.code, "RUNNEL_CONFLICT");
        assert.equal(shrink.body.error.field, "partitions");
        const info = (await api.get(`/stream/${stream}/info`)).body;
        assert.equal(info.partitions, 4);
        assert.equal(info.maxLen, 50);
        assert.equal(info.length, 3);

        const missing = await api.patch(`/stream/${unique("patch-missing")}`, { partitions: 2 });
        assert.equal(missing.status, 404);
      });

      it("keeps only the newest maxLen entries after appends", async () => {
        const stream = unique("maxlen");
        assert.equal((await api.post(`/stream/${stream}`, { maxLen: 3 })).status, 201);
        const ids: string[] = [];
        for (let n = 0; n < 5; n++) ids.push(await addOk(api, stream, n));
        assert.equal(await lengthOf(api, stream), 3);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => [e.id, e.payload]),
          [
            [ids[2], 2],
            [ids[3], 3],
            [ids[4], 4],
          ],
        );
        const batch = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 5 }, { payload: 6 }] });
        assert.equal(batch.status, 201);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.payload),
          [4, 5, 6],
        );
        const info = (await api.get(`/stream/${stream}/info`)).body;
        assert.equal(info.length, 3);
        assert.equal(info.entriesAdded, 7);
        assert.equal(info.firstEntry.payload, 4);

        const patched = await api.patch(`/stream/${stream}`, { maxLen: 1 });
        assert.equal(patched.status, 200);
        assert.equal(patched.body.length, 1);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.payload),
          [6],
        );
      });

      it("drops entries older than maxAgeMs when a newer one is appended", async () => {
        const stream = unique("maxage");
        assert.equal((await api.post(`/stream/${stream}`, { maxAgeMs: 100 })).status, 201);
        await addOk(api, stream, "old");
        await sleep(250);
        const fresh = await addOk(api, stream, "new");
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => [e.id, e.payload]),
          [[fresh, "new"]],
        );
        assert.equal(await lengthOf(api, stream), 1);
      });

      it("routes one key to one partition, counting offsets per partition from 0", async () => {
        const stream = unique("keys");
        assert.equal((await api.post(`/stream/${stream}`, { partitions: 4 })).status, 201);
        const keys = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
        const seen = new Map<string, number[]>();
        const results: { key: string; partition: number; offset: number; id: string }[] = [];
        for (let round = 0; round < 3; round++) {
          for (const key of keys) {
            const res = await add(api, stream, { key, round }, { key });
            assert.equal(res.status, 201);
            seen.set(key, [...(seen.get(key) ?? []), res.body.partition]);
            results.push({ key, partition: res.body.partition, offset: res.body.offset, id: res.body.id });
          }
        }
        for (const [key, partitions] of seen) {
          assert.equal(new Set(partitions).size, 1, `${key} went to ${partitions.join(",")}`);
          assert.ok(partitions[0]! >= 0 && partitions[0]! < 4);
        }
        assert.ok(new Set([...seen.values()].map((p) => p[0])).size > 1, "eight keys share one partition");
        for (let p = 0; p < 4; p++) {
          const offsets = results.filter((r) => r.partition === p).map((r) => r.offset);
          assert.deepEqual(
            offsets,
            offsets.map((_, i) => i),
            `partition ${p}`,
          );
        }
        const stored = await rangeOf(api, stream);
        assert.deepEqual(
          stored.map((e) => [e.id, e.key, e.partition, e.offset]),
          results.map((r) => [r.id, r.key, r.partition, r.offset]),
        );
        const batch = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: 1, key: "alpha" }, { payload: 2, messageGroup: "alpha" }] });
        assert.equal(batch.status, 201);
        assert.deepEqual(
          batch.body.results.map((r: any) => r.partition),
          [seen.get("alpha")![0], seen.get("alpha")![0]],
        );
      });

      it("refuses an explicit partition out of range with 400 and stores nothing", async () => {
        const stream = unique("partition-range");
        assert.equal((await api.post(`/stream/${stream}`, { partitions: 2 })).status, 201);
        const res = await add(api, stream, "x", { partition: 2 });
        assert.equal(res.status, 400);
        assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
        assert.equal(res.body.error.field, "partition");
        const negative = await add(api, stream, "x", { partition: -1 });
        assert.equal(negative.status, 400);
        const single = await api.post(`/stream/${stream}/entries`, { payload: "x", partition: 5 });
        assert.equal(single.status, 400);
        assert.equal(single.body.error.field, "partition");
        assert.equal(await lengthOf(api, stream), 0);
        const ok = await add(api, stream, "y", { partition: 1 });
        assert.deepEqual([ok.status, ok.body.partition, ok.body.offset], [201, 1, 0]);
      });

      it("deletes a stream: info answers 404 and the name starts afresh", async () => {
        const stream = unique("delete-stream");
        await addOk(api, stream, 1, { id: "50-0" });
        assert.equal((await api.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);
        const res = await api.del(`/stream/${stream}`);
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { deleted: true });
        const info = await api.get(`/stream/${stream}/info`);
        assert.equal(info.status, 404);
        assert.equal(info.body.error.code, "RUNNEL_NOT_FOUND");
        assert.equal(await lengthOf(api, stream), 0);
        assert.ok(!(await api.get("/streams")).body.streams.some((s: any) => s.name === stream));
        const again = await api.del(`/stream/${stream}`);
        assert.equal(again.status, 404);

        assert.equal((await add(api, stream, 2, { id: "1-0" })).body.id, "1-0");
        const fresh = (await api.get(`/stream/${stream}/info`)).body;
        assert.equal(fresh.length, 1);
        assert.equal(fresh.entriesAdded, 1);
        assert.deepEqual(fresh.groups, []);
      });
    });

    describe("trim and delete entries", () => {
      async function fiveEntries(prefix: string) {
        const stream = unique(prefix);
        const res = await api.post(`/stream/${stream}/entries`, {
          entries: [1, 2, 3, 4, 5].map((n) => ({ id: `${n}-0`, payload: n })),
        });
        assert.equal(res.status, 201);
        return stream;
      }

      it("trims to maxLen, keeping the newest", async () => {
        const stream = await fiveEntries("trim-maxlen");
        const res = await api.post(`/stream/${stream}/trim`, { maxLen: 2 });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { trimmed: 3 });
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.id),
          ["4-0", "5-0"],
        );
        const info = (await api.get(`/stream/${stream}/info`)).body;
        assert.equal(info.length, 2);
        assert.equal(info.entriesAdded, 5);
        assert.equal(info.lastGeneratedId, "5-0");
        assert.equal(info.firstEntry.id, "4-0");
        assert.deepEqual((await api.post(`/stream/${stream}/trim`, { maxLen: 5 })).body, { trimmed: 0 });
        assert.deepEqual((await api.post(`/stream/${stream}/trim`, { maxLen: 0 })).body, { trimmed: 2 });
        assert.equal(await lengthOf(api, stream), 0);
      });

      it("trims below minId", async () => {
        const stream = await fiveEntries("trim-minid");
        const res = await api.post(`/stream/${stream}/trim`, { minId: "3-0" });
        assert.deepEqual([res.status, res.body], [200, { trimmed: 2 }]);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.id),
          ["3-0", "4-0", "5-0"],
        );
        assert.equal(await lengthOf(api, stream), 3);
        assert.deepEqual((await api.post(`/stream/${stream}/trim`, { minId: "1-0" })).body, { trimmed: 0 });
      });

      it("refuses a trim without maxLen or minId, or with a bad id, and 404s a missing stream", async () => {
        const stream = await fiveEntries("trim-bad");
        const none = await api.post(`/stream/${stream}/trim`, {});
        assert.equal(none.status, 400);
        assert.equal(none.body.error.code, "RUNNEL_BAD_REQUEST");
        const badId = await api.post(`/stream/${stream}/trim`, { minId: "soon" });
        assert.equal(badId.status, 400);
        assert.equal(badId.body.error.code, "RUNNEL_INVALID_ID");
        assert.equal(badId.body.error.field, "minId");
        assert.equal((await api.post(`/stream/${unique("trim-missing")}/trim`, { maxLen: 1 })).status, 404);
        assert.equal(await lengthOf(api, stream), 5);
      });

      it("deletes entries by id, counting only those that existed", async () => {
        const stream = await fiveEntries("delete-ids");
        const res = await api.post(`/stream/${stream}/delete`, { ids: ["2-0", "5-0", "9-0"] });
        assert.equal(res.status, 200);
        assert.deepEqual(res.body, { deleted: 2 });
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.id),
          ["1-0", "3-0", "4-0"],
        );
        const info = (await api.get(`/stream/${stream}/info`)).body;
        assert.equal(info.length, 3);
        assert.equal(info.lastGeneratedId, "5-0");
        assert.equal(info.lastEntry.id, "4-0");
        assert.deepEqual((await api.post(`/stream/${stream}/delete`, { ids: ["2-0"] })).body, { deleted: 0 });
        // The top id stays, so the deleted id cannot be reused.
        const reuse = await add(api, stream, "again", { id: "5-0" });
        assert.equal(reuse.status, 409);
        assert.equal(reuse.body.error.code, "RUNNEL_ID_TOO_SMALL");

        const bad = await api.post(`/stream/${stream}/delete`, { ids: ["1-0", "oops"] });
        assert.equal(bad.status, 400);
        assert.equal(bad.body.error.field, "ids/1");
        assert.equal(await lengthOf(api, stream), 3);
      });
    });

    describe("idempotent appends", () => {
      it("answers the original id with duplicate true for the same messageId and producerId", async () => {
        const stream = unique("dedupe");
        const first = await add(api, stream, { v: 1 }, { messageId: "m-1", producerId: "p-1" });
        assert.equal(first.status, 201);
        assert.equal(first.body.duplicate, false);
        const second = await add(api, stream, { v: 2 }, { messageId: "m-1", producerId: "p-1" });
        assert.equal(second.status, 201);
        assert.deepEqual(second.body, { ...first.body, duplicate: true });
        assert.equal(await lengthOf(api, stream), 1);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.payload),
          [{ v: 1 }],
        );

        const viaEntries = await api.post(`/stream/${stream}/entries`, { payload: { v: 3 }, messageId: "m-1", producerId: "p-1" });
        assert.equal(viaEntries.status, 201);
        assert.deepEqual(viaEntries.body.results, [{ ...first.body, duplicate: true }]);
        assert.equal((await api.get(`/stream/${stream}/info`)).body.entriesAdded, 1);
      });

      it("deduplicates a messageId without producerId too", async () => {
        const stream = unique("dedupe-noproducer");
        const first = await addOk(api, stream, 1, { messageId: "solo" });
        const second = await add(api, stream, 2, { messageId: "solo" });
        assert.equal(second.body.id, first);
        assert.equal(second.body.duplicate, true);
        assert.equal(await lengthOf(api, stream), 1);
      });

      it("keeps the same messageId from different producers as separate entries", async () => {
        const stream = unique("dedupe-producers");
        const a = await add(api, stream, "a", { messageId: "m-1", producerId: "p-a" });
        const b = await add(api, stream, "b", { messageId: "m-1", producerId: "p-b" });
        const none = await add(api, stream, "none", { messageId: "m-1" });
        assert.equal(a.body.duplicate, false);
        assert.equal(b.body.duplicate, false);
        assert.equal(none.body.duplicate, false);
        assert.equal(new Set([a.body.id, b.body.id, none.body.id]).size, 3);
        assert.equal(await lengthOf(api, stream), 3);
        const otherStream = unique("dedupe-other");
        const elsewhere = await add(api, otherStream, "a", { messageId: "m-1", producerId: "p-a" });
        assert.equal(elsewhere.body.duplicate, false);
        assert.equal(await lengthOf(api, otherStream), 1);
      });

      it("stores one entry for a batch that repeats a messageId", async () => {
        const stream = unique("dedupe-batch");
        const res = await api.post(`/stream/${stream}/entries`, {
          entries: [
            { payload: "first", messageId: "dup" },
            { payload: "other", messageId: "different" },
            { payload: "second", messageId: "dup" },
          ],
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.ids[0], res.body.ids[2]);
        assert.notEqual(res.body.ids[0], res.body.ids[1]);
        assert.deepEqual(
          res.body.results.map((r: any) => r.duplicate),
          [false, false, true],
        );
        assert.deepEqual(res.body.results[2], { ...res.body.results[0], duplicate: true });
        assert.equal(await lengthOf(api, stream), 2);
        assert.deepEqual(
          (await rangeOf(api, stream)).map((e) => e.payload),
          ["first", "other"],
        );
      });

      it("stores the messageId again once the dedupe window has passed", async () => {
        const stream = unique("dedupe-window");
        assert.equal((await api.post(`/stream/${stream}`, { dedupeWindowMs: 100 })).status, 201);
        const first = await addOk(api, stream, 1, { messageId: "m" });
        const inside = await add(api, stream, 2, { messageId: "m" });
        assert.equal(inside.body.id, first);
        assert.equal(inside.body.duplicate, true);
        await sleep(250);
        const later = await add(api, stream, 3, { messageId: "m" });
        assert.equal(later.body.duplicate, false);
        assert.notEqual(later.body.id, first);
        assert.equal(await lengthOf(api, stream), 2);
      });
    });
  });
}
