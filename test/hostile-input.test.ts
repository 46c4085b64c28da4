// Input meant to hurt, against every backend: deeply nested JSON over WebSocket and HTTP, HEAD on routes that
// change state, malformed upgrade paths, and refused subscribes or unknown members that must change nothing.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

type Msg = Record<string, any>;

/** `[[[…]]]` nested `depth` times: parses fine, but overflows the stack of anything that walks it recursively. */
const deep = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);

/** A WebSocket with every message it received, and a way to ask and wait for the next reply. */
async function open(url: string): Promise<{ ws: WebSocket; msgs: Msg[]; ask(text: string): Promise<Msg> }> {
  const ws = new WebSocket(url);
  const msgs: Msg[] = [];
  ws.on("message", (data) => msgs.push(JSON.parse(data.toString()) as Msg));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await until(() => msgs.find((m) => m.type === "welcome"), "welcome");
  const replies = new Set(["pong", "subscribed", "acked", "nacked", "error"]);
  return {
    ws,
    msgs,
    async ask(text) {
      const from = msgs.length;
      ws.send(text);
      return until(() => msgs.slice(from).find((m) => replies.has(m.type)), `the reply to ${text.slice(0, 80)}`);
    },
  };
}

/** The status of a WebSocket upgrade the server refuses. */
function refusedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => reject(new Error("the upgrade was accepted")));
    ws.on("error", () => undefined);
  });
}

for (const backend of await backends()) {
  describe(`hostile input (${backend.name})`, () => {
    let server: RunningServer;
    let api: ReturnType<typeof client>;
    let wsBase: string;
    const sockets: WebSocket[] = [];
    before(async () => {
      server = await startTestServer(await backend.fresh());
      api = client(server.url);
      wsBase = server.url.replace(/^http/, "ws");
    });
    after(async () => {
      for (const ws of sockets) ws.terminate();
      await server.close();
      await backend.cleanup();
    });

    it("a WebSocket message with a deeply nested id is answered, and the server lives on", async () => {
      const queue = await open(`${wsBase}/ws/queues/default/${unique("q")}`);
      sockets.push(queue.ws);
      const pong = await queue.ask(`{"type":"ping","id":${deep(6000)}}`);
      assert.deepEqual([pong.type, pong.id], ["pong", null]);
      const unknown = await queue.ask(`{"type":${deep(6000)},"id":${deep(6000)}}`);
      assert.deepEqual([unknown.type, unknown.field], ["error", "type"]);
      assert.equal((await queue.ask('{"type":"ping","id":"p1"}')).id, "p1", "the connection stays usable");

      const store = unique("store");
      assert.equal((await api.post(`/api/v1/eventstores/default/${store}/events`, { eventType: "E", eventData: {}, aggregateId: "a" })).status, 201);
      const events = new WebSocket(`${wsBase}/ws/eventstores/default/${store}`);
      sockets.push(events);
      const got: Msg[] = [];
      events.on("message", (data) => got.push(JSON.parse(data.toString()) as Msg));
      await new Promise((resolve) => events.once("open", resolve));
      events.send(`{"type":"ping","id":${deep(6000)}}`);
      await until(() => got.find((m) => m.type === "pong"), "pong from the event store socket");
      assert.equal((await api.get("/health")).status, 200, "the server is still up");
    });

    it("an HTTP body nested too deeply to store is a 400 naming the body, and nothing is stored", async () => {
      const queue = unique("deep");
      const res = await api.post(`/api/v1/queues/default/${queue}/messages`, `{"payload":${deep(6000)}}`);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual([res.body.error.code, res.body.error.field], ["RUNNEL_BAD_REQUEST", "body"]);
      assert.equal((await api.get(`/api/v1/queues/default/${queue}`)).status, 404);
    });

    it("a body that is not JSON, or not an object, names the body as the field", async () => {
      const s = unique("s");
      for (const bad of ["{not json", "[1,2]", '"text"']) {
        const res = await api.post(`/stream/${s}/entries`, bad);
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error.field, "body", `${bad}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await api.get(`/stream/${s}/info`)).status, 404);
    });

    it("HEAD does not run a GET handler that changes state; HEAD /health answers", async () => {
      const s = unique("head");
      assert.equal((await api.post(`/stream/${s}/entries`, { entries: [{ payload: 1 }] })).status, 201);
      assert.equal((await api.post(`/stream/${s}/group/g`, { startId: "0" })).status, 201);
      const head = await fetch(`${server.url}/stream/${s}/group/g/consumer/c?count=10`, { method: "HEAD" });
      assert.equal(head.status, 404);
      assert.equal((await api.get(`/stream/${s}/group/g/pending`)).body.count, 0, "nothing was delivered");
      assert.equal((await fetch(`${server.url}/health`, { method: "HEAD" })).status, 200);
    });

    it("headers too large for Node's parser get the error shape too", async () => {
      const res = await fetch(`${server.url}/stream/s/info`, { headers: { "x-big": "a".repeat(20_000) } });
      assert.equal(res.status, 431);
      const body = (await res.json()) as Msg;
      assert.equal(body.error.code, "RUNNEL_BAD_REQUEST");
      assert.equal(typeof body.error.message, "string");
      assert.equal((await api.get("/health")).status, 200);
    });

    it("OPTIONS without preflight headers is answered, not refused in plain text", async () => {
      const res = await fetch(`${server.url}/stream/${unique("s")}/info`, { method: "OPTIONS" });
      assert.equal(res.status, 204);
      assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
    });

    it("a WebSocket upgrade with malformed percent-encoding is a 400, not a 500", async () => {
      assert.equal(await refusedStatus(`${wsBase}/ws/queues/%ZZ/q1`), 400);
      assert.equal(await refusedStatus(`${wsBase}/ws/eventstores/default/%ZZ`), 400);
    });

    it("an event-store WebSocket takes the same filters as its SSE route, and refuses what that refuses", async () => {
      const store = unique("filters");
      assert.equal((await api.post(`/api/v1/eventstores/default/${store}/events`, { eventType: "E", eventData: {}, aggregateId: "a" })).status, 201);
      const base = `${wsBase}/ws/eventstores/default/${store}`;
      for (const query of ["eventType=", `aggregateId=${"x".repeat(201)}`, "eventType=a%00b", `fromPosition=1${"0".repeat(30)}`, "bogus=1"]) {
        assert.equal(await refusedStatus(`${base}?${query}`), 400, query);
        const sse = await fetch(`${server.url}/api/v1/eventstores/default/${store}/stream?${query}`);
        assert.equal(sse.status, 400, `SSE ${query}`);
      }
      const ok = new WebSocket(`${base}?eventType=E&aggregateId=a&fromPosition=0`);
      sockets.push(ok);
      await new Promise((resolve, reject) => {
        ok.once("open", resolve);
        ok.once("error", reject);
      });
    });

    it("a refused subscribe leaves the connection's subscription as it was", async () => {
      const queue = unique("keep");
      const conn = await open(`${wsBase}/ws/queues/default/${queue}`);
      sockets.push(conn.ws);
      assert.equal((await conn.ask(JSON.stringify({ type: "subscribe", consumerGroup: "g", ackMode: "manual" }))).type, "subscribed");
      const first = await api.post(`/stream/${queue}/add`, { n: 1 });
      await until(() => conn.msgs.find((m) => m.type === "data"), "the first entry");
      for (const bad of [{ startId: "abc" }, { consumerGroup: "g", memberId: "nobody" }, { ackMode: "manual" }]) {
        const refused = await conn.ask(JSON.stringify({ type: "subscribe", ...bad }));
        assert.equal(refused.type, "error", JSON.stringify(bad));
      }
      const acked = await conn.ask(JSON.stringify({ type: "ack", messageId: first.body.id }));
      assert.equal(acked.acked, 1, "still subscribed: the entry it holds can be acked");
      const second = await api.post(`/stream/${queue}/add`, { n: 2 });
      await until(() => conn.msgs.find((m) => m.type === "data" && m.messageId === second.body.id), "the next entry");
    });

    it("an unknown member creates nothing: an error over WebSocket, a 404 over SSE", async () => {
      const queue = unique("member");
      const conn = await open(`${wsBase}/ws/queues/default/${queue}`);
      sockets.push(conn.ws);
      const refused = await conn.ask(JSON.stringify({ type: "subscribe", consumerGroup: "g", memberId: "nobody" }));
      assert.deepEqual([refused.type, refused.code], ["error", "RUNNEL_NOT_FOUND"]);
      const sse = await fetch(`${server.url}/api/v1/queues/default/${queue}/stream?consumerGroup=g&memberId=nobody`);
      assert.equal(sse.status, 404);
      assert.equal(((await sse.json()) as Msg).error.code, "RUNNEL_NOT_FOUND");
      assert.equal((await api.get(`/stream/${queue}/info`)).status, 404, "no stream, no group was made");
    });
  });
}
