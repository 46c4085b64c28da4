// `client.worker(...)`: runs a handler over a group's entries with a concurrency limit, acking, nacking and auto-claiming.
import { BadRequestError, NotFoundError } from "../core/errors.js";
import { AckBatcher } from "./ack-batcher.js";
import { Backoff, sleep } from "./backoff.js";
import { GroupReader, resolveGroupReadingOptions, type GroupReadingOptions } from "./group-reader.js";
import type { GroupsApi } from "./groups.js";
import { GroupMessage, type Message } from "./message.js";

/**
 * Processes one message. Resolving acknowledges it, throwing gives it back for redelivery (unless the
 * handler already called `ack()` or `nack()` itself).
 *
 * @example
 * ```ts
 * const handler: MessageHandler<{ orderId: number }> = async (message) => {
 *   await bill(message.payload.orderId);
 * };
 * ```
 */
export type MessageHandler<T> = (message: Message<T>) => unknown;

/**
 * How a worker runs.
 *
 * @example
 * ```ts
 * const options: WorkerOptions = { concurrency: 8, prefetch: 100, autoClaimIdleMs: 60_000, nackDelayMs: 1000, onError: console.error };
 * ```
 */
export interface WorkerOptions extends GroupReadingOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /**
   * Entries read ahead and held until a handler is free (default 0: read only for free handlers). A read
   * happens once half of them are taken, so quick handlers are not left waiting for the server; more of them
   * means fewer, larger reads. Held entries are already delivered to this consumer: their pending time, which
   * other consumers' auto-claim measures, runs while they wait, and those `stop()` gives back count that
   * delivery (mind a stream's maxDeliveries).
   */
  prefetch?: number;
  /** How long a failed message waits before it is delivered again, in ms (default 0). */
  nackDelayMs?: number;
  /** On `stop()`, remove the consumer from the group so anything it still holds goes back at once (default true). */
  leaveOnStop?: boolean;
  /**
   * Told about a handler that threw (with its message) and about read, ack and nack failures. The worker carries
   * on: an entry whose ack or nack failed stays pending, its next read brings it back and a handler runs again.
   */
  onError?: (error: unknown, message?: Message<unknown>) => void;
}

/**
 * What a worker uses for the options not given (and `DEFAULT_GROUP_READING` for the reading ones).
 *
 * @example
 * ```ts
 * const worker = client.worker("orders", "billing", "w1", handler, { concurrency: DEFAULT_WORKER_OPTIONS.concurrency * 4 });
 * ```
 */
export const DEFAULT_WORKER_OPTIONS = Object.freeze({ concurrency: 1, prefetch: 0, nackDelayMs: 0, leaveOnStop: true });

interface ResolvedWorkerOptions {
  concurrency: number;
  prefetch: number;
  nackDelayMs: number;
  leaveOnStop: boolean;
}

export function resolveWorkerOptions(options: WorkerOptions = {}): ResolvedWorkerOptions {
  const concurrency = options.concurrency ?? DEFAULT_WORKER_OPTIONS.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 10_000) {
    throw new BadRequestError("concurrency must be an integer from 1 to 10000", { field: "concurrency" });
  }
  const prefetch = options.prefetch ?? DEFAULT_WORKER_OPTIONS.prefetch;
  if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > 10_000) {
    throw new BadRequestError("prefetch must be an integer from 0 to 10000", { field: "prefetch" });
  }
  const nackDelayMs = options.nackDelayMs ?? DEFAULT_WORKER_OPTIONS.nackDelayMs;
  if (!Number.isInteger(nackDelayMs) || nackDelayMs < 0) {
    throw new BadRequestError("nackDelayMs must be an integer of at least 0", { field: "nackDelayMs" });
  }
  return { concurrency, prefetch, nackDelayMs, leaveOnStop: options.leaveOnStop ?? DEFAULT_WORKER_OPTIONS.leaveOnStop };
}

/**
 * A running worker; `client.worker(...)` starts one.
 *
 * @example
 * ```ts
 * const worker = client.worker<{ orderId: number }>("orders", "billing", "w1", async (m) => bill(m.payload.orderId), {
 *   concurrency: 4,
 *   autoClaimIdleMs: 30_000,
 * });
 * process.on("SIGTERM", () => void worker.stop());
 * ```
 */
export class Worker<T = unknown> {
  private readonly reader: GroupReader<T>;
  private readonly concurrency: number;
  private readonly prefetch: number;
  private readonly nackDelayMs: number;
  private readonly leaveOnStop: boolean;
  private readonly stopper = new AbortController();
  /** The acks of handlers that resolved: those finishing while one is on its way share the next request. */
  private readonly acks: AckBatcher;
  /** Messages being handled (or nacked after a failure); their number is what `concurrency` limits. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Messages read ahead, oldest first, waiting for a free handler; their number is what `prefetch` limits. */
  private readonly held: GroupMessage<T>[] = [];
  /** Acks sent in the background, answered or not yet. */
  private readonly acking = new Set<Promise<void>>();
  /** Ids held, or whose handler is running now, or whose ack is not answered yet. */
  private readonly handling = new Map<string, GroupMessage<T>>();
  /** Wakes the read loop once a held message went to a handler (or one finished). */
  private slotFreed: (() => void) | undefined;
  private readonly loop: Promise<void>;
  private stopping: Promise<void> | undefined;
  private counts = { processed: 0, failed: 0 };

  /** @internal */
  constructor(
    private readonly groups: GroupsApi,
    readonly stream: string,
    readonly group: string,
    readonly consumer: string,
    private readonly handler: MessageHandler<T>,
    private readonly options: WorkerOptions = {},
  ) {
    ({ concurrency: this.concurrency, prefetch: this.prefetch, nackDelayMs: this.nackDelayMs, leaveOnStop: this.leaveOnStop } =
      resolveWorkerOptions(options));
    this.reader = new GroupReader<T>(groups, stream, group, consumer, resolveGroupReadingOptions(options));
    this.acks = new AckBatcher((ids) => groups.ack(stream, group, ids));
    this.loop = this.run();
  }

  /**
   * Messages handled successfully so far.
   *
   * @example
   * ```ts
   * console.log(`${worker.processed} done, ${worker.failed} failed, ${worker.running} running`);
   * ```
   */
  get processed(): number {
    return this.counts.processed;
  }

  /**
   * Messages whose handler threw so far.
   *
   * @example
   * ```ts
   * if (worker.failed > 0) console.warn("some messages were retried");
   * ```
   */
  get failed(): number {
    return this.counts.failed;
  }

  /**
   * Handlers running now.
   *
   * @example
   * ```ts
   * console.log(worker.running);
   * ```
   */
  get running(): number {
    return this.inFlight.size;
  }

  /**
   * Stops fetching, gives the messages read ahead back to the group, lets the running handlers finish (and
   * their acks or nacks go out), then resolves. Calling it again answers the same promise.
   *
   * @example
   * ```ts
   * await worker.stop(); // nothing is being processed any more
   * ```
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopper.abort();
      this.slotFreed?.();
      await this.loop;
      await this.giveBack(this.held.splice(0));
      await Promise.all([...this.inFlight]);
      await Promise.all([...this.acking]);
      if (this.leaveOnStop) {
        await this.groups.deleteConsumer(this.stream, this.group, this.consumer).catch((error: unknown) => this.report(error));
      }
    })();
    return this.stopping;
  }

  private report(error: unknown, message?: Message<unknown>): void {
    try {
      this.options.onError?.(error, message);
    } catch {
      // A failing error listener must not stop the worker.
    }
  }

  /**
   * Reads while there is room: a free handler, or (with prefetch) at most half of the read-ahead held. Each
   * read asks for what fills both.
   */
  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    const backoff = new Backoff({ maxDelayMs: 5000 });
    while (!signal.aborted) {
      const room = this.concurrency + this.prefetch - this.inFlight.size - this.held.length;
      if (room < 1 || this.held.length > this.prefetch / 2) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      let entries;
      try {
        entries = await this.reader.next(room, signal);
        backoff.reset();
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof NotFoundError && (error.field === "group" || error.field === "stream")) this.reader.groupLost();
        this.report(error);
        await sleep(backoff.next(), signal);
        continue;
      }
      const fresh: GroupMessage<T>[] = [];
      for (const entry of entries) {
        // An auto-claim or a re-read of its own pending entries can hand this worker an entry it holds or a handler
        // is still on: that one will settle it.
        if (this.handling.has(entry.id)) continue;
        const message: GroupMessage<T> = new GroupMessage(entry, this.stream, this.group, this.consumer, this.groups, () =>
          this.release(message),
        );
        this.handling.set(entry.id, message);
        fresh.push(message);
      }
      if (signal.aborted) await this.giveBack(fresh);
      else {
        this.held.push(...fresh);
        this.startHeld();
      }
    }
  }

  /** Forgets that `message` is this worker's to settle, unless a later delivery of its entry already took its place. */
  private release(message: GroupMessage<T>): void {
    if (this.handling.get(message.id) === message) this.handling.delete(message.id);
  }

  /** Hands held messages to free handlers, oldest first. */
  private startHeld(): void {
    while (this.inFlight.size < this.concurrency && this.held.length > 0) this.dispatch(this.held.shift()!);
  }

  /** Gives messages no handler started back to the group, due at once for any consumer (if this one still holds them). */
  private async giveBack(messages: readonly GroupMessage<T>[]): Promise<void> {
    if (messages.length === 0) return;
    for (const m of messages) this.release(m);
    const ids = messages.map((m) => m.id);
    await this.groups.nack(this.stream, this.group, ids, { consumer: this.consumer }).catch((e: unknown) => this.report(e));
  }

  private dispatch(message: GroupMessage<T>): void {
    const done = (async () => {
      let ok: boolean;
      try {
        await this.handler(message);
        ok = true;
      } catch (error) {
        ok = false;
        this.counts.failed++;
        this.report(error, message as Message<unknown>);
      }
      // Unless the handler acked or nacked it itself.
      if (!message.settled && ok) {
        // The slot is free once the handler is done: the ack goes out with others while the next entries are read.
        message.markAcked();
        this.ackLater(message);
        return;
      }
      // Settled by the handler, or given back below: a read under way may rightly carry it again, even before a
      // nack is answered, and must not pass it over as still being handled. (A nack releases it too, for a
      // handler that nacks and carries on.)
      this.release(message);
      try {
        if (!message.settled) await message.nack(this.nackDelayMs);
        if (ok) this.counts.processed++;
      } catch (error) {
        // Still pending here, where only a re-read of this consumer's own entries finds it again.
        this.report(error, message as Message<unknown>);
        this.reader.recoverOwn();
      }
    })().finally(() => {
      this.inFlight.delete(done);
      if (!this.stopper.signal.aborted) this.startHeld();
      const wake = this.slotFreed;
      this.slotFreed = undefined;
      wake?.();
    });
    this.inFlight.add(done);
  }

  /** Acks a handled message in the background; until the ack is answered, a claim cannot hand it out here again. */
  private ackLater(message: GroupMessage<T>): void {
    const acked = this.acks
      .ack(message.id)
      .then(
        () => void this.counts.processed++,
        (error: unknown) => {
          this.report(error, message as Message<unknown>);
          // Still pending here, where only a re-read of this consumer's own entries finds it (released below).
          this.reader.recoverOwn();
        },
      )
      .finally(() => {
        this.release(message);
        this.acking.delete(acked);
      });
    this.acking.add(acked);
  }
}
