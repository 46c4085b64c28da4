// A tiny JSON client over fetch for tests: every call answers status and parsed body.
import assert from "node:assert/strict";

export interface Res<T = any> {
  status: number;
  body: T;
}

export function client(base: string) {
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON; the test sees the text
    }
    return { status: res.status, body: parsed as T };
  }
  return {
    get: <T = any>(path: string) => call<T>("GET", path),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>("POST", path, body, headers),
    patch: <T = any>(path: string, body?: unknown) => call<T>("PATCH", path, body),
    del: <T = any>(path: string) => call<T>("DELETE", path),
    call,
  };
}

/** A unique name per test so tests never share state. */
export function unique(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** A parsed JSON body, for tests that read fields freely. */
export type Msg = Record<string, any>;

/** Asserts the status (naming `what` and showing the body when it differs) and answers the body. */
export function expect(res: Res, status: number, what: string): any {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Asserts an error answer: its status, `error.code` and, when given, `error.field`. */
export function expectError(res: Res, status: number, code: string, field: string | undefined, what: string): void {
  assert.equal(res.status, status, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body.error.code, code, what);
  if (field !== undefined) assert.equal(res.body.error.field, field, what);
}
