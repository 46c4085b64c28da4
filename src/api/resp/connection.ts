// One client connection: parses pipelined commands, runs them strictly in order and writes replies in that order.
import type { Socket } from "node:net";
import type { Engine } from "../../engine/index.js";
import { COMMANDS } from "./commands/table.js";
import type { Command, CommandContext, ServerFacts, Session } from "./commands/types.js";
import { RespError, toRespError, unknownCommand, wrongArity } from "./errors.js";
import { encode, type Reply } from "./protocol.js";
import { InvalidCommand, MAX_ARGS, RequestParser, type ParsedCommand } from "./request-parser.js";

export interface ConnectionDeps {
  engine: Engine;
  namespace: string;
  server: ServerFacts;
  log(error: unknown): void;
}

/**
 * Parsed commands waiting past this many, or holding more than COMMAND_PAYLOADS times the largest payload,
 * stop the socket being read until they are run (backpressure).
 */
const MAX_QUEUED = 10_000;
/** Most pipelined calls of one command started together (XADDs to one stream then share one unit of work). */
const MAX_BATCH = 10_000;
/**
 * One command's arguments together may hold this many times the largest payload: room for XACK or XDEL with a
 * great many ids, while a single argument is capped at the payload limit (nothing larger could be stored).
 */
const COMMAND_PAYLOADS = 16;

function bytesOf(parsed: ParsedCommand): number {
  if (parsed instanceof InvalidCommand) return 0;
  let n = 0;
  for (const arg of parsed) n += arg.length;
  return n;
}

function arityOk(command: Command, argc: number): boolean {
  return command.arity >= 0 ? argc === command.arity : argc >= -command.arity;
}

export class RespConnection {
  private readonly parser: RequestParser;
  private readonly queue: ParsedCommand[] = [];
  private head = 0;
  /** The bytes of the arguments waiting in the queue (as UTF-16 code units: close enough for a bound). */
  private queuedBytes = 0;
  private readonly maxQueuedBytes: number;
  private running = false;
  private quitting = false;
  private closed = false;
  /** A protocol error to answer after the replies already owed, before the connection closes. */
  private fatal: string | undefined;
  private out: string[] = [];
  private flushing = false;
  private readBlocked = false;
  private writeBlocked = false;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private readonly ctx: CommandContext;

  constructor(
    private readonly socket: Socket,
    id: number,
    private readonly deps: ConnectionDeps,
  ) {
    const self = this;
    const session: Session = {
      id,
      name: null,
      signal: this.abort.signal,
      closeAfterReply() {
        // As in Redis, nothing after QUIT is run or answered, a protocol error further on included.
        self.quitting = true;
        self.fatal = undefined;
      },
    };
    this.ctx = { engine: deps.engine, namespace: deps.namespace, session, server: deps.server };
    this.maxQueuedBytes = COMMAND_PAYLOADS * deps.server.maxPayloadBytes;
    this.parser = new RequestParser({
      maxBulkBytes: deps.server.maxPayloadBytes,
      maxCommandBytes: COMMAND_PAYLOADS * deps.server.maxPayloadBytes,
      maxArgs: MAX_ARGS,
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (this.closed || this.quitting) return;
      for (const parsed of this.parser.feed(chunk)) {
        this.queue.push(parsed);
        this.queuedBytes += bytesOf(parsed);
      }
      if (this.parser.error !== undefined) this.protocolError(this.parser.error);
      else this.updateReading();
      // Started once the whole chunk is parsed, so a pipeline's XADDs to one stream join one append.
      if (!this.running) void this.pump();
    });
    socket.on("drain", () => {
      this.writeBlocked = false;
      this.updateReading();
    });
    socket.on("close", () => this.gone());
    socket.on("error", () => this.gone());
  }

  /** Stops reading and ends blocked reads; the command running finishes and its reply is sent, then the socket ends. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.quitting = true;
      this.queue.length = this.head = this.queuedBytes = 0;
      this.abort.abort();
      this.socket.pause();
      await this.whenIdle();
      this.finish();
    }
  }

  /** Drops the socket at once. */
  destroy(): void {
    this.socket.destroy();
    this.gone();
  }

  private whenIdle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = this.head = this.queuedBytes = 0;
    this.abort.abort();
  }

  /**
   * Like Redis: the commands parsed before the bad bytes still run and answer, then the protocol error is
   * answered and the connection closes (pump() finishes it once the queue is empty).
   */
  private protocolError(message: string): void {
    if (this.quitting || this.closed) return;
    this.quitting = true;
    this.fatal = `ERR Protocol error: ${message}`;
    this.socket.pause();
  }

  private updateReading(): void {
    const queued = this.queue.length - this.head;
    const block = this.writeBlocked || queued >= MAX_QUEUED || this.queuedBytes > this.maxQueuedBytes;
    if (block && !this.readBlocked) this.socket.pause();
    else if (!block && this.readBlocked && !this.quitting) this.socket.resume();
    this.readBlocked = block;
  }

  private take(): ParsedCommand | undefined {
    if (this.head >= this.queue.length) return undefined;
    const args = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as ParsedCommand;
    this.queuedBytes -= bytesOf(args);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    return args;
  }

  /** Runs queued commands one after another; pipelined calls that can share an engine call are joined. */
  private async pump(): Promise<void> {
    this.running = true;
    try {
      for (let args = this.take(); args && !this.closed; args = this.quitting && this.fatal === undefined ? undefined : this.take()) {
        if (args instanceof InvalidCommand) {
          this.send(encode(new RespError(args.message)));
          continue;
        }
        const name = args[0]!;
        const command = COMMANDS.get(name.toLowerCase());
        if (!command) {
          this.send(encode(unknownCommand(name, args.slice(1))));
          continue;
        }
        if (!arityOk(command, args.length)) {
          this.send(encode(wrongArity(command.name)));
          continue;
        }
        const key = command.batch?.key(args.slice(1));
        if (command.batch && key !== undefined) {
          const calls = [args.slice(1)];
          while (calls.length < MAX_BATCH && this.head < this.queue.length) {
            const next = this.queue[this.head]!;
            if (next instanceof InvalidCommand || next[0]!.toLowerCase() !== command.name || !arityOk(command, next.length)) break;
            if (command.batch.key(next.slice(1)) !== key) break;
            calls.push((this.take() as string[]).slice(1));
          }
          const outcomes = await command.batch.run(this.ctx, calls);
          this.send(outcomes.map((o) => encode(o.status === "fulfilled" ? o.value : this.errorReply(o.reason))).join(""));
        } else {
          let reply: Reply;
          try {
            reply = await command.run(this.ctx, args.slice(1));
          } catch (error) {
            reply = this.errorReply(error);
          }
          this.send(encode(reply));
        }
        this.updateReading();
      }
    } catch (error) {
      this.deps.log(error);
      this.destroy();
    } finally {
      this.running = false;
      for (const done of this.idleWaiters.splice(0)) done();
      if (this.quitting) this.finish();
    }
  }

  private errorReply(error: unknown): RespError {
    return toRespError(error, this.deps.log);
  }

  /** Queues reply text; everything sent in one tick goes out in one write. */
  private send(text: string): void {
    if (this.closed) return;
    this.out.push(text);
    if (this.flushing) return;
    this.flushing = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    if (this.closed || this.out.length === 0) return;
    const text = this.out.length === 1 ? this.out[0]! : this.out.join("");
    this.out = [];
    if (!this.socket.write(text)) {
      this.writeBlocked = true;
      this.updateReading();
    }
  }

  /** Writes what is left and ends the socket (after QUIT, a protocol error or on server close). */
  private finish(): void {
    if (this.closed) return;
    if (this.fatal !== undefined) this.out.push(encode(new RespError(this.fatal)));
    this.flush();
    this.closed = true;
    this.abort.abort();
    this.socket.end();
  }
}
