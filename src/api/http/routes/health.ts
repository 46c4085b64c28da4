// GET /health — liveness plus a cheap round trip to the store.
import type { FastifyInstance } from "fastify";
import type { HttpContext } from "../context.js";

export function healthRoutes(app: FastifyInstance, { engine }: HttpContext, version: string): void {
  const started = Date.now();
  app.get("/health", async (_req, reply) => {
    try {
      await engine.streams.list("default");
      return { status: "ok", store: engine.store.kind, version, uptimeMs: Date.now() - started };
    } catch (error) {
      return reply.status(503).send({ status: "unavailable", store: engine.store.kind, error: String(error) });
    }
  });
}
