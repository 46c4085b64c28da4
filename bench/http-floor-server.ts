// The HTTP floor of the benchmark: a bare node:http server (no framework, no validation, no storage) that answers
// the requests of bench/scenarios.ts as Runnel would, keeping only counters in memory. Whatever rate the load
// generator reaches against it is the most any Node HTTP server can show under these workloads on this machine.
//
// Run as a child process by bench/http-floor.ts; prints `listening <port>` once it listens.
import http from "node:http";

const PAYLOAD_BYTES = Number(process.argv[2] ?? 200);
/** An entry's payload as readers get it: a JSON object of the bench's payload size. */
const PAYLOAD = JSON.stringify({ type: "order.created", pad: "x".repeat(Math.max(0, PAYLOAD_BYTES - 32)) });
const BASE_MS = Date.now();

/** Entries appended per stream, and the next position each group reads from. */
const lengths = new Map<string, number>();
const cursors = new Map<string, number>();

function idAt(position: number): string {
  return `${BASE_MS}-${position}`;
}

function appended(stream: string, count: number): number {
  const first = lengths.get(stream) ?? 0;
  lengths.set(stream, first + count);
  return first;
}

function entryText(position: number): string {
  return (
    `{"id":"${idAt(position)}","partition":0,"offset":${position},"key":null,"type":null,"headers":{},` +
    `"payload":${PAYLOAD},"priority":"NORMAL","correlationId":null,"causationId":null,"messageId":null,` +
    `"timestamp":${BASE_MS},"deliverAt":null,"deliveryCount":1}`
  );
}

/** The reply to one request: status and JSON text. */
function answer(method: string, path: string, query: URLSearchParams, body: string): [number, string] {
  const parts = path.split("/").slice(1).map(decodeURIComponent);
  if (parts[0] !== "stream" || parts[1] === undefined) return [404, '{"error":{"code":"RUNNEL_NOT_FOUND","message":"no route"}}'];
  const stream = parts[1];
  const rest = parts.slice(2).join("/");
  if (method === "POST" && rest === "add") {
    JSON.parse(body);
    const at = appended(stream, 1);
    return [201, `{"id":"${idAt(at)}","partition":0,"offset":${at},"duplicate":false}`];
  }
  if (method === "POST" && rest === "entries") {
    const count = (JSON.parse(body) as { entries: unknown[] }).entries.length;
    const first = appended(stream, count);
    const ids: string[] = [];
    const results: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(`"${idAt(first + i)}"`);
      results.push(`{"id":${ids[i]},"partition":0,"offset":${first + i},"duplicate":false}`);
    }
    return [201, `{"ids":[${ids.join(",")}],"results":[${results.join(",")}]}`];
  }
  if (method === "GET" && rest === "len") return [200, `{"length":${lengths.get(stream) ?? 0}}`];
  if (parts[2] !== "group" || parts[3] === undefined) return [404, '{"error":{"code":"RUNNEL_NOT_FOUND","message":"no route"}}'];
  const group = `${stream}/${parts[3]}`;
  const action = parts.slice(4).join("/");
  if (method === "POST" && action === "") {
    cursors.set(group, 0);
    return [201, `{"stream":"${stream}","group":"${parts[3]}","startId":"0-0","created":true}`];
  }
  if (method === "GET" && action === "") return [200, '{"pending":0,"lag":0}'];
  if (method === "GET" && parts[4] === "consumer") {
    const from = cursors.get(group) ?? 0;
    const count = Math.max(0, Math.min(Number(query.get("count") ?? 1), (lengths.get(stream) ?? 0) - from));
    cursors.set(group, from + count);
    const entries: string[] = [];
    for (let i = 0; i < count; i++) entries.push(entryText(from + i));
    return [200, `{"stream":"${stream}","group":"${parts[3]}","consumer":"${parts[5]}","entries":[${entries.join(",")}]}`];
  }
  if (method === "POST" && action === "ack") {
    const ids = (JSON.parse(body) as { ids: string[] }).ids;
    return [200, `{"acked":${ids.length}}`];
  }
  return [404, '{"error":{"code":"RUNNEL_NOT_FOUND","message":"no route"}}'];
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://floor");
    let status: number;
    let text: string;
    try {
      [status, text] = answer(req.method ?? "GET", url.pathname, url.searchParams, Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      [status, text] = [400, JSON.stringify({ error: { code: "RUNNEL_BAD_REQUEST", message: String(error) } })];
    }
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
