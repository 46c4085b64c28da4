// Server-side filters for push subscriptions: by type, by header values, by payload text.
import { BadRequestError } from "./errors.js";
import type { Entry } from "./types.js";

export interface EntryFilter {
  /** The entry's type must equal this. */
  messageType?: string;
  /** Every header named here must have exactly this value. */
  headers?: Record<string, string>;
  /** The payload's JSON text must contain this string. */
  payloadContains?: string;
}

export function isEmptyFilter(f: EntryFilter): boolean {
  return f.messageType === undefined && f.payloadContains === undefined && Object.keys(f.headers ?? {}).length === 0;
}

/** Checks a filter sent by a client; answers it in canonical form. */
export function checkFilter(value: unknown, field = "filters"): EntryFilter {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new BadRequestError(`${field} must be an object`, { field });
  const v = value as Record<string, unknown>;
  const out: EntryFilter = {};
  for (const key of Object.keys(v)) {
    if (!["messageType", "headers", "payloadContains"].includes(key)) {
      throw new BadRequestError(`unknown filter '${key}'`, { field: `${field}/${key}` });
    }
  }
  if (v.messageType !== undefined) {
    if (typeof v.messageType !== "string") throw new BadRequestError("messageType must be a string", { field: `${field}/messageType` });
    out.messageType = v.messageType;
  }
  if (v.payloadContains !== undefined) {
    if (typeof v.payloadContains !== "string") {
      throw new BadRequestError("payloadContains must be a string", { field: `${field}/payloadContains` });
    }
    out.payloadContains = v.payloadContains;
  }
  if (v.headers !== undefined) {
    const h = v.headers;
    if (typeof h !== "object" || h === null || Array.isArray(h) || Object.values(h).some((x) => typeof x !== "string")) {
      throw new BadRequestError("headers must be an object of strings", { field: `${field}/headers` });
    }
    out.headers = { ...(h as Record<string, string>) };
  }
  return out;
}

/** Compiles a filter into a predicate; header JSON is parsed only when a header filter needs it. */
export function compileFilter(f: EntryFilter): (e: Entry) => boolean {
  if (isEmptyFilter(f)) return () => true;
  const wanted = Object.entries(f.headers ?? {});
  return (e) => {
    if (f.messageType !== undefined && e.type !== f.messageType) return false;
    if (f.payloadContains !== undefined && !e.payload.includes(f.payloadContains)) return false;
    if (wanted.length > 0) {
      const headers = JSON.parse(e.headers) as Record<string, string>;
      for (const [k, v] of wanted) if (headers[k] !== v) return false;
    }
    return true;
  };
}
