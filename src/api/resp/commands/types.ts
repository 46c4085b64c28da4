// What a RESP command is: a name, Redis's arity, and a handler over the engine.
import type { Engine } from "../../../engine/index.js";
import type { Reply } from "../protocol.js";

/** The connection a command runs on, as commands see it. */
export interface Session {
  readonly id: number;
  name: string | null;
  /** Aborted when the client goes away or the server closes, so a blocked read stops waiting. */
  readonly signal: AbortSignal;
  /** Closes the connection once the replies before and including this one are written (QUIT). */
  closeAfterReply(): void;
}

export interface CommandContext {
  readonly engine: Engine;
  /** Every key is a stream of this namespace. */
  readonly namespace: string;
  readonly session: Session;
  readonly server: ServerFacts;
}

/** What INFO and HELLO tell about the server. */
export interface ServerFacts {
  readonly version: string;
  readonly port: () => number;
  /** Largest payload an XADD may make, in bytes of JSON. */
  readonly maxPayloadBytes: number;
  readonly startedAt: number;
  /** The names of every command served, for COMMAND COUNT and COMMAND LIST. */
  readonly commandNames: () => string[];
}

export interface Command {
  /** Lower-case, as Redis's error texts name it. */
  readonly name: string;
  /** Redis's arity, counting the command name: n means exactly n arguments, -n at least n. */
  readonly arity: number;
  run(ctx: CommandContext, args: string[]): Reply | Promise<Reply>;
  /**
   * Consecutive calls on one connection with the same batch key may run as one engine call, answered one reply
   * each in order (pipelined XADDs to one stream become one append).
   */
  readonly batch?: {
    key(args: readonly string[]): string | undefined;
    /** One outcome per call, in the order of `calls`. */
    run(ctx: CommandContext, calls: readonly string[][]): Promise<PromiseSettledResult<Reply>[]>;
  };
}
