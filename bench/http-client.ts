// The load generator's HTTP client: node:http over a keep-alive Agent, one pooled socket per request in flight.
import http from "node:http";

/** What one request answered, with its wall time in milliseconds. */
export interface Reply {
  status: number;
  text: string;
  ms: number;
}

export interface BenchClient {
  readonly base: string;
  post(path: string, body: string): Promise<Reply>;
  get(path: string): Promise<Reply>;
  close(): void;
}

/** A request that takes longer than this is abandoned and counted as an error, so no worker waits forever. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * node:http rather than the global fetch: fetch wraps every body in WHATWG streams and a Response, which costs the
 * single-threaded load generator several times more CPU per small request than a raw keep-alive socket.
 */
export function createClient(base: string, maxSockets: number): BenchClient {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: "lifo" });

  function send(method: "GET" | "POST", path: string, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const headers: http.OutgoingHttpHeaders = {};
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = Buffer.byteLength(body);
      }
      const req = http.request(
        { agent, host: url.hostname, port: url.port, method, path, headers, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            resolve({
              status: res.statusCode ?? 0,
              text: chunks.length === 1 ? chunks[0]!.toString() : Buffer.concat(chunks).toString(),
              ms: performance.now() - started,
            });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  return {
    base,
    post: (path, body) => send("POST", path, body),
    get: (path) => send("GET", path),
    close: () => agent.destroy(),
  };
}
