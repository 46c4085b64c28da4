// Seed 001's broadcast channels against a real server: SSE subscribers, broadcasts, the listing, generators, slow clients.
import assert from "node:assert/strict";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import cors from "@fastify/cors";
import Fastify, { type FastifyInstance } from "fastify";
import { EventSource } from "eventsource";
import type { HttpContext } from "../src/api/http/context.js";
import { registerErrorHandling } from "../src/api/http/errors.js";
import { channelRoutes } from "../src/api/http/routes/channels.js";
import { registerValidation } from "../src/api/http/validation.js";
import { createChannelHub, DEFAULT_CHANNELS, type ChannelHub, type ChannelHubOptions, type EventData } from "../src/engine/channels/index.js";
import { client, unique } from "./helpers/http.js";
import { backends } from "./helpers/backends.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

interface TestServer {
  app: FastifyInstance;
  hub: ChannelHub;
  url: string;
}

/** Fastify with CORS, validation, the error shape and the channel routes, on a loopback port. */
async function startChannelServer(options: ChannelHubOptions): Promise<TestServer> {
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
  await app.register(cors, { origin: "*", allowedHeaders: ["Content-Type", "Cache-Control", "Last-Event-ID"] });
  registerValidation(app);
  registerErrorHandling(app);
  const hub = createChannelHub(options);
  // The channel routes use nothing from the engine.
  const ctx = { namespaceOf: () => "default" } as unknown as HttpContext;
  channelRoutes(app, ctx, { hub });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  assert.ok(address && typeof address === "object");
  return { app, hub, url: `http://127.0.0.1:${address.port}` };
}

interface Received extends EventData {
  /** The SSE `id:` the client saw. */
  lastEventId: string;
}

interface Subscriber {
  events: Received[];
  /** The first event received so far that matches, waiting for it if needed. */
  next(match: (e: Received) => boolean, what: string): Promise<Received>;
  close(): void;
}

/** An EventSource on a channel, resolved once the server's `connection` event arrived. */
async function subscribe(base: string, channel: string, prefix = "/api/v1/events"): Promise<Subscriber> {
  const es = new EventSource(`${base}${prefix}/stream/${channel}`);
  const events: Received[] = [];
  es.onmessage = (m) => events.push({ ...(JSON.parse(m.data as string) as EventData), lastEventId: m.lastEventId });
  const sub: Subscriber = {
    events,
    next: (match, what) => until(() => events.find(match), `${what} on '${channel}'`),
    close: () => es.close(),
  };
  try {
    await sub.next((e) => e.type === "connection", "the connection event");
  } catch (error) {
    es.close();
    throw error;
  }
  return sub;
}

type Streams = Record<string, { clients: number; active: boolean; generator: { running: boolean; paused: boolean } }>;

describe("broadcast channels (seed 001)", () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;
  const open: Subscriber[] = [];
  const track = (s: Subscriber): Subscriber => (open.push(s), s);
  const streams = async (): Promise<Streams> => {
    const res = await api.get("/api/v1/events/streams");
    assert.equal(res.status, 200);
    return res.body.data as Streams;
  };

  before(async () => {
    server = await startChannelServer({ queueSize: 8, generatorIntervalMs: 20, heartbeatMs: 50 });
    api = client(server.url);
  });
  after(async () => {
    for (const s of open) s.close();
    await server.app.close();
  });

  it("delivers a broadcast to a subscriber with every field, as an SSE message with an id", async () => {
    const channel = unique("orders");
    const sub = track(await subscribe(server.url, channel));
    const hello = sub.events[0]!;
    assert.equal(hello.stream_id, channel);
    assert.match(String(hello.data?.client_id), /^client_\d+$/);

    const data = { order_id: "ORD-12345", customer_id: "CUST-67890", total_amount: 299.99, items: ["widget-a", "widget-b"] };
    const res = await api.post("/api/v1/events/broadcast", { stream_id: channel, type: "order_created", message: "New order received", data });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.success, true);
    assert.equal(res.body.message, `Event broadcasted to stream: ${channel}`);
    assert.ok(Number.isInteger(res.body.timestamp));
    assert.ok(Math.abs(res.body.timestamp - Date.now() / 1000) < 600, "timestamp is in Unix seconds");

    const got = await sub.next((e) => e.type === "order_created", "the broadcast");
    assert.deepEqual(Object.keys(got).filter((k) => k !== "lastEventId").sort(), ["data", "id", "message", "stream_id", "timestamp", "type"]);
    assert.match(got.id, /^evt_\d+$/);
    assert.equal(got.lastEventId, got.id);
    assert.equal(got.message, "New order received");
    assert.deepEqual(got.data, data);
    assert.equal(got.stream_id, channel);
    assert.ok(Number.isInteger(got.timestamp) && Math.abs(got.timestamp - res.body.timestamp) < 600);

    await api.post("/api/v1/events/broadcast", { stream_id: channel, type: "order_shipped", message: "Order shipped" });
    const second = await sub.next((e) => e.type === "order_shipped", "the second broadcast");
    assert.equal(second.data, undefined, "no data sent, none received");
    assert.ok(Number(second.id.slice(4)) > Number(got.id.slice(4)), "event ids grow");
  });

  it("broadcasts to every channel when stream_id is absent or empty", async () => {
    const mine = track(await subscribe(server.url, unique("room")));
    const notifications = track(await subscribe(server.url, "notifications"));
    for (const [i, body] of [{ type: "global_test", message: "Global test message" }, { stream_id: "", type: "global_test", message: "again" }].entries()) {
      const res = await api.post("/api/v1/events/broadcast", body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.message, "Event broadcasted to all streams");
      const text = i === 0 ? "Global test message" : "again";
      const a = await mine.next((e) => e.message === text, "the global event");
      const b = await notifications.next((e) => e.message === text, "the global event");
      assert.equal(a.id, b.id, "one event, one id");
      assert.equal(b.stream_id, "notifications");
    }
  });

  it("lists the default channels and counts clients until they disconnect", async () => {
    const channel = unique("watch");
    const before = await streams();
    for (const id of DEFAULT_CHANNELS) {
      assert.ok(before[id], `default channel '${id}' is listed`);
      assert.equal(before[id]!.active, true);
      assert.deepEqual(before[id]!.generator, { running: false, paused: false }, "no sample noise without demo");
    }
    assert.equal(before[channel], undefined);

    const one = await subscribe(server.url, channel);
    const two = await subscribe(server.url, channel);
    assert.deepEqual((await streams())[channel], { clients: 2, active: true, generator: { running: false, paused: false } });
    one.close();
    await until(async () => (await streams())[channel]?.clients === 1, "the first client to be dropped");
    two.close();
    await until(async () => (await streams())[channel] === undefined, "the empty channel to go away");
  });

  it("starts, pauses, resumes and stops a generator whose events reach subscribers", async () => {
    const channel = unique("custom");
    const sub = track(await subscribe(server.url, channel));
    const control = (action: string) => api.post(`/api/v1/events/stream/${channel}/${action}`);

    let res = await control("start");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual({ ...res.body, timestamp: 0 }, { success: true, message: `Stream '${channel}' started`, timestamp: 0 });
    assert.deepEqual((await streams())[channel]!.generator, { running: true, paused: false });
    await sub.next((e) => e.type === "stream_started", "the stream_started event");
    const generated = await sub.next((e) => !["connection", "stream_started"].includes(e.type), "a generated event");
    assert.equal(generated.stream_id, channel);
    assert.ok(generated.message.length > 0 && generated.data, "a sample event has a message and data");

    res = await control("pause");
    assert.equal(res.body.message, `Stream '${channel}' paused`);
    assert.deepEqual((await streams())[channel]!.generator, { running: true, paused: true });
    res = await control("resume");
    assert.equal(res.body.message, `Stream '${channel}' resumed`);
    assert.deepEqual((await streams())[channel]!.generator, { running: true, paused: false });
    const seen = sub.events.length;
    await until(() => sub.events.length > seen, "events after resuming");

    res = await control("stop");
    assert.equal(res.status, 200);
    assert.equal(res.body.message, `Stream '${channel}' stopped and removed`);
    assert.deepEqual((await streams())[channel], { clients: 1, active: true, generator: { running: false, paused: false } });

    for (const action of ["pause", "resume", "stop"]) {
      res = await control(action);
      assert.equal(res.status, 409, `${action} without a generator`);
      assert.equal(res.body.error.code, "RUNNEL_CONFLICT");
    }
    res = await api.post(`/api/v1/events/stream/${unique("nowhere")}/pause`);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, "RUNNEL_NOT_FOUND");
  });

  it("drops a subscriber that stops reading with an error event, instead of queueing without bound", async () => {
    const channel = unique("slow");
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(`${server.url}/api/v1/events/stream/${channel}`, resolve).on("error", reject);
    });
    // Never read: the socket, then the subscriber's queue, fill up.
    response.pause();
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      response.on("end", resolve).on("error", reject);
    });
    await until(async () => (await streams())[channel]?.clients === 1, "the slow client to be counted");

    const big = "x".repeat(256 * 1024);
    let sent = 0;
    while ((await streams())[channel]) {
      assert.ok(sent < 500, "the slow subscriber was never dropped");
      const res = await api.post("/api/v1/events/broadcast", { stream_id: channel, type: "bulk", message: `bulk ${sent}`, data: { big } });
      assert.equal(res.status, 200);
      sent++;
    }
    assert.equal(server.hub.info(channel), undefined, "the hub holds nothing for it any more");

    response.on("data", (c: Buffer) => chunks.push(c));
    response.resume();
    await ended;
    const text = Buffer.concat(chunks).toString("utf8");
    const frames = text.split("\n\n").filter((f) => f.includes("data:"));
    const last = frames.at(-1)!;
    assert.match(last, /^event: error$/m);
    const notice = JSON.parse(/^data: (.*)$/m.exec(last)![1]!) as EventData;
    assert.equal(notice.type, "error");
    assert.equal(notice.stream_id, channel);
    assert.equal(notice.data?.code, "RUNNEL_SLOW_CONSUMER");
    assert.ok(frames.length - 2 < sent, "some events were never delivered to the slow client");
  });

  it("keeps an idle stream alive with heartbeat comments", async () => {
    const channel = unique("idle");
    const text = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${server.url}/api/v1/events/stream/${channel}`, (res) => {
        let seen = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          seen += chunk;
          if (/^: heartbeat$/m.test(seen)) {
            req.destroy();
            resolve(seen);
          }
        });
      });
      req.on("error", reject);
    });
    assert.match(text, /^: heartbeat$/m);
    await until(async () => (await streams())[channel] === undefined, "the closed connection to be cleaned up");
  });

  it("rejects bad broadcast bodies and bad stream names with 400 JSON", async () => {
    const cases: [unknown, string | undefined][] = [
      [{ message: "no type" }, "type"],
      [{ type: "", message: "empty type" }, "type"],
      [{ type: "t" }, "message"],
      [{ type: 7, message: "m" }, "type"],
      [{ type: "t", message: "m", data: [1, 2] }, "data"],
      [{ type: "t", message: "m", data: "text" }, "data"],
      [{ type: "t", message: "m", stream_id: "bad name!" }, "stream_id"],
      [{ type: "t", message: "m", priority: "high" }, "priority"],
      ["{not json", undefined],
    ];
    for (const [body, field] of cases) {
      const res = await api.post("/api/v1/events/broadcast", body);
      assert.equal(res.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
      if (field) assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
    const res = await api.get("/api/v1/events/stream/bad%20name!");
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "RUNNEL_BAD_REQUEST");
  });

  it("answers the SSE subscription with the seed's headers and CORS", async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/api/v1/events/stream/${unique("cors")}`, {
      headers: { Origin: "http://app.example", Accept: "text/event-stream" },
      signal: abort.signal,
    });
    try {
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      assert.equal(res.headers.get("cache-control"), "no-cache");
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.match(res.headers.get("access-control-allow-headers") ?? "", /Cache-Control/);
    } finally {
      abort.abort();
    }
  });
});

describe("seed 001's Service H: the same broadcasting under /api/v1/broadcast-demo, with channels of its own", () => {
  it("answers the seed's curl examples and keeps its channels apart from /api/v1/events", async () => {
    const sqlite = (await backends()).find((b) => b.name === "sqlite")!;
    const server = await startTestServer(await sqlite.fresh());
    const api = client(server.url);
    const demo = await subscribe(server.url, "demo-notifications", "/api/v1/broadcast-demo");
    const main = await subscribe(server.url, "demo-notifications");
    try {
      const listed = await api.get("/api/v1/broadcast-demo/streams");
      assert.equal(listed.status, 200);
      assert.equal(listed.body.success, true);
      assert.equal(listed.body.data["demo-notifications"].clients, 1, "its own count: the /api/v1/events subscriber is not in it");

      const sent = await api.post("/api/v1/broadcast-demo/broadcast", { type: "test", message: "Hello from Service H" });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.message, "Event broadcasted to all streams");
      const got = await demo.next((e) => e.type === "test", "the Service H broadcast");
      assert.equal(got.message, "Hello from Service H");
      await api.post("/api/v1/events/broadcast", { type: "test", message: "Hello from Service G" });
      await main.next((e) => e.message === "Hello from Service G", "the Service G broadcast");
      assert.equal(main.events.filter((e) => e.message === "Hello from Service H").length, 0, "Service H's broadcast stays in Service H");
      await sleep(100);
      assert.equal(demo.events.filter((e) => e.message === "Hello from Service G").length, 0, "and Service G's in Service G");
    } finally {
      demo.close();
      main.close();
      await server.close();
      await sqlite.cleanup();
    }
  });
});

describe("broadcast channel hub lifecycle", () => {
  it("runs the default generators only in demo mode", () => {
    const quiet = createChannelHub();
    const demo = createChannelHub({ demo: true, generatorIntervalMs: 60_000 });
    try {
      assert.deepEqual(quiet.list().map((c) => [c.id, c.generator.running]), DEFAULT_CHANNELS.map((id) => [id, false]));
      assert.deepEqual(demo.list().map((c) => [c.id, c.generator.running]), DEFAULT_CHANNELS.map((id) => [id, true]));
    } finally {
      quiet.close();
      demo.close();
    }
  });

  it("ends open streams when the app closes", async () => {
    const server = await startChannelServer({ generatorIntervalMs: 20 });
    const channel = unique("closing");
    const sub = await subscribe(server.url, channel);
    try {
      await server.app.close();
      assert.equal(server.hub.isClosed, true);
      assert.equal(server.hub.info(channel), undefined);
      assert.throws(() => server.hub.start("default"), { name: "UnavailableError" });
    } finally {
      sub.close();
    }
  });
});
