// What route modules receive: the engine and how a request maps to its namespace.
import type { FastifyRequest } from "fastify";
import type { Engine } from "../../engine/index.js";

export const DEFAULT_NAMESPACE = "default";

export interface HttpContext {
  engine: Engine;
  /** The namespace a `/stream/...` request acts on. */
  namespaceOf(req: FastifyRequest): string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** The JSON body exactly as it arrived (trimmed), kept so a payload is stored as sent. */
    rawBody?: string;
  }
}
