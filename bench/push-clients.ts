// Push clients for the bench: WebSocket (`ws`) and bare SSE (node:http) subscribers that hand each pushed entry to a callback.
import http from "node:http";
import WebSocket from "ws";

/** One pushed entry as the bench sees it: the `data` message's id and payload text, and when it arrived. */
export interface Pushed {
  messageId: string;
  payload: unknown;
  /** Arrival time on the bench's clock (`now()`), taken before parsing. */
  at: number;
}

/** A subscriber connection of either kind. */
export interface Subscriber {
  readonly kind: "ws" | "sse";
  /** Set once the connection ended, with why. */
  readonly closed: string | undefined;
  /** Messages the client could not make sense of (bad JSON, `error` messages). */
  readonly oddities: string[];
  close(): void;
}

/** Milliseconds on one clock shared by producers and subscribers in this process: epoch-based, sub-millisecond. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

const OPEN_TIMEOUT_MS = 15_000;

function note(list: string[], what: string): void {
  if (list.length < 5) list.push(what.slice(0, 300));
}

/**
 * Opens ws://…/ws/queues/{setupId}/{queue}, sends `subscribe` and resolves once the server answers `subscribed`,
 * so nothing appended afterwards can be missed.
 */
export function openWsSubscriber(base: string, setupId: string, queue: string, onEntry: (e: Pushed) => void): Promise<Subscriber> {
  const url = `${base.replace(/^http/, "ws")}/ws/queues/${encodeURIComponent(setupId)}/${encodeURIComponent(queue)}`;
  const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS });
  const sub: Subscriber & { closed: string | undefined } = {
    kind: "ws",
    closed: undefined,
    oddities: [],
    close: () => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket ${url}: no 'subscribed' within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe" })));
    ws.on("message", (data) => {
      const at = now();
      let msg: { type?: string; messageId?: string; payload?: unknown; messages?: { messageId: string; payload: unknown }[] };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        note(sub.oddities, `not JSON: ${data.toString()}`);
        return;
      }
      if (msg.type === "data") onEntry({ messageId: msg.messageId!, payload: msg.payload, at });
      else if (msg.type === "batch") for (const m of msg.messages ?? []) onEntry({ messageId: m.messageId, payload: m.payload, at });
      else if (msg.type === "subscribed") {
        clearTimeout(timer);
        resolve(sub);
      } else if (msg.type === "error") note(sub.oddities, data.toString());
    });
    ws.on("close", (code, reason) => {
      sub.closed = `WebSocket closed ${code} ${reason.toString()}`.trim();
      clearTimeout(timer);
      reject(new Error(`${url}: ${sub.closed} before 'subscribed'`));
    });
    ws.on("error", (error) => {
      sub.closed ??= `WebSocket error: ${error.message}`;
      clearTimeout(timer);
      reject(new Error(`${url}: ${error.message}`));
    });
  });
}

/**
 * GET /api/v1/queues/{setupId}/{queue}/stream on its own socket (no agent), read as raw text: resolves on the
 * `configured` event, which the server sends once the subscription is in place. `message` events go to `onEntry`.
 */
export function openSseSubscriber(base: string, setupId: string, queue: string, onEntry: (e: Pushed) => void): Promise<Subscriber> {
  const url = new URL(`${base}/api/v1/queues/${encodeURIComponent(setupId)}/${encodeURIComponent(queue)}/stream`);
  const sub: Subscriber & { closed: string | undefined } = { kind: "sse", closed: undefined, oddities: [], close: () => req.destroy() };
  let buffer = "";
  const req = http.get({ host: url.hostname, port: url.port, path: url.pathname, agent: false, headers: { accept: "text/event-stream" } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`SSE ${url.pathname}: no 'configured' event within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    const frame = (text: string, at: number) => {
      let event = "message";
      const data: string[] = [];
      for (const line of text.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length === 0) return;
      if (event === "configured") {
        clearTimeout(timer);
        resolve(sub);
      } else if (event === "message") {
        try {
          const msg = JSON.parse(data.join("\n")) as { messageId: string; payload: unknown };
          onEntry({ messageId: msg.messageId, payload: msg.payload, at });
        } catch {
          note(sub.oddities, `not JSON: ${data.join("\n")}`);
        }
      } else if (event === "error") note(sub.oddities, data.join("\n"));
    };
    req.on("response", (res) => {
      if (res.statusCode !== 200) {
        clearTimeout(timer);
        res.resume();
        reject(new Error(`SSE ${url.pathname}: HTTP ${res.statusCode}`));
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const at = now();
        buffer += chunk;
        // Frames end with a blank line; a partial frame waits for the next chunk.
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          frame(buffer.slice(0, end), at);
          buffer = buffer.slice(end + 2);
        }
      });
      res.on("close", () => {
        sub.closed ??= "SSE response ended";
        clearTimeout(timer);
        reject(new Error(`SSE ${url.pathname}: ended before 'configured'`));
      });
    });
    req.on("error", (error) => {
      sub.closed ??= `SSE error: ${error.message}`;
      clearTimeout(timer);
      reject(new Error(`SSE ${url.pathname}: ${error.message}`));
    });
  });
}

/**
 * Opens `count` subscribers, `concurrency` handshakes at a time (a burst of thousands would overflow the listen
 * backlog). Answers those that opened and the failures, so a partial result can still be measured.
 */
export async function openMany(
  count: number,
  concurrency: number,
  open: (i: number) => Promise<Subscriber>,
): Promise<{ opened: Subscriber[]; failures: number; failureSamples: string[]; seconds: number }> {
  const started = performance.now();
  const opened: Subscriber[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        try {
          opened.push(await open(i));
        } catch (error) {
          failures++;
          note(failureSamples, (error as Error).message);
        }
      }
    }),
  );
  return { opened, failures, failureSamples, seconds: (performance.now() - started) / 1000 };
}
