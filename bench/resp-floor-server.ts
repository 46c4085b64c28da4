// The RESP floor of the benchmark: a bare node:net server that answers the Redis Streams commands of
// bench/redis.ts from counters, storing nothing. The rate the ioredis load generator reaches against it is the most
// any Node server speaking the Redis protocol can show under these workloads on this machine.
//
// Run as a child process by bench/resp-floor.ts; prints `listening <port>` once it listens.
import net from "node:net";

const PAYLOAD_BYTES = Number(process.argv[2] ?? 200);
const PAYLOAD = JSON.stringify({ type: "order.created", pad: "x".repeat(Math.max(0, PAYLOAD_BYTES - 32)) });
const BASE_MS = Date.now();
const INFO = `# Server\r\nredis_version:7.0.0\r\nrunnel_version:floor\r\nprocess_id:${process.pid}\r\n`;

const lengths = new Map<string, number>();
const cursors = new Map<string, number>();

function bulk(text: string): string {
  return `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
}

function idAt(position: number): string {
  return `${BASE_MS}-${position}`;
}

/** The reply to one command, as RESP text. */
function answer(args: string[]): string {
  const name = (args[0] ?? "").toUpperCase();
  switch (name) {
    case "INFO":
      return bulk(INFO);
    case "XADD": {
      const key = args[1]!;
      const at = lengths.get(key) ?? 0;
      lengths.set(key, at + 1);
      return bulk(idAt(at));
    }
    case "XLEN":
      return `:${lengths.get(args[1]!) ?? 0}\r\n`;
    case "XGROUP":
      cursors.set(`${args[2]}/${args[3]}`, 0);
      return "+OK\r\n";
    case "XREADGROUP": {
      // XREADGROUP GROUP g c COUNT n STREAMS key >
      const key = args[args.length - 2]!;
      const group = `${key}/${args[2]}`;
      const from = cursors.get(group) ?? 0;
      const count = Math.max(0, Math.min(Number(args[5]), (lengths.get(key) ?? 0) - from));
      if (count === 0) return "*-1\r\n";
      cursors.set(group, from + count);
      let entries = "";
      const field = bulk("payload") + bulk(PAYLOAD);
      for (let i = 0; i < count; i++) entries += `*2\r\n${bulk(idAt(from + i))}*2\r\n${field}`;
      return `*1\r\n*2\r\n${bulk(key)}*${count}\r\n${entries}`;
    }
    case "XACK":
      return `:${args.length - 3}\r\n`;
    case "XPENDING":
      return "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n";
    case "DEL":
      for (const key of args.slice(1)) lengths.delete(key);
      return `:${args.length - 1}\r\n`;
    default:
      return "+OK\r\n";
  }
}

/** Reads the commands (arrays of bulk strings) that are complete in `buf` from `at`; answers where it stopped. */
function commands(buf: Buffer, at: number, each: (args: string[]) => void): number {
  for (;;) {
    const start = at;
    if (at >= buf.length || buf[at] !== 42 /* * */) return start;
    let eol = buf.indexOf("\r\n", at);
    if (eol < 0) return start;
    const n = Number(buf.toString("latin1", at + 1, eol));
    at = eol + 2;
    const args: string[] = [];
    for (let i = 0; i < n; i++) {
      eol = buf.indexOf("\r\n", at);
      if (eol < 0) return start;
      const len = Number(buf.toString("latin1", at + 1, eol));
      if (eol + 2 + len + 2 > buf.length) return start;
      args.push(buf.toString("utf8", eol + 2, eol + 2 + len));
      at = eol + 2 + len + 2;
    }
    each(args);
  }
}

const server = net.createServer((socket) => {
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    const buf = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let out = "";
    const used = commands(buf, 0, (args) => (out += answer(args)));
    pending = buf.subarray(used);
    if (out) socket.write(out);
  });
  socket.on("error", () => undefined);
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`listening ${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
