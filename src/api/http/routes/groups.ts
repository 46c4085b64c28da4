// /stream/:stream/group/:group — consumer groups with Redis semantics (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM).
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { formatId, MIN_ID, parseId, parseRangeEnd, parseRangeStart, inclusiveEnd, inclusiveStart, MAX_ID } from "../../../core/ids.js";
import { checkName } from "../../../core/names.js";
import type { HttpContext } from "../context.js";
import { deliveriesJson, idJson, objectJson } from "../serialize.js";
import { Block, ConsumerParams, Count, GroupParams, IdText, Ids, Millis, Name, SafeInteger, StreamParams } from "../schemas.js";
import { abortOnClose } from "./streams.js";
import { emptyBodyIsObject } from "../validation.js";

const CreateBody = Type.Object(
  { startId: Type.Optional(IdText), mkStream: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

const ReadQuery = Type.Object(
  {
    count: Type.Optional(Count),
    block: Type.Optional(Block),
    id: Type.Optional(IdText),
    noack: Type.Optional(Type.Boolean()),
    memberId: Type.Optional(Name),
  },
  { additionalProperties: false },
);

/** A member may name itself in the query or in this header. */
const MEMBER_HEADER = "x-member-id";

const PendingQuery = Type.Object(
  {
    start: Type.Optional(IdText),
    end: Type.Optional(IdText),
    count: Type.Optional(Count),
    consumer: Type.Optional(Name),
    idle: Type.Optional(Millis),
  },
  { additionalProperties: false },
);

const ClaimBody = Type.Object(
  {
    consumer: Name,
    minIdleTime: Millis,
    ids: Ids,
    idle: Type.Optional(Millis),
    time: Type.Optional(Millis),
    retryCount: Type.Optional(SafeInteger()),
    force: Type.Optional(Type.Boolean()),
    justId: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const AutoClaimBody = Type.Object(
  {
    consumer: Name,
    minIdleTime: Millis,
    start: Type.Optional(IdText),
    count: Type.Optional(Count),
    justId: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const NackBody = Type.Object(
  { ids: Ids, delayMs: Type.Optional(Millis), consumer: Type.Optional(Name) },
  { additionalProperties: false },
);

type P = { stream: string; group: string };

export function groupRoutes(app: FastifyInstance, { engine, namespaceOf }: HttpContext): void {
  app.post("/stream/:stream/group/:group", { schema: { params: GroupParams, body: CreateBody }, preValidation: emptyBodyIsObject }, async (req, reply) => {
    const { stream, group } = req.params as P;
    const body = (req.body ?? {}) as { startId?: string; mkStream?: boolean };
    const g = await engine.groups.create(namespaceOf(req), stream, group, body.startId ?? "$", body.mkStream ?? true);
    return reply.status(201).send({ stream, group: g.name, startId: formatId(g.start), created: true });
  });

  app.get("/stream/:stream/groups", { schema: { params: StreamParams } }, async (req) => {
    const { stream } = req.params as { stream: string };
    const groups = await engine.groups.list(namespaceOf(req), stream);
    return { stream, groups: groups.map(groupJson) };
  });

  app.get("/stream/:stream/group/:group", { schema: { params: GroupParams } }, async (req) => {
    const { stream, group } = req.params as P;
    return groupJson(await engine.groups.info(namespaceOf(req), stream, group));
  });

  app.delete("/stream/:stream/group/:group", { schema: { params: GroupParams } }, async (req) => {
    const { stream, group } = req.params as P;
    await engine.groups.destroy(namespaceOf(req), stream, group);
    return { deleted: true };
  });

  app.post(
    "/stream/:stream/group/:group/setid",
    { schema: { params: GroupParams, body: Type.Object({ id: IdText }, { additionalProperties: false }) } },
    async (req) => {
      const { stream, group } = req.params as P;
      await engine.groups.setId(namespaceOf(req), stream, group, (req.body as { id: string }).id);
      return { ok: true };
    },
  );

  app.get(
    "/stream/:stream/group/:group/consumer/:consumer",
    { schema: { params: ConsumerParams, querystring: ReadQuery } },
    async (req, reply) => {
      const { stream, group, consumer } = req.params as P & { consumer: string };
      const q = req.query as { count?: number; block?: number; id?: string; noack?: boolean; memberId?: string };
      const header = req.headers[MEMBER_HEADER];
      const memberId = q.memberId ?? (typeof header === "string" && header !== "" ? checkName(header, "memberId") : undefined);
      const deliveries = await engine.groups.read(namespaceOf(req), stream, group, consumer, {
        count: q.count ?? 10,
        block: q.block,
        id: q.id ?? ">",
        noAck: q.noack ?? false,
        signal: q.block === undefined ? undefined : abortOnClose(reply.raw),
        memberId,
      });
      return reply
        .type("application/json; charset=utf-8")
        .send(objectJson({ stream, group, consumer }, { entries: deliveriesJson(deliveries) }));
    },
  );

  app.get("/stream/:stream/group/:group/consumers", { schema: { params: GroupParams } }, async (req) => {
    const { stream, group } = req.params as P;
    const consumers = await engine.groups.consumers(namespaceOf(req), stream, group);
    return { stream, group, consumers };
  });

  app.delete("/stream/:stream/group/:group/consumer/:consumer", { schema: { params: ConsumerParams } }, async (req) => {
    const { stream, group, consumer } = req.params as P & { consumer: string };
    return { deleted: true, handedBack: await engine.groups.deleteConsumer(namespaceOf(req), stream, group, consumer) };
  });

  app.post(
    "/stream/:stream/group/:group/ack",
    { schema: { params: GroupParams, body: Type.Object({ ids: Ids }, { additionalProperties: false }) } },
    async (req) => {
      const { stream, group } = req.params as P;
      const ids = (req.body as { ids: string[] }).ids.map((id, i) => parseId(id, `ids/${i}`));
      return { acked: await engine.groups.ack(namespaceOf(req), stream, group, ids) };
    },
  );

  app.post("/stream/:stream/group/:group/nack", { schema: { params: GroupParams, body: NackBody } }, async (req) => {
    const { stream, group } = req.params as P;
    const body = req.body as { ids: string[]; delayMs?: number; consumer?: string };
    const ids = body.ids.map((id, i) => parseId(id, `ids/${i}`));
    return { nacked: await engine.groups.nack(namespaceOf(req), stream, group, ids, body.delayMs ?? 0, body.consumer) };
  });

  app.get("/stream/:stream/group/:group/pending", { schema: { params: GroupParams, querystring: PendingQuery } }, async (req) => {
    const { stream, group } = req.params as P;
    const q = req.query as { start?: string; end?: string; count?: number; consumer?: string; idle?: number };
    const ns = namespaceOf(req);
    const extended = q.count !== undefined || q.start !== undefined || q.end !== undefined || q.consumer !== undefined || q.idle !== undefined;
    if (!extended) {
      const s = await engine.groups.pendingSummary(ns, stream, group);
      return { count: s.count, smallestId: idJson(s.smallest), largestId: idJson(s.largest), consumers: s.consumers };
    }
    const start = inclusiveStart(parseRangeStart(q.start));
    const end = inclusiveEnd(parseRangeEnd(q.end));
    const rows =
      start && end
        ? await engine.groups.pending(ns, stream, group, {
            start,
            end,
            count: q.count ?? 100,
            ...(q.consumer === undefined ? {} : { consumer: q.consumer }),
            ...(q.idle === undefined ? {} : { minIdleMs: q.idle }),
          })
        : [];
    return { entries: rows.map((r) => ({ ...r, id: formatId(r.id) })) };
  });

  app.post("/stream/:stream/group/:group/claim", { schema: { params: GroupParams, body: ClaimBody } }, async (req, reply) => {
    const { stream, group } = req.params as P;
    const b = req.body as {
      consumer: string;
      minIdleTime: number;
      ids: string[];
      idle?: number;
      time?: number;
      retryCount?: number;
      force?: boolean;
      justId?: boolean;
    };
    const ids = b.ids.map((id, i) => parseId(id, `ids/${i}`));
    const claimed = await engine.groups.claim(namespaceOf(req), stream, group, b.consumer, b.minIdleTime, ids, {
      ...(b.idle === undefined ? {} : { idleMs: b.idle }),
      ...(b.time === undefined ? {} : { timeMs: b.time }),
      ...(b.retryCount === undefined ? {} : { retryCount: b.retryCount }),
      force: b.force ?? false,
      justId: b.justId ?? false,
    });
    if (b.justId) return { ids: claimed.map((d) => formatId(d.id)) };
    return reply.type("application/json; charset=utf-8").send(objectJson({}, { entries: deliveriesJson(claimed) }));
  });

  app.post("/stream/:stream/group/:group/autoclaim", { schema: { params: GroupParams, body: AutoClaimBody } }, async (req, reply) => {
    const { stream, group } = req.params as P;
    const b = req.body as { consumer: string; minIdleTime: number; start?: string; count?: number; justId?: boolean };
    const start = b.start === undefined ? MIN_ID : (inclusiveStart(parseRangeStart(b.start, "start")) ?? MAX_ID);
    const r = await engine.groups.autoClaim(namespaceOf(req), stream, group, b.consumer, b.minIdleTime, start, b.count ?? 100, b.justId ?? false);
    const plain = { next: formatId(r.next), deleted: r.deleted.map(formatId) };
    if (b.justId) return { ...plain, ids: r.claimed.map((d) => formatId(d.id)) };
    return reply.type("application/json; charset=utf-8").send(objectJson(plain, { entries: deliveriesJson(r.claimed) }));
  });
}

function groupJson(g: Awaited<ReturnType<HttpContext["engine"]["groups"]["info"]>>) {
  return {
    stream: g.stream,
    name: g.name,
    consumers: g.consumers,
    pending: g.pending,
    deferred: g.deferred,
    lastDeliveredId: formatId(g.lastDeliveredId),
    entriesRead: g.entriesRead,
    lag: g.lag,
    partitionLags: g.partitionLags,
    consumerList: g.consumerList,
    createdAt: g.createdAt,
  };
}
