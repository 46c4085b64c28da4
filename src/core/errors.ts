// Typed errors shared by the engine, the transports and the SDK; each has a stable code.

export type ErrorCode =
  | "RUNNEL_BAD_REQUEST"
  | "RUNNEL_INVALID_ID"
  | "RUNNEL_ID_TOO_SMALL"
  | "RUNNEL_NOT_FOUND"
  | "RUNNEL_CONFLICT"
  | "RUNNEL_PAYLOAD_TOO_LARGE"
  | "RUNNEL_UNPROCESSABLE"
  | "RUNNEL_UNSUPPORTED_MEDIA_TYPE"
  | "RUNNEL_UNAUTHORIZED"
  | "RUNNEL_FORBIDDEN"
  | "RUNNEL_UNAVAILABLE"
  | "RUNNEL_INTERNAL";

export interface ErrorDetails {
  field?: string;
  cause?: unknown;
  [extra: string]: unknown;
}

/** The base of every error Runnel raises on purpose. */
export class RunnelError extends Error {
  override name = "RunnelError";
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    const { field, cause, ...rest } = details;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.field = field;
    this.details = rest;
  }
}

/** The request is malformed: a missing, wrongly typed or out-of-range field. */
export class BadRequestError extends RunnelError {
  override name = "BadRequestError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_BAD_REQUEST", message, details);
  }
}

/** A stream id that does not parse as `<ms>-<seq>` (or one of its short forms). */
export class InvalidIdError extends RunnelError {
  override name = "InvalidIdError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_INVALID_ID", message, details);
  }
}

/** An explicit id that is not greater than the stream's top id. */
export class IdTooSmallError extends RunnelError {
  override name = "IdTooSmallError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_ID_TOO_SMALL", message, details);
  }
}

export class NotFoundError extends RunnelError {
  override name = "NotFoundError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_NOT_FOUND", message, details);
  }
}

export class ConflictError extends RunnelError {
  override name = "ConflictError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_CONFLICT", message, details);
  }
}

/** Well-formed input that cannot be applied to the current state. */
export class UnprocessableError extends RunnelError {
  override name = "UnprocessableError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_UNPROCESSABLE", message, details);
  }
}

export class UnavailableError extends RunnelError {
  override name = "UnavailableError";
  constructor(message: string, details: ErrorDetails = {}) {
    super("RUNNEL_UNAVAILABLE", message, details);
  }
}

/** The HTTP status each code maps to; the SDK maps statuses and codes back. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  RUNNEL_BAD_REQUEST: 400,
  RUNNEL_INVALID_ID: 400,
  RUNNEL_ID_TOO_SMALL: 409,
  RUNNEL_NOT_FOUND: 404,
  RUNNEL_CONFLICT: 409,
  RUNNEL_PAYLOAD_TOO_LARGE: 413,
  RUNNEL_UNPROCESSABLE: 422,
  RUNNEL_UNSUPPORTED_MEDIA_TYPE: 415,
  RUNNEL_UNAUTHORIZED: 401,
  RUNNEL_FORBIDDEN: 403,
  RUNNEL_UNAVAILABLE: 503,
  RUNNEL_INTERNAL: 500,
};
