// Builds the Fastify app: body parsing, validation, the error shape and every route module.
import cors from "@fastify/cors";
import Fastify, { LogController, type FastifyInstance, type FastifyReply } from "fastify";
import type { Engine } from "../../engine/index.js";
import { DEFAULT_NAMESPACE, type HttpContext } from "./context.js";
import { clientErrorAnswer, registerErrorHandling } from "./errors.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { eventStoreRoutes } from "./routes/event-stores.js";
import { groupRoutes } from "./routes/groups.js";
import { healthRoutes } from "./routes/health.js";
import type { PushOptions } from "../push/options.js";
import { createChannelHub } from "../../engine/channels/index.js";
import { busEventRoutes } from "./routes/bus-events.js";
import { channelRoutes } from "./routes/channels.js";
import { consumerGroupRoutes } from "./routes/consumer-groups.js";
import { queueStreamRoutes } from "./routes/queue-stream.js";
import { queueRoutes } from "./routes/queues.js";
import { streamRoutes } from "./routes/streams.js";
import { registerValidation } from "./validation.js";
import { windowRoutes } from "./routes/windows.js";

export interface HttpOptions {
  /** Largest request body in bytes. */
  bodyLimit: number;
  /** Allowed CORS origin(s): `*`, one origin, or a comma-separated list. */
  corsOrigin: string;
  push: PushOptions;
  /** Run the sample-event generators of the default broadcast channels. */
  demo?: boolean;
  logLevel: string;
  version: string;
}

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function buildHttpApp(engine: Engine, options: HttpOptions): FastifyInstance {
  const app = Fastify({
    logger: { level: options.logLevel },
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    routerOptions: { maxParamLength: 500 },
    return503OnClosing: true,
    // A HEAD answered by a GET handler would run it: a group read would deliver entries nobody receives.
    exposeHeadRoutes: false,
    clientErrorHandler: clientErrorAnswer,
    // Errors the router raises before any route runs (a bad URL encoding, an overlong name) get the same shape.
    frameworkErrors: (error, _req, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const code = status === 404 ? "RUNNEL_NOT_FOUND" : "RUNNEL_BAD_REQUEST";
      void (reply as unknown as FastifyReply).status(status).send({ error: { code, message: error.message } });
    },
  });

  // Any body is read as JSON (curl -d sends form encoding by default); the text is kept for payloads stored as sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (req, body, done) => {
    const text = (body as string).trim();
    // No route matched: the answer is a 404 whatever the body holds.
    if (text.length === 0 || req.is404) {
      done(null, undefined);
      return;
    }
    try {
      const value: unknown = JSON.parse(text);
      req.rawBody = text;
      done(null, value);
    } catch (error) {
      const err = error as Error & { statusCode?: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  const origins = options.corsOrigin.split(",").map((o) => o.trim()).filter(Boolean);
  void app.register(cors, {
    origin: origins.length === 1 && origins[0] === "*" ? "*" : origins,
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowedHeaders: ["Content-Type", "Authorization", "Cache-Control", "Last-Event-ID", "X-Member-Id"],
    // An OPTIONS without the preflight headers is answered like a preflight, not with a plain-text 400.
    strictPreflight: false,
  });
  registerValidation(app);
  registerErrorHandling(app);
  const ctx: HttpContext = { engine, namespaceOf: () => DEFAULT_NAMESPACE };
  healthRoutes(app, ctx, options.version);
  streamRoutes(app, ctx);
  groupRoutes(app, ctx);
  deadLetterRoutes(app, ctx);
  queueRoutes(app, ctx);
  consumerGroupRoutes(app, ctx);
  busEventRoutes(app, ctx);
  queueStreamRoutes(app, ctx, options.push);
  eventStoreRoutes(app, ctx, options.push);
  windowRoutes(app, ctx);
  channelRoutes(app, ctx, { hub: createChannelHub({ demo: options.demo ?? false, clock: engine.clock }) });
  // Seed 001's Service H: the same broadcasting under its own prefix, with channels of its own.
  channelRoutes(app, ctx, { hub: createChannelHub({ clock: engine.clock }), prefix: "/api/v1/broadcast-demo" });
  return app;
}
