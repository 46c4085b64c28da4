// /stream/:stream/dlq — entries that ran out of deliveries, and sending them back.
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { formatId, inclusiveStart, MAX_ID, parseId, parseRangeStart } from "../../../core/ids.js";
import type { HttpContext } from "../context.js";
import { entriesJson, objectJson } from "../serialize.js";
import { Count, IdText, Ids, StreamParams } from "../schemas.js";
import { emptyBodyIsObject } from "../validation.js";

export function deadLetterRoutes(app: FastifyInstance, { engine, namespaceOf }: HttpContext): void {
  app.get(
    "/stream/:stream/dlq",
    {
      schema: {
        params: StreamParams,
        querystring: Type.Object({ start: Type.Optional(IdText), count: Type.Optional(Count) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const { stream } = req.params as { stream: string };
      const q = req.query as { start?: string; count?: number };
      const ns = namespaceOf(req);
      const start = inclusiveStart(parseRangeStart(q.start)) ?? MAX_ID;
      const entries = await engine.deadLetters.list(ns, stream, start, q.count ?? 100);
      const deadLetterStream = await engine.deadLetters.streamOf(ns, stream);
      return reply.type("application/json; charset=utf-8").send(objectJson({ stream, deadLetterStream }, { entries: entriesJson(entries) }));
    },
  );

  app.post(
    "/stream/:stream/dlq/reprocess",
    {
      schema: {
        params: StreamParams,
        body: Type.Object({ ids: Type.Optional(Ids), count: Type.Optional(Count) }, { additionalProperties: false }),
      },
      preValidation: emptyBodyIsObject,
    },
    async (req) => {
      const { stream } = req.params as { stream: string };
      const body = (req.body ?? {}) as { ids?: string[]; count?: number };
      const ids = body.ids?.map((id, i) => parseId(id, `ids/${i}`));
      const r = await engine.deadLetters.reprocess(namespaceOf(req), stream, ids, body.count ?? 100);
      return {
        reprocessed: r.reprocessed.length,
        entries: r.reprocessed.map((x) => ({ deadLetterId: formatId(x.deadLetterId), id: formatId(x.newId), stream: x.stream })),
      };
    },
  );
}
