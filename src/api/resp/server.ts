// The RESP listener: a node:net server whose connections speak Redis's protocol to the engine.
import { createServer, type Server } from "node:net";
import type { Engine } from "../../engine/index.js";
import { COMMANDS } from "./commands/table.js";
import { RespConnection } from "./connection.js";

export interface RespServerOptions {
  port: number;
  host: string;
  /** Runnel's version, for INFO. */
  version: string;
  /** Largest payload an XADD may make, in bytes of JSON (the HTTP body limit). */
  maxPayloadBytes: number;
  /** Where faults of the server (not bad input) are reported. */
  log?: (error: unknown) => void;
  /** How long close() lets running commands finish before dropping their connections, in ms. */
  graceMs?: number;
}

export const DEFAULT_RESP_GRACE_MS = 2000;
/** Keys name streams of this namespace, as the seed-004 HTTP routes do. */
export const RESP_NAMESPACE = "default";

export interface RespServer {
  readonly port: number;
  /** Stops listening, ends blocked reads, lets running commands answer, then closes every connection. */
  close(): Promise<void>;
}

export async function startRespServer(engine: Engine, options: RespServerOptions): Promise<RespServer> {
  const connections = new Set<RespConnection>();
  const log = options.log ?? (() => undefined);
  let nextId = 1;
  let port = options.port;
  const server: Server = createServer((socket) => {
    const conn = new RespConnection(socket, nextId++, {
      engine,
      namespace: RESP_NAMESPACE,
      log,
      server: {
        version: options.version,
        port: () => port,
        maxPayloadBytes: options.maxPayloadBytes,
        startedAt,
        commandNames: () => [...COMMANDS.keys()],
      },
    });
    connections.add(conn);
    socket.once("close", () => connections.delete(conn));
  });
  const startedAt = Date.now();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (typeof address === "object" && address) port = address.port;

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const force = setTimeout(() => {
          for (const conn of connections) conn.destroy();
        }, options.graceMs ?? DEFAULT_RESP_GRACE_MS);
        try {
          await Promise.all([...connections].map((conn) => conn.close()));
          await stopped;
        } finally {
          clearTimeout(force);
        }
      })();
      return closing;
    },
  };
}
