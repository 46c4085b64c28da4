// Bad HTTP input gets one clear error shape, {"error": {"code", "message", "field"?}}, and changes nothing.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, it } from "node:test";
import { backends } from "./helpers/backends.js";
import { client, unique, type Res } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import type { RunningServer } from "../src/api/server.js";

const BODY_LIMIT = 2048;

type Api = ReturnType<typeof client>;

interface Rejection {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  path: string;
  /** A string is sent as is (with content-type application/json); anything else as JSON; undefined sends no body. */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
  message?: RegExp;
}

/** Context members an error may carry besides code, message and field (documented in README). */
const CONTEXT_MEMBERS = new Set(["topId"]);

/** Exactly `{error: {code, message, field?}}`, plus documented context members. */
function assertErrorShape(body: unknown, what: string): void {
  assert.ok(body !== null && typeof body === "object" && !Array.isArray(body), `${what}: the body is not a JSON object: ${String(body)}`);
  assert.deepEqual(Object.keys(body), ["error"], `${what}: the body has keys other than "error"`);
  const { code, message, field, ...rest } = (body as { error: Record<string, unknown> }).error;
  assert.match(String(code), /^RUNNEL_[A-Z_]+$/, `${what}: code`);
  assert.equal(typeof message, "string", `${what}: message`);
  assert.ok((message as string).length > 0, `${what}: empty message`);
  if (field !== undefined) assert.equal(typeof field, "string", `${what}: field`);
  const unknown = Object.keys(rest).filter((k) => !CONTEXT_MEMBERS.has(k));
  assert.deepEqual(unknown, [], `${what}: the error has undocumented members besides code, message and field`);
}

function assertError(res: Res, expected: Omit<Rejection, "method" | "path">, what: string): void {
  const seen = JSON.stringify(res.body);
  assert.equal(res.status, expected.status, `${what}: status, body ${seen}`);
  assert.equal(res.body?.error?.code, expected.code, `${what}: code, body ${seen}`);
  if (expected.field !== undefined) assert.equal(res.body.error.field, expected.field, `${what}: field, body ${seen}`);
  if (expected.message) assert.match(res.body.error.message, expected.message, `${what}: message`);
  assertErrorShape(res.body, what);
}

/** What a user would look at to see whether a request changed anything. */
async function snapshot(api: Api, stream: string) {
  const [len, info, range, pending, streams] = await Promise.all([
    api.get(`/stream/${stream}/len`),
    api.get(`/stream/${stream}/info`),
    api.get(`/stream/${stream}/range?count=1000`),
    api.get(`/stream/${stream}/group/g/pending`),
    api.get("/streams"),
  ]);
  return {
    len: len.body,
    info: info.body,
    range: range.body,
    pending: pending.body,
    streams: (streams.body.streams as { name: string }[]).map((s) => s.name).sort(),
  };
}

/** A stream with three entries and group `g`, where consumer `c` holds the first entry pending. */
async function seed(api: Api): Promise<{ stream: string; ids: string[] }> {
  const stream = unique("errors");
  const added = await api.post(`/stream/${stream}/entries`, { entries: [{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }] });
  assert.equal(added.status, 201);
  assert.equal((await api.post(`/stream/${stream}/group/g`, { startId: "0" })).status, 201);
  const read = await api.get(`/stream/${stream}/group/g/consumer/c?count=1`);
  assert.equal(read.body.entries.length, 1);
  return { stream, ids: added.body.ids };
}

/** Sends each request; each must leave the stream, its group and the stream list as they were, and answer the error. */
async function expectRejected(api: Api, stream: string, cases: Rejection[]): Promise<void> {
  const before = await snapshot(api, stream);
  assert.equal(before.info.length, 3, "the seeded stream is readable");
  for (const c of cases) {
    const what = `${c.method} ${c.path.slice(0, 120)} ${c.body === undefined ? "(no body)" : String(typeof c.body === "string" ? c.body : JSON.stringify(c.body)).slice(0, 80)}`;
    const res = await api.call(c.method, c.path, c.body, c.headers);
    assert.deepEqual(await snapshot(api, stream), before, `${what} changed the stream`);
    assertError(res, c, what);
  }
}

/** A request over node:http, for what fetch will not send: no content-type at all, or a chunked body. */
function rawRequest(
  base: string,
  method: string,
  path: string,
  chunks: string[],
  headers: Record<string, string | number>,
): Promise<Res> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

for (const backend of await backends()) {
  describe(`HTTP errors (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    before(async () => {
      server = await startTestServer(await backend.fresh(), { bodyLimit: BODY_LIMIT });
      api = client(server.url);
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("rejects a malformed JSON body with 400 RUNNEL_BAD_REQUEST", async () => {
      const { stream: s } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST", message: /JSON/ } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/entries`, body: "{bad", ...bad },
        { method: "POST", path: `/stream/${s}/add`, body: '{"hello": ', ...bad },
        { method: "POST", path: `/stream/${s}/entries`, body: '{"payload": 1} trailing', ...bad },
        { method: "POST", path: `/stream/${s}/entries`, body: "payload=1", ...bad },
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: '{"ids": ["1-0"', ...bad },
        { method: "POST", path: `/stream/${s}/trim`, body: "{maxLen: 0}", ...bad },
      ]);
    });

    it("rejects an empty body where one is needed", async () => {
      const { stream: s } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST", message: /body/ } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/entries`, ...bad },
        { method: "POST", path: `/stream/${s}/entries`, body: "", ...bad },
        { method: "POST", path: `/stream/${s}/add`, ...bad },
        { method: "POST", path: `/stream/${s}/add`, body: "  \n ", ...bad },
        { method: "POST", path: `/stream/${s}/group/g/ack`, ...bad },
        { method: "POST", path: `/stream/${s}/group/g/setid`, body: "", ...bad },
        { method: "POST", path: `/stream/${s}/trim`, ...bad },
        // JSON that is not an object is no better than nothing.
        { method: "POST", path: `/stream/${s}/entries`, body: "null", ...bad },
        { method: "POST", path: `/stream/${s}/entries`, body: [{ payload: 1 }], ...bad },
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: "42", ...bad },
      ]);
    });

    it("names the missing required field", async () => {
      const { stream: s, ids } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: {}, ...bad, field: "ids" },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{}] }, ...bad, field: "entries/0/payload" },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1 }, { type: "t" }] }, ...bad, field: "entries/1/payload" },
        { method: "POST", path: `/stream/${s}/entries`, body: {}, ...bad, field: "payload" },
        { method: "POST", path: `/stream/${s}/group/g/setid`, body: {}, ...bad, field: "id" },
        { method: "POST", path: `/stream/${s}/group/g/claim`, body: { consumer: "d", ids: [ids[0]] }, ...bad, field: "minIdleTime" },
        { method: "POST", path: `/stream/${s}/group/g/nack`, body: { delayMs: 0 }, ...bad, field: "ids" },
        { method: "POST", path: `/stream/${s}/trim`, body: {}, ...bad, field: "maxLen" },
      ]);
    });

    it("does not coerce wrongly typed fields in a JSON body", async () => {
      const { stream: s, ids } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: { ids: ids[0] }, ...bad, field: "ids" },
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: { ids: [1] }, ...bad, field: "ids/0" },
        { method: "POST", path: `/stream/${s}/dlq/reprocess`, body: { count: "5" }, ...bad, field: "count" },
        { method: "POST", path: `/stream/${s}/group/g/autoclaim`, body: { consumer: "d", minIdleTime: 0, count: "5" }, ...bad, field: "count" },
        { method: "POST", path: `/stream/${s}/group/g/claim`, body: { consumer: "d", minIdleTime: "0", ids: [ids[0]] }, ...bad, field: "minIdleTime" },
        { method: "POST", path: `/stream/${s}/group/g/nack`, body: { ids: [ids[0]], delayMs: "10" }, ...bad, field: "delayMs" },
        { method: "POST", path: `/stream/${s}/group/g2`, body: { mkStream: "true" }, ...bad, field: "mkStream" },
        // If "0" were read as 0 this would empty the stream.
        { method: "POST", path: `/stream/${s}/trim`, body: { maxLen: "0" }, ...bad, field: "maxLen" },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1, partition: "0" }] }, ...bad, field: "entries/0/partition" },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1, headers: { a: 1 } }] }, ...bad, field: "entries/0/headers/a" },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: { payload: 1 } }, ...bad, field: "entries" },
        { method: "PATCH", path: `/stream/${s}`, body: { maxLen: "1" }, ...bad, field: "maxLen" },
      ]);
    });

    it("rejects unknown fields in a body, naming them", async () => {
      const { stream: s, ids } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1 }], extra: 1 }, ...bad, field: "extra", message: /extra/ },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1, bogus: 1 }] }, ...bad, field: "entries/0/bogus", message: /bogus/ },
        { method: "POST", path: `/stream/${s}/entries`, body: { payload: 1, colour: "red" }, ...bad, field: "colour", message: /colour/ },
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: { ids: [ids[0]], nope: true }, ...bad, field: "nope", message: /nope/ },
        { method: "POST", path: `/stream/${s}/group/g2`, body: { startId: "0", mkstream: true }, ...bad, field: "mkstream", message: /mkstream/ },
        { method: "PATCH", path: `/stream/${s}`, body: { maxlen: 1 }, ...bad, field: "maxlen", message: /maxlen/ },
        { method: "POST", path: `/stream/${s}/trim`, body: { maxLen: 0, approximate: true }, ...bad, field: "approximate", message: /approximate/ },
      ]);
    });

    it("refuses a NUL character in a field stored as text, and times past the last date there is", async () => {
      const { stream: s } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/entries`, body: { payload: 1, key: "a\u0000b" }, ...bad, field: "key", message: /must not contain a NUL character/ },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1, type: "t\u0000" }] }, ...bad, field: "entries/0/type", message: /NUL/ },
        { method: "POST", path: `/stream/${s}/add?correlationId=a%00b`, body: 1, ...bad, field: "correlationId", message: /NUL/ },
        { method: "POST", path: `/stream/${s}/entries`, body: { payload: 1, deliverAt: 1e20 }, ...bad, field: "deliverAt", message: /<= 8640000000000000/ },
        { method: "POST", path: `/stream/${s}/entries`, body: { payload: 1, delaySeconds: 1e15 }, ...bad, field: "delaySeconds" },
      ]);
      // A NUL inside the JSON payload is fine: it is stored as JSON text.
      const ok = await api.post(`/stream/${s}/entries`, { payload: "a\u0000b" });
      assert.equal(ok.status, 201);
    });

    it("says which values a field of several forms takes (priority: a name or 0-10)", async () => {
      const { stream: s } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/entries`, body: { payload: 1, priority: "URGENT" }, ...bad, field: "priority", message: /must be one of "LOW", "NORMAL", "HIGH", "CRITICAL" or an integer/ },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: 1, priority: 11 }] }, ...bad, field: "entries/0/priority", message: /must be <= 10/ },
        { method: "POST", path: `/api/v1/queues/default/${s}/messages/batch`, body: { messages: [{ payload: 1, priority: "urgent" }] }, ...bad, field: "messages/0/priority", message: /must be one of/ },
      ]);
    });

    it("rejects out-of-range and malformed query values, naming the field", async () => {
      const { stream: s } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      await expectRejected(api, s, [
        { method: "GET", path: `/stream/${s}/range?count=0`, ...bad, field: "count" },
        { method: "GET", path: `/stream/${s}/range?count=abc`, ...bad, field: "count" },
        { method: "GET", path: `/stream/${s}/range?count=1.5`, ...bad, field: "count" },
        { method: "GET", path: `/stream/${s}/range?count=10001`, ...bad, field: "count" },
        { method: "GET", path: `/stream/${s}/range?reverse=yes`, ...bad, field: "reverse" },
        { method: "GET", path: `/stream/${s}/range?colour=red`, ...bad, field: "colour" },
        { method: "GET", path: `/stream/${s}/read?block=-1`, ...bad, field: "block" },
        { method: "GET", path: `/stream/${s}/read?block=soon`, ...bad, field: "block" },
        { method: "GET", path: `/stream/${s}/group/g/consumer/c?count=0`, ...bad, field: "count" },
        { method: "GET", path: `/stream/${s}/group/g/consumer/c?block=-1`, ...bad, field: "block" },
        { method: "GET", path: `/stream/${s}/group/g/consumer/c?noack=maybe`, ...bad, field: "noack" },
        { method: "GET", path: `/stream/${s}/group/g/pending?count=0`, ...bad, field: "count" },
        { method: "GET", path: `/stream/${s}/group/g/pending?idle=-5`, ...bad, field: "idle" },
        { method: "POST", path: `/stream/${s}/add?partition=-1`, body: { a: 1 }, ...bad, field: "partition" },
        { method: "POST", path: `/stream/${s}/add?priority=URGENT`, body: { a: 1 }, ...bad, field: "priority" },
        { method: "GET", path: `/stream/${s}/range?start=abc`, status: 400, code: "RUNNEL_INVALID_ID", field: "start" },
        { method: "GET", path: `/stream/${s}/read?after=abc`, status: 400, code: "RUNNEL_INVALID_ID", field: "after" },
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: { ids: ["1-0", "abc"] }, status: 400, code: "RUNNEL_INVALID_ID", field: "ids/1" },
      ]);
    });

    it("rejects invalid stream, group and consumer names", async () => {
      const { stream: s } = await seed(api);
      const bad = { status: 400, code: "RUNNEL_BAD_REQUEST" } as const;
      const long = "x".repeat(300);
      await expectRejected(api, s, [
        { method: "POST", path: "/stream/has%20space/add", body: { a: 1 }, ...bad, field: "stream" },
        { method: "POST", path: `/stream/${long}/add`, body: { a: 1 }, ...bad, field: "stream" },
        { method: "POST", path: `/stream/${long}/entries`, body: { payload: 1 }, ...bad, field: "stream" },
        { method: "POST", path: "/stream/.hidden/add", body: { a: 1 }, ...bad, field: "stream" },
        { method: "GET", path: "/stream/has%20space/info", ...bad, field: "stream" },
        { method: "POST", path: `/stream/${s}/group/has%20space`, body: { startId: "0" }, ...bad, field: "group" },
        { method: "POST", path: `/stream/${s}/group/${long}`, body: { startId: "0" }, ...bad, field: "group" },
        { method: "GET", path: `/stream/${s}/group/g/consumer/has%20space`, ...bad, field: "consumer" },
      ]);
    });

    it("keeps the error shape for URLs the router itself rejects", async () => {
      const { stream: s } = await seed(api);
      const before = await snapshot(api, s);
      const badEscape = await api.post("/stream/bad%zz/add", { a: 1 });
      const tooLong = await api.post(`/stream/${"y".repeat(600)}/add`, { a: 1 });
      assert.deepEqual(await snapshot(api, s), before);
      assertError(badEscape, { status: 400, code: "RUNNEL_BAD_REQUEST" }, "a bad percent-escape");
      assert.ok([400, 414].includes(tooLong.status), `a 600-character name: status ${tooLong.status}`);
      assertError(tooLong, { status: tooLong.status, code: "RUNNEL_BAD_REQUEST" }, "a 600-character name");
    });

    it("answers 413 RUNNEL_PAYLOAD_TOO_LARGE for a body over the limit", async () => {
      const { stream: s } = await seed(api);
      const big = "x".repeat(BODY_LIMIT);
      const tooLarge = { status: 413, code: "RUNNEL_PAYLOAD_TOO_LARGE" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/add`, body: { big }, ...tooLarge },
        { method: "POST", path: `/stream/${s}/entries`, body: { entries: [{ payload: big }] }, ...tooLarge },
        { method: "POST", path: `/stream/${s}/group/g/ack`, body: { ids: Array.from({ length: 400 }, (_, i) => `${i + 1}-0`) }, ...tooLarge },
      ]);

      // Without a content-length the limit still holds.
      const before = await snapshot(api, s);
      const chunked = await rawRequest(server.url, "POST", `/stream/${s}/add`, ['{"big":"', ...Array(8).fill("z".repeat(500)), '"}'], {
        "content-type": "application/json",
        "transfer-encoding": "chunked",
      });
      assert.deepEqual(await snapshot(api, s), before);
      assertError(chunked, tooLarge, "a chunked body over the limit");

      // A body just under the limit is fine.
      const fits = JSON.stringify({ a: "x".repeat(BODY_LIMIT - 10) });
      assert.ok(Buffer.byteLength(fits) <= BODY_LIMIT);
      assert.equal((await api.post(`/stream/${unique("fits")}/add`, fits)).status, 201);
    });

    it("answers unknown routes and methods with a 404 JSON error", async () => {
      const { stream: s } = await seed(api);
      const missing = { status: 404, code: "RUNNEL_NOT_FOUND" } as const;
      await expectRejected(api, s, [
        { method: "GET", path: "/nope", ...missing },
        { method: "GET", path: "/stream", ...missing },
        { method: "GET", path: `/stream/${s}/nope`, ...missing },
        { method: "PUT", path: `/stream/${s}`, body: { partitions: 2 }, ...missing },
        { method: "POST", path: `/stream/${s}/info`, body: {}, ...missing },
        { method: "DELETE", path: "/streams", ...missing },
        { method: "POST", path: "/health", ...missing },
        { method: "DELETE", path: `/stream/${s}/group/g/ack`, ...missing },
        { method: "POST", path: `/stream/${s}/group/g/consumer/c/extra`, body: {}, ...missing },
      ]);
    });

    it("answers 404 for an unknown route even when the body is malformed", async () => {
      const { stream: s } = await seed(api);
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/apend`, body: "{not json", status: 404, code: "RUNNEL_NOT_FOUND" },
        { method: "POST", path: "/nope", body: "{not json", status: 404, code: "RUNNEL_NOT_FOUND" },
      ]);
    });

    it("answers 404 RUNNEL_NOT_FOUND for an unknown stream or group and creates neither", async () => {
      const { stream: s, ids } = await seed(api);
      const noStream = unique("missing");
      const stream = { status: 404, code: "RUNNEL_NOT_FOUND", field: "stream" } as const;
      const group = { status: 404, code: "RUNNEL_NOT_FOUND", field: "group" } as const;
      await expectRejected(api, s, [
        { method: "GET", path: `/stream/${noStream}/info`, ...stream },
        { method: "GET", path: `/stream/${noStream}/range`, ...stream },
        { method: "GET", path: `/stream/${noStream}/groups`, ...stream },
        { method: "DELETE", path: `/stream/${noStream}`, ...stream },
        { method: "PATCH", path: `/stream/${noStream}`, body: { maxLen: 10 }, ...stream },
        { method: "POST", path: `/stream/${noStream}/trim`, body: { maxLen: 0 }, ...stream },
        { method: "POST", path: `/stream/${noStream}/delete`, body: { ids: ["1-0"] }, ...stream },
        { method: "POST", path: `/stream/${noStream}/group/g`, body: { mkStream: false }, ...stream },
        { method: "GET", path: `/stream/${noStream}/group/g/consumer/c`, ...stream },
        { method: "GET", path: `/stream/${noStream}/group/g/pending`, ...stream },
        { method: "POST", path: `/stream/${noStream}/group/g/ack`, body: { ids: ["1-0"] }, ...stream },
        { method: "GET", path: `/stream/${s}/group/nosuch`, ...group },
        { method: "GET", path: `/stream/${s}/group/nosuch/consumer/c`, ...group },
        { method: "GET", path: `/stream/${s}/group/nosuch/consumer/c?block=100`, ...group },
        { method: "GET", path: `/stream/${s}/group/nosuch/pending`, ...group },
        { method: "POST", path: `/stream/${s}/group/nosuch/ack`, body: { ids: [ids[0]] }, ...group },
        { method: "POST", path: `/stream/${s}/group/nosuch/nack`, body: { ids: [ids[0]] }, ...group },
        { method: "POST", path: `/stream/${s}/group/nosuch/setid`, body: { id: "0" }, ...group },
        { method: "POST", path: `/stream/${s}/group/nosuch/claim`, body: { consumer: "c", minIdleTime: 0, ids: [ids[0]] }, ...group },
        { method: "DELETE", path: `/stream/${s}/group/nosuch`, ...group },
        { method: "DELETE", path: `/stream/${s}/group/g/consumer/nosuch`, status: 404, code: "RUNNEL_NOT_FOUND", field: "consumer" },
      ]);
      assert.equal((await api.get(`/stream/${noStream}/len`)).body.length, 0);
    });

    it("answers 409 RUNNEL_ID_TOO_SMALL for ids out of order and stores none of the batch", async () => {
      const { stream: s, ids } = await seed(api);
      const top = ids[2]!;
      const topMs = Number(top.split("-")[0]);
      const later = `${topMs + 1000}-0`;
      const tooSmall = { status: 409, code: "RUNNEL_ID_TOO_SMALL" } as const;
      await expectRejected(api, s, [
        { method: "POST", path: `/stream/${s}/add?id=1-0`, body: { a: 1 }, ...tooSmall, field: "id" },
        { method: "POST", path: `/stream/${s}/add?id=${top}`, body: { a: 1 }, ...tooSmall, field: "id" },
        { method: "POST", path: `/stream/${s}/add?id=${topMs - 1}-*`, body: { a: 1 }, ...tooSmall, field: "id" },
        { method: "POST", path: `/stream/${s}/entries`, body: { id: "1-0", payload: 1 }, ...tooSmall, field: "id" },
        {
          method: "POST",
          path: `/stream/${s}/entries`,
          body: { entries: [{ id: later, payload: 1 }, { id: later, payload: 2 }] },
          ...tooSmall,
          field: "entries/1/id",
        },
        {
          method: "POST",
          path: `/stream/${s}/entries`,
          body: { entries: [{ payload: 1 }, { payload: 2 }, { id: "1-0", payload: 3 }] },
          ...tooSmall,
          field: "entries/2/id",
        },
      ]);
    });

    it("names the entry's index when a one-entry batch has an id out of order", async () => {
      const { stream: s } = await seed(api);
      await expectRejected(api, s, [
        {
          method: "POST",
          path: `/stream/${s}/entries`,
          body: { entries: [{ id: "1-0", payload: 1 }] },
          status: 409,
          code: "RUNNEL_ID_TOO_SMALL",
          field: "entries/0/id",
        },
      ]);
    });

    it("reads a body sent without a JSON content-type as JSON", async () => {
      const s = unique("no-content-type");
      const body = JSON.stringify({ sent: "bare" });
      const bare = await rawRequest(server.url, "POST", `/stream/${s}/add`, [body], { "content-length": Buffer.byteLength(body) });
      assert.equal(bare.status, 201, JSON.stringify(bare.body));
      // What `curl -d '{...}'` sends.
      const form = await api.post(`/stream/${s}/entries`, JSON.stringify({ payload: { sent: "curl -d" } }), {
        "content-type": "application/x-www-form-urlencoded",
      });
      assert.equal(form.status, 201, JSON.stringify(form.body));
      const range = await api.get(`/stream/${s}/range`);
      assert.deepEqual(
        range.body.entries.map((e: { id: string; payload: unknown }) => [e.id, e.payload]),
        [
          [bare.body.id, { sent: "bare" }],
          [form.body.ids[0], { sent: "curl -d" }],
        ],
      );
    });
  });
}
