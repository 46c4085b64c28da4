// One `upgrade` listener for every WebSocket endpoint: the first whose path matches serves it, others get a 404.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocketServer } from "ws";
import { BadRequestError, HTTP_STATUS, RunnelError } from "../../core/errors.js";
import { answerRaw } from "../http/errors.js";

export interface WsEndpoint {
  /** Matches the request path (without the query string). */
  path: RegExp;
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, match: RegExpExecArray): void;
  /** Closes every socket of the endpoint. */
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 1000;

/** A path segment of an upgrade URL, decoded; malformed percent-encoding (`%ZZ`) is the client's error. */
export function pathSegment(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(`${field} is not valid percent-encoding`, { field });
  }
}

/**
 * The `id` a reply echoes: a string or a number as the client sent it, otherwise null. Echoing any value would
 * let a deeply nested one overflow the stack when the reply is written, and that would take the server down.
 */
export function echoId(id: unknown): string | number | null {
  return typeof id === "string" || typeof id === "number" ? id : null;
}

/** Refuses an upgrade with an HTTP answer in Runnel's error shape. */
export function rejectUpgrade(socket: Duplex, error: unknown): void {
  const e = error instanceof RunnelError ? error : new RunnelError("RUNNEL_INTERNAL", "internal error");
  answerRaw(socket, HTTP_STATUS[e.code], { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });
}

/** Asks every client to close; one that does not answer the close handshake (stalled, gone) is cut off. */
export async function closeAll(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) {
    ws.close(1001, "server shutting down");
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  }
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

export function routeUpgrades(server: Server, endpoints: readonly WsEndpoint[]): void {
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0]!;
    for (const endpoint of endpoints) {
      const match = endpoint.path.exec(path);
      if (match) {
        endpoint.accept(req, socket, head, match);
        return;
      }
    }
    rejectUpgrade(
      socket,
      new RunnelError("RUNNEL_NOT_FOUND", "no WebSocket endpoint here; use /ws/queues/{setupId}/{queueName} or /ws/eventstores/{setupId}/{name}"),
    );
  });
}
