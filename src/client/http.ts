// One HTTP request to the server: URL and query building, JSON in and out, errors mapped to typed ones.
import { errorFromResponse, isAbortError, notRunnel, unreachable } from "./errors.js";
import type { ResolvedClientOptions } from "./options.js";
import { useRawPayloads } from "./raw-payloads.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Query values; `undefined` ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** A body already serialised as JSON text (takes the place of `body`). */
  json?: string;
  signal?: AbortSignal | undefined;
  /** The answer holds `entries`: hand each payload out as a RawJson of the text the server sent. */
  rawPayloads?: boolean | undefined;
}

/** `/stream/a%2Fb/group/g`: every segment encoded. */
export function path(strings: TemplateStringsArray, ...names: string[]): string {
  return strings.reduce((out, s, i) => out + s + (i < names.length ? encodeURIComponent(names[i]!) : ""), "");
}

export function queryString(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.append(k, String(v));
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * A signal of one request's own that aborts with `parent`. Node's fetch leaves its listener on the signal it is
 * given until the request is garbage-collected, so a worker passing its long-lived stop signal to every read
 * piled up thousands of them (MaxListenersExceededWarning); this one listener is removed when the request ends.
 */
export function linkedSignal(parent: AbortSignal): { signal: AbortSignal; unlink: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort(parent.reason);
  if (parent.aborted) abort();
  else parent.addEventListener("abort", abort, { once: true });
  return { signal: controller.signal, unlink: () => parent.removeEventListener("abort", abort) };
}

export class HttpTransport {
  constructor(readonly options: ResolvedClientOptions) {}

  get baseUrl(): string {
    return this.options.url;
  }

  urlOf(pathname: string, query?: Query): string {
    return `${this.options.url}${pathname}${queryString(query)}`;
  }

  /** Sends one request and answers the parsed JSON body; a non-2xx answer throws the error its code names. */
  async request<T>(method: HttpMethod, pathname: string, options: RequestOptions = {}): Promise<T> {
    const url = this.urlOf(pathname, options.query);
    const headers: Record<string, string> = { accept: "application/json", ...this.options.headers };
    const init: RequestInit = { method, headers };
    if (options.json !== undefined || options.body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = options.json ?? JSON.stringify(options.body);
    }
    const link = options.signal && linkedSignal(options.signal);
    if (link) init.signal = link.signal;
    let res: Response;
    let text: string;
    try {
      res = await this.options.fetch(url, init);
      text = await res.text();
    } catch (error) {
      if (isAbortError(error) || options.signal?.aborted) throw error;
      throw unreachable(url, error);
    } finally {
      link?.unlink();
    }
    if (!res.ok) throw errorFromResponse(method, url, res.status, text);
    if (!text) return undefined as T;
    let parsed: T;
    try {
      parsed = JSON.parse(text) as T;
    } catch {
      throw notRunnel(method, url, res.status, text);
    }
    if (options.rawPayloads) useRawPayloads(text, parsed as { entries?: unknown });
    return parsed;
  }
}
