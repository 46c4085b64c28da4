// The one request the window client makes: a JSON POST (or GET) to /api/v1/stream/*, errors mapped to typed ones.
import { errorFromResponse, isAbortError, notRunnel, unreachable } from "../errors.js";
import { linkedSignal } from "../http.js";

/** Where the server is; `fetch` may be swapped (a proxy, a test probe). */
export interface WindowClientBase {
  url: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export class WindowHttp {
  private readonly url: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly base: WindowClientBase) {
    this.url = base.url.replace(/\/+$/, "");
    this.doFetch = base.fetch ?? fetch;
  }

  async call<T>(method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const url = `${this.url}${path}`;
    const headers: Record<string, string> = { accept: "application/json", ...this.base.headers };
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    // A consumer's stop signal lives for every poll: fetch gets a signal of its own (see linkedSignal).
    const link = signal && linkedSignal(signal);
    if (link) init.signal = link.signal;
    let res: Response;
    let text: string;
    try {
      res = await this.doFetch(url, init);
      text = await res.text();
    } catch (error) {
      if (isAbortError(error) || signal?.aborted) throw error;
      throw unreachable(url, error);
    } finally {
      link?.unlink();
    }
    if (!res.ok) throw errorFromResponse(method, url, res.status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw notRunnel(method, url, res.status, text);
    }
  }
}
