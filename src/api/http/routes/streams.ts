// /stream/:stream — append, read, range, info, trim, delete (seed 004's routes and the rest of XADD…XTRIM).
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { ServerResponse } from "node:http";
import { BadRequestError } from "../../../core/errors.js";
import { formatId, parseId, parseRangeEnd, parseRangeStart } from "../../../core/ids.js";
import { checkDeliveryLimit, MAX_DELIVERIES_HEADER, type NewEntry } from "../../../core/types.js";
import type { StreamRecord } from "../../../storage/index.js";
import type { HttpContext } from "../context.js";
import { shapeBy } from "../validation.js";
import { deliverAtOf, isPriority, toNewEntry, toPriority } from "../entry-input.js";
import { rawPayloads } from "../raw-payloads.js";
import { entriesJson, entryJson, objectJson } from "../serialize.js";
import {
  Block,
  Count,
  EntryInput,
  IdText,
  Ids,
  Millis,
  SafeInteger,
  StreamOptions,
  StreamParams,
  type EntryInputT,
  type StreamOptionsT,
  Text,
} from "../schemas.js";

/** Options for `POST /stream/:stream/add`, whose whole body is the payload. */
const AddQuery = Type.Object(
  {
    id: Type.Optional(IdText),
    type: Type.Optional(Text({ maxLength: 200 })),
    key: Type.Optional(Text({ maxLength: 1000 })),
    partition: Type.Optional(Type.Integer({ minimum: 0 })),
    priority: Type.Optional(Type.String()),
    correlationId: Type.Optional(Text({ maxLength: 200 })),
    causationId: Type.Optional(Text({ maxLength: 200 })),
    messageId: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
    producerId: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
    delayMs: Type.Optional(Millis),
    deliverAt: Type.Optional(Millis),
  },
  { patternProperties: { "^header\\.": Type.String() }, additionalProperties: false },
);

const EntriesBody = shapeBy(
  "entries",
  Type.Object({ entries: Type.Array(EntryInput, { minItems: 1, maxItems: 10_000 }) }, { additionalProperties: false }),
  EntryInput,
);

const RangeQuery = Type.Object(
  {
    start: Type.Optional(IdText),
    end: Type.Optional(IdText),
    count: Type.Optional(Count),
    reverse: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const ReadQuery = Type.Object(
  { after: Type.Optional(IdText), count: Type.Optional(Count), block: Type.Optional(Block) },
  { additionalProperties: false },
);

const TrimBody = Type.Object(
  { maxLen: Type.Optional(SafeInteger()), minId: Type.Optional(IdText) },
  { additionalProperties: false },
);

export function streamJson(s: StreamRecord) {
  return {
    name: s.name,
    namespace: s.namespace,
    ...s.config,
    length: s.length,
    lastGeneratedId: formatId(s.top),
    entriesAdded: s.entriesAdded,
    createdAt: s.createdAt,
  };
}

function sendJson(reply: FastifyReply, text: string, status = 200) {
  return reply.status(status).type("application/json; charset=utf-8").send(text);
}

function addQueryToEntry(q: Record<string, unknown>, payload: string, now: number): NewEntry {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (k.startsWith("header.")) headers[k.slice(7)] = String(v);
  const limit = headers[MAX_DELIVERIES_HEADER];
  if (limit !== undefined) checkDeliveryLimit(limit, `header.${MAX_DELIVERIES_HEADER}`);
  const priority = q.priority as string | undefined;
  let level: NewEntry["priority"];
  if (priority !== undefined) {
    if (isPriority(priority)) level = priority;
    else if (/^\d{1,2}$/.test(priority) && Number(priority) <= 10) level = toPriority(Number(priority));
    else throw new BadRequestError("priority must be CRITICAL, HIGH, NORMAL, LOW or 0-10", { field: "priority" });
  }
  return {
    id: q.id as string | undefined,
    payload,
    type: (q.type as string | undefined) ?? null,
    headers,
    key: (q.key as string | undefined) ?? null,
    partition: q.partition as number | undefined,
    priority: level,
    correlationId: (q.correlationId as string | undefined) ?? null,
    causationId: (q.causationId as string | undefined) ?? null,
    messageId: (q.messageId as string | undefined) ?? null,
    producerId: (q.producerId as string | undefined) ?? null,
    deliverAt: deliverAtOf({ delayMs: q.delayMs as number | undefined, deliverAt: q.deliverAt as number | undefined }, now, ""),
  };
}

export function streamRoutes(app: FastifyInstance, { engine, namespaceOf }: HttpContext): void {
  const clock = () => engine.clock.now();

  app.post("/stream/:stream/add", { schema: { params: StreamParams, querystring: AddQuery } }, async (req, reply) => {
    const { stream } = req.params as { stream: string };
    const raw = req.rawBody;
    if (raw === undefined) throw new BadRequestError("the request body is the entry's payload: send JSON", { field: "body" });
    const entry = addQueryToEntry(req.query as Record<string, unknown>, raw, clock());
    const [r] = await engine.streams.append(namespaceOf(req), stream, [entry], "");
    return reply.status(201).send({ id: formatId(r!.id), partition: r!.partition, offset: r!.offset, duplicate: r!.duplicate });
  });

  app.post("/stream/:stream/entries", { schema: { params: StreamParams, body: EntriesBody } }, async (req, reply) => {
    const { stream } = req.params as { stream: string };
    const body = req.body as { entries: EntryInputT[] } | EntryInputT;
    const now = clock();
    const batch = "entries" in body && Array.isArray(body.entries);
    const inputs = batch ? (body as { entries: EntryInputT[] }).entries : [body as EntryInputT];
    const found = req.rawBody === undefined ? undefined : rawPayloads(req.rawBody, batch);
    const texts = found?.length === inputs.length ? found : undefined;
    const entries = inputs.map((e, i) => toNewEntry(e, now, batch ? `entries/${i}/` : "", texts?.[i]));
    const results = await engine.streams.append(namespaceOf(req), stream, entries, batch ? "entries" : "");
    // Built as text: for a batch of hundreds this is measurably cheaper than serialising an object tree.
    const ids = results.map((r) => `"${formatId(r.id)}"`);
    const items = results.map(
      (r, i) => `{"id":${ids[i]},"partition":${r.partition},"offset":${r.offset},"duplicate":${r.duplicate}}`,
    );
    return sendJson(reply, `{"ids":[${ids.join(",")}],"results":[${items.join(",")}]}`, 201);
  });

  app.get("/streams", async (req) => {
    const streams = await engine.streams.list(namespaceOf(req));
    return { streams: streams.map(streamJson) };
  });

  app.post("/stream/:stream", { schema: { params: StreamParams, body: StreamOptions } }, async (req, reply) => {
    const { stream } = req.params as { stream: string };
    const created = await engine.streams.create(namespaceOf(req), stream, req.body as StreamOptionsT);
    return reply.status(201).send(streamJson(created));
  });

  app.patch("/stream/:stream", { schema: { params: StreamParams, body: StreamOptions } }, async (req) => {
    const { stream } = req.params as { stream: string };
    return streamJson(await engine.streams.configure(namespaceOf(req), stream, req.body as StreamOptionsT));
  });

  app.delete("/stream/:stream", { schema: { params: StreamParams } }, async (req) => {
    const { stream } = req.params as { stream: string };
    await engine.streams.delete(namespaceOf(req), stream);
    return { deleted: true };
  });

  app.get("/stream/:stream/info", { schema: { params: StreamParams } }, async (req, reply) => {
    const { stream } = req.params as { stream: string };
    const info = await engine.streams.info(namespaceOf(req), stream);
    const plain = {
      name: info.name,
      namespace: info.namespace,
      ...info.config,
      length: info.length,
      lastGeneratedId: formatId(info.lastGeneratedId),
      entriesAdded: info.entriesAdded,
      createdAt: info.createdAt,
      groups: info.groups.map((g) => ({ ...g, lastDeliveredId: formatId(g.lastDeliveredId) })),
    };
    return sendJson(
      reply,
      objectJson(plain, {
        firstEntry: info.firstEntry ? entryJson(info.firstEntry) : "null",
        lastEntry: info.lastEntry ? entryJson(info.lastEntry) : "null",
      }),
    );
  });

  app.get("/stream/:stream/len", { schema: { params: StreamParams } }, async (req) => {
    const { stream } = req.params as { stream: string };
    return { length: await engine.streams.length(namespaceOf(req), stream) };
  });

  app.get("/stream/:stream/range", { schema: { params: StreamParams, querystring: RangeQuery } }, async (req, reply) => {
    const { stream } = req.params as { stream: string };
    const q = req.query as { start?: string; end?: string; count?: number; reverse?: boolean };
    const entries = await engine.streams.range(
      namespaceOf(req),
      stream,
      parseRangeStart(q.start),
      parseRangeEnd(q.end),
      q.count ?? 100,
      q.reverse ?? false,
    );
    return sendJson(reply, objectJson({ stream }, { entries: entriesJson(entries) }));
  });

  app.get("/stream/:stream/read", { schema: { params: StreamParams, querystring: ReadQuery } }, async (req, reply) => {
    const { stream } = req.params as { stream: string };
    const q = req.query as { after?: string; count?: number; block?: number };
    const entries = await engine.streams.read(namespaceOf(req), stream, {
      after: q.after ?? "0-0",
      count: q.count ?? 100,
      block: q.block,
      signal: q.block === undefined ? undefined : abortOnClose(reply.raw),
    });
    return sendJson(reply, objectJson({ stream }, { entries: entriesJson(entries) }));
  });

  app.post("/stream/:stream/trim", { schema: { params: StreamParams, body: TrimBody } }, async (req) => {
    const { stream } = req.params as { stream: string };
    const body = req.body as { maxLen?: number; minId?: string };
    if (body.maxLen === undefined && body.minId === undefined) {
      throw new BadRequestError("give maxLen or minId", { field: "maxLen" });
    }
    const by = { maxLen: body.maxLen, minId: body.minId === undefined ? undefined : parseId(body.minId, "minId") };
    return { trimmed: await engine.streams.trim(namespaceOf(req), stream, stripUndefined(by)) };
  });

  app.post(
    "/stream/:stream/delete",
    { schema: { params: StreamParams, body: Type.Object({ ids: Ids }, { additionalProperties: false }) } },
    async (req) => {
      const { stream } = req.params as { stream: string };
      const ids = (req.body as { ids: string[] }).ids.map((id, i) => parseId(id, `ids/${i}`));
      return { deleted: await engine.streams.deleteEntries(namespaceOf(req), stream, ids) };
    },
  );
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * An AbortSignal that fires when the client goes away, so a blocked read stops waiting for it. Only reads that
 * may block ask for one: it costs a listener and a controller per request.
 */
export function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  // A response that was written in full closes too; aborting then would only build an AbortError for nobody.
  res.once("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
