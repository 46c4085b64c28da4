// GET /health — liveness plus a cheap round trip to the store.
import type { FastifyInstance, FastifyReply } from "fastify";
import type { HttpContext } from "../context.js";

export function healthRoutes(app: FastifyInstance, { engine }: HttpContext, version: string): void {
  const started = Date.now();
  async function health(_req: unknown, reply: FastifyReply) {
    try {
      await engine.streams.list("default");
      return { status: "ok", store: engine.store.kind, version, uptimeMs: Date.now() - started };
    } catch (error) {
      return reply.status(503).send({ status: "unavailable", store: engine.store.kind, error: String(error) });
    }
  }
  // HEAD too, for load balancers that probe with it (other GET routes have none: see exposeHeadRoutes).
  app.route({ method: ["GET", "HEAD"], url: "/health", handler: health });
}
