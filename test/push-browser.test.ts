// Push in a real browser: headless Chromium opens an EventSource and a WebSocket on Runnel from a page served on
// another origin (CORS), and receives entries appended over HTTP. This tests the browser path, not storage, so it runs
// against SQLite only.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import type { RunningServer } from "../src/api/server.js";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === "true") throw new Error(`CI needs Chromium at ${CHROMIUM} for the browser tests`);
if (missing) console.log(`# skipping the browser push tests: no Chromium at ${CHROMIUM}`);

/** The page: an EventSource and a WebSocket on one queue, collecting what they receive into window variables. */
function pageHtml(config: { runnel: string; setupId: string; queue: string }): string {
  const script = `
    const config = ${JSON.stringify(config)};
    window.sse = { connected: false, payloads: [], ids: [], errors: 0 };
    window.wsock = { subscribed: false, payloads: [], ids: [], errors: [] };
    const base = config.runnel + "/api/v1/queues/" + config.setupId + "/" + config.queue;
    const es = new EventSource(base + "/stream");
    es.addEventListener("connection", () => { window.sse.connected = true; });
    es.addEventListener("message", (e) => {
      const data = JSON.parse(e.data);
      window.sse.payloads.push(data.payload);
      window.sse.ids.push(e.lastEventId);
    });
    es.addEventListener("error", () => { window.sse.errors++; });
    const ws = new WebSocket(config.runnel.replace(/^http/, "ws") + "/ws/queues/" + config.setupId + "/" + config.queue);
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.type === "welcome") ws.send(JSON.stringify({ type: "subscribe" }));
      else if (m.type === "subscribed") window.wsock.subscribed = true;
      else if (m.type === "data") { window.wsock.payloads.push(m.payload); window.wsock.ids.push(m.id); }
      else if (m.type === "error") window.wsock.errors.push(m);
    };
    window.closePush = () => { es.close(); ws.close(); };
  `;
  return `<!doctype html><html><head><meta charset="utf-8"><title>Runnel push</title></head><body><script>${script}</script></body></html>`;
}

for (const backend of (await backends()).filter((b) => b.name === "sqlite")) {
  describe(`push in headless Chromium (${backend.name})`, { skip: missing ? `no Chromium at ${CHROMIUM}` : false }, () => {
    let server: RunningServer;
    let site: http.Server;
    let siteUrl: string;
    let browser: Browser;
    const pages: Page[] = [];
    let config: { runnel: string; setupId: string; queue: string };

    before(async () => {
      server = await startTestServer(await backend.fresh());
      // The page comes from its own origin, so the browser checks Runnel's CORS answers.
      site = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        res.end(pageHtml(config));
      });
      await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
      siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });
    after(async () => {
      for (const page of pages) await page.evaluate("window.closePush && window.closePush()").catch(() => undefined);
      await browser?.close();
      await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
      if (server) {
        // Wait for the server to see the page's connections go before stopping it.
        const deadline = Date.now() + 10_000;
        while (server.engine.push.sessionCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await server.close();
      }
      await backend.cleanup();
    });

    it("a page on another origin receives appended entries over EventSource and WebSocket", async () => {
      const api = client(server.url);
      config = { runnel: server.url, setupId: unique("web"), queue: unique("orders") };
      const page = await browser.newPage();
      pages.push(page);
      const problems: string[] = [];
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console: ${m.text()}`);
      });

      await page.goto(siteUrl);
      await page.waitForFunction("window.sse.connected && window.wsock.subscribed", undefined, { timeout: 10_000 });

      const sent = [{ orderId: "A-1", amount: 10 }, { orderId: "A-2", amount: 20 }, "plain text", [1, 2, 3]];
      const ids: string[] = [];
      for (const payload of sent) {
        const res = await api.post(`/api/v1/queues/${config.setupId}/${config.queue}/messages`, { payload, messageType: "OrderCreated" });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        ids.push(res.body.messageId as string);
      }
      await page.waitForFunction(`window.sse.payloads.length >= ${sent.length} && window.wsock.payloads.length >= ${sent.length}`, undefined, {
        timeout: 10_000,
      });
      const got = JSON.parse((await page.evaluate("JSON.stringify({ sse: window.sse, ws: window.wsock })")) as string) as {
        sse: { payloads: unknown[]; ids: string[]; errors: number };
        ws: { payloads: unknown[]; ids: string[]; errors: unknown[] };
      };
      assert.deepEqual(got.sse.payloads, sent);
      assert.deepEqual(got.sse.ids, ids, "EventSource saw each entry's id as lastEventId");
      assert.equal(got.sse.errors, 0);
      assert.deepEqual(got.ws.payloads, sent);
      assert.deepEqual(got.ws.ids, ids);
      assert.deepEqual(got.ws.errors, []);
      assert.deepEqual(problems, []);
    });
  });
}
