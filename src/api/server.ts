// Starts a Runnel node: the store, the engine and the HTTP listener, and stops them in the right order.
import { readFileSync } from "node:fs";
import type { Clock } from "../core/clock.js";
import { Engine } from "../engine/index.js";
import { createStore, type StoreOptions } from "../storage/index.js";
import { buildHttpApp, DEFAULT_BODY_LIMIT } from "./http/server.js";
import { DEFAULT_PUSH_OPTIONS, type PushOptions } from "./push/options.js";
import { startRespServer, type RespServer } from "./resp/index.js";
import { routeUpgrades } from "./ws/endpoints.js";
import { eventStoreSocketEndpoint } from "./ws/event-store-socket.js";
import { queueSocketEndpoint } from "./ws/queue-socket.js";

export interface ServerOptions {
  store: StoreOptions;
  port?: number;
  host?: string;
  /** Serve the Redis protocol (RESP2) on this port too (`0` picks a free one); undefined serves none. */
  respPort?: number;
  /** Address the RESP listener binds; defaults to `host`. */
  respHost?: string;
  bodyLimit?: number;
  /** CORS origin(s) allowed: `*` (the default), one origin or a comma-separated list. */
  corsOrigin?: string;
  logLevel?: string;
  /** Push (WebSocket, SSE): heartbeat interval and the bound on bytes queued for a slow client. */
  push?: Partial<PushOptions>;
  /** Emit sample events on the default broadcast channels (seed 001's generators). */
  demo?: boolean;
  maxBlockMs?: number;
  pollIntervalMs?: number;
  clock?: Clock;
}

export const DEFAULT_PORT = 8080;
/** How long in-flight requests get to finish once shutdown starts. */
export const SHUTDOWN_GRACE_MS = 2000;
export const DEFAULT_HOST = "127.0.0.1";

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  /** The port of the Redis protocol listener, when one was asked for. */
  respPort?: number;
  engine: Engine;
  /** Stops taking requests, lets in-flight ones finish, then closes the store. */
  close(): Promise<void>;
}

export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const store = await createStore(options.store);
  const engine = new Engine(store, {
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.maxBlockMs === undefined ? {} : { maxBlockMs: options.maxBlockMs }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
  });
  const push: PushOptions = { ...DEFAULT_PUSH_OPTIONS, ...options.push };
  const app = buildHttpApp(engine, {
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    corsOrigin: options.corsOrigin ?? "*",
    push,
    logLevel: options.logLevel ?? "info",
    version: VERSION,
    demo: options.demo ?? false,
  });
  let closing: Promise<void> | undefined;
  // Once shutdown starts, every response closes its connection, so keep-alive sockets do not hold the server open.
  app.addHook("onSend", async (_req, reply, payload) => {
    if (closing) void reply.header("connection", "close");
    return payload;
  });
  try {
    await app.listen({ port: options.port ?? DEFAULT_PORT, host: options.host ?? DEFAULT_HOST });
  } catch (error) {
    await engine.close();
    throw error;
  }
  const socketOptions = { ...push, maxPayload: options.bodyLimit ?? DEFAULT_BODY_LIMIT };
  const sockets = [queueSocketEndpoint(engine, socketOptions), eventStoreSocketEndpoint(engine, socketOptions)];
  routeUpgrades(app.server, sockets);
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? DEFAULT_PORT);
  const host = options.host ?? DEFAULT_HOST;
  let resp: RespServer | undefined;
  if (options.respPort !== undefined) {
    try {
      resp = await startRespServer(engine, {
        port: options.respPort,
        host: options.respHost ?? host,
        version: VERSION,
        maxPayloadBytes: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
        log: (err) => app.log.error({ err }, "RESP command failed"),
        graceMs: SHUTDOWN_GRACE_MS,
      });
    } catch (error) {
      await Promise.all(sockets.map((s) => s.close()));
      await app.close();
      await engine.close();
      throw error;
    }
  }

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    ...(resp ? { respPort: resp.port } : {}),
    engine,
    close() {
      closing ??= (async () => {
        // RESP first: its blocked reads end, running commands answer, and its connections close.
        await resp?.close();
        // Blocked reads answer at once (empty) so in-flight requests can finish, then writes drain into the store.
        engine.interrupt();
        await engine.push.close();
        await Promise.all(sockets.map((s) => s.close()));
        // Connections with no request in flight (a client's spare keep-alive socket, one left by an aborted
        // fetch) would hold the close open: drop idle ones as they appear, and after a grace period any left.
        const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
        const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        try {
          await app.close();
        } finally {
          clearInterval(sweep);
          clearTimeout(force);
        }
        await engine.close();
      })();
      return closing;
    },
  };
}
