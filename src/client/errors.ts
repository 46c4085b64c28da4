// Turns what the server answered (or failed to answer) back into Runnel's typed errors, by code.
import {
  BadRequestError,
  ConflictError,
  HTTP_STATUS,
  IdTooSmallError,
  InvalidIdError,
  NotFoundError,
  RunnelError,
  UnavailableError,
  UnprocessableError,
  type ErrorCode,
  type ErrorDetails,
} from "../core/errors.js";

type ErrorClass = new (message: string, details?: ErrorDetails) => RunnelError;

/** Codes with a class of their own; the rest come back as a plain `RunnelError` carrying the code. */
const CLASSES: Partial<Record<ErrorCode, ErrorClass>> = {
  RUNNEL_BAD_REQUEST: BadRequestError,
  RUNNEL_INVALID_ID: InvalidIdError,
  RUNNEL_ID_TOO_SMALL: IdTooSmallError,
  RUNNEL_NOT_FOUND: NotFoundError,
  RUNNEL_CONFLICT: ConflictError,
  RUNNEL_UNPROCESSABLE: UnprocessableError,
  RUNNEL_UNAVAILABLE: UnavailableError,
};

const CODES = new Set<string>(Object.keys(HTTP_STATUS));

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && CODES.has(value);
}

/** A timeout, rate limit or missing upstream, as proxies answer them: passing conditions, so retried. */
const PASSING_STATUSES = new Set([408, 429, 502, 503, 504]);

/** The code a bare HTTP status stands for, when the body does not say. */
function codeOfStatus(status: number): ErrorCode {
  if (PASSING_STATUSES.has(status)) return "RUNNEL_UNAVAILABLE";
  const exact = (Object.entries(HTTP_STATUS) as [ErrorCode, number][]).find(([, s]) => s === status);
  if (exact) return exact[0];
  return status >= 400 && status < 500 ? "RUNNEL_BAD_REQUEST" : "RUNNEL_INTERNAL";
}

/**
 * Builds the typed error for a code: `RUNNEL_NOT_FOUND` becomes a `NotFoundError`, and so on. `field` and any
 * other details the server sent (`topId` for an id that is too small) are kept.
 */
export function errorOf(code: string, message: string, details: ErrorDetails = {}): RunnelError {
  if (!isErrorCode(code)) return new RunnelError("RUNNEL_INTERNAL", message, { ...details, serverCode: code });
  const Class = CLASSES[code];
  return Class ? new Class(message, details) : new RunnelError(code, message, details);
}

/** Reads an `{error: {code, message, field?, ...}}` object (an HTTP body, a WebSocket or SSE `error` message). */
export function errorFromObject(value: unknown, fallbackCode: ErrorCode, fallbackMessage: string): RunnelError {
  const inner =
    typeof value === "object" && value !== null && "error" in value && typeof value.error === "object" && value.error !== null
      ? (value.error as Record<string, unknown>)
      : (value as Record<string, unknown> | null);
  if (!inner || typeof inner !== "object") return errorOf(fallbackCode, fallbackMessage);
  const { code, message, field, type: _type, connectionId: _c, timestamp: _t, id: _id, ...rest } = inner;
  const details: ErrorDetails = { ...rest };
  if (typeof field === "string") details.field = field;
  return errorOf(
    typeof code === "string" ? code : fallbackCode,
    typeof message === "string" ? message : fallbackMessage,
    details,
  );
}

/** Up to 200 characters of a body that is not Runnel's (an HTML error page, say), on one line. */
function oneLine(text: string): string {
  const flat = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

/** A 2xx answer that is not JSON: the URL points at some other server (a proxy's or a web app's page). */
export function notRunnel(method: string, url: string, status: number, text: string): RunnelError {
  return errorOf("RUNNEL_INTERNAL", `${method} ${url} answered ${status} with something other than Runnel's JSON: ${oneLine(text)}`, {
    url,
  });
}

/** The error for a non-2xx response whose body text is `text`. */
export function errorFromResponse(method: string, url: string, status: number, text: string): RunnelError {
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const fallback = `${method} ${url} answered ${status}${text && body === undefined ? `: ${oneLine(text)}` : ""}`;
  return errorFromObject(body ?? null, codeOfStatus(status), fallback);
}

/** A request that never got an answer: the server is down, unreachable or the connection broke. */
export function unreachable(url: string, cause: unknown): UnavailableError {
  const why = cause instanceof Error ? describeCause(cause) : String(cause);
  return new UnavailableError(`cannot reach Runnel at ${url}: ${why}`, { cause, url });
}

function describeCause(error: Error): string {
  // Node's fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is in its cause.
  const inner = (error as { cause?: unknown }).cause;
  if (inner instanceof Error) {
    const code = (inner as { code?: unknown }).code;
    return typeof code === "string" && !inner.message.includes(code) ? `${code} ${inner.message}` : inner.message;
  }
  return error.message;
}

/** True for the error `fetch` throws when its signal aborts the request. */
export function isAbortError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError";
}

/** Errors that the same request would hit again: retrying or reconnecting does not help. */
export function isPermanent(error: unknown): boolean {
  if (!(error instanceof RunnelError)) return false;
  return ["RUNNEL_BAD_REQUEST", "RUNNEL_INVALID_ID", "RUNNEL_UNPROCESSABLE", "RUNNEL_UNAUTHORIZED", "RUNNEL_FORBIDDEN"].includes(
    error.code,
  );
}
