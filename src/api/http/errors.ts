// One error shape for every HTTP failure: {"error": {"code", "message", "field"?}}.
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HTTP_STATUS, RunnelError, type ErrorCode } from "../../core/errors.js";
import { NO_NUL_PATTERN } from "./schemas.js";

export interface ErrorBody {
  error: { code: string; message: string; field?: string; [extra: string]: unknown };
}

function body(code: ErrorCode, message: string, field?: string, extra: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, ...(field ? { field } : {}), ...extra } };
}

interface ValidationItem {
  instancePath: string;
  keyword?: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the offending field as a path (`entries/2/payload`), the way a user reads it. */
function validationField(item: ValidationItem): string {
  const path = item.instancePath.replace(/^\//, "");
  const missing = item.params.missingProperty as string | undefined;
  const extra = item.params.additionalProperty as string | undefined;
  const leaf = missing ?? extra;
  if (leaf) return path ? `${path}/${leaf}` : leaf;
  return path;
}

/**
 * For a value that may take one of several forms (`"HIGH"`, `"LOW"`, … or 0-10), Ajv reports each form that did
 * not match, first "must be equal to constant", which does not say what is allowed. A string is told the
 * allowed strings; any other value the complaint of the form it has (`must be <= 10`).
 */
function choicesMessage(items: readonly ValidationItem[], at: ValidationItem): string | undefined {
  const here = items.filter((i) => i.instancePath === at.instancePath);
  const allowed = here.filter((i) => i.keyword === "const").map((i) => JSON.stringify(i.params.allowedValue));
  if (allowed.length < 2) return undefined;
  const types = here.filter((i) => i.keyword === "type").map((i) => i.params.type as string);
  if (types.includes("string")) {
    return here.find((i) => !["const", "type", "anyOf"].includes(i.keyword ?? ""))?.message;
  }
  return `must be one of ${allowed.join(", ")}${types.includes("integer") ? " or an integer" : ""}`;
}

function fromValidation(error: FastifyError): ErrorBody {
  const items = error.validation as ValidationItem[];
  const item = items[0]!;
  const field = validationField(item);
  const where = error.validationContext ?? "body";
  const extra = item.params.additionalProperty ? `unknown field '${item.params.additionalProperty as string}'` : undefined;
  const noNul = item.keyword === "pattern" && item.params.pattern === NO_NUL_PATTERN ? "must not contain a NUL character" : undefined;
  const only = item.keyword === "const" ? `must be ${JSON.stringify(item.params.allowedValue)}` : undefined;
  const message = extra ?? `${field || where} ${noNul ?? choicesMessage(items, item) ?? only ?? item.message ?? "is invalid"}`;
  // A body of the wrong type as a whole (an array or a string where an object goes) is the body's fault.
  return body("RUNNEL_BAD_REQUEST", `${where}: ${message}`, field || (where === "body" ? "body" : undefined));
}

/** Fastify's own errors: our code, the status, and the message and field to show (theirs when not given). */
const FASTIFY_CODES: Record<string, [ErrorCode, number, string?, string?]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ["RUNNEL_PAYLOAD_TOO_LARGE", 413, "the request body is larger than the limit", "body"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["RUNNEL_UNSUPPORTED_MEDIA_TYPE", 415],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["RUNNEL_BAD_REQUEST", 400, "the request body is empty; send JSON", "body"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["RUNNEL_BAD_REQUEST", 400],
};

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof RunnelError) {
      const status = HTTP_STATUS[error.code];
      return reply.status(status).send(body(error.code, error.message, error.field, error.details));
    }
    if (error.validation) return reply.status(400).send(fromValidation(error));
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return reply.status(known[1]).send(body(known[0], known[2] ?? error.message, known[3]));
    if (error instanceof SyntaxError || (error as { statusCode?: number }).statusCode === 400) {
      return reply.status(400).send(body("RUNNEL_BAD_REQUEST", `the request body is not valid JSON: ${error.message}`, "body"));
    }
    // JSON.parse takes any depth, but writing a value back out (a payload stored as JSON text) recurses once per
    // level: thousands of nested arrays run out of stack before anything is stored.
    if (error instanceof RangeError && /call stack/.test(error.message)) {
      return reply.status(400).send(body("RUNNEL_BAD_REQUEST", "the request body is nested too deeply", "body"));
    }
    request.log.error({ err: error }, "request failed");
    return reply.status(500).send(body("RUNNEL_INTERNAL", "internal error"));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(body("RUNNEL_NOT_FOUND", `no route for ${request.method} ${request.url.split("?")[0]}`));
  });
}

/**
 * Requests Node's parser refuses before Fastify sees them (headers or a URL over 16 KB, malformed HTTP) are answered
 * in the same error shape; a reset connection has nobody to answer.
 */
export function clientErrorAnswer(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, message] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [431, "the request line and headers are larger than 16 KB"]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "the request was not received in time"]
        : [400, "the request is not valid HTTP"];
  answerRaw(socket, status, body("RUNNEL_BAD_REQUEST", message));
}

/** Answers on a bare socket (no Fastify reply to send through) and ends it: a refused upgrade, a parser error. */
export function answerRaw(socket: Duplex, status: number, error: ErrorBody): void {
  const text = JSON.stringify(error);
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\ncontent-type: application/json`;
  if (socket.writable) socket.end(`${head}\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
  else socket.destroy();
}
