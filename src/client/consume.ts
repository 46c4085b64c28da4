// `client.consume(...)`: a group read as an async iterator of messages that ack and nack themselves.
import { BadRequestError, NotFoundError, UnavailableError } from "../core/errors.js";
import { Backoff, sleep } from "./backoff.js";
import { GroupReader, resolveGroupReadingOptions, type GroupReadingOptions } from "./group-reader.js";
import type { GroupsApi } from "./groups.js";
import { GroupMessage, type Message } from "./message.js";

/**
 * How `client.consume` reads.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const options: ConsumeOptions = { count: 50, blockMs: 5000, autoAck: true, autoClaimIdleMs: 60_000, signal: controller.signal };
 * ```
 */
export interface ConsumeOptions extends GroupReadingOptions {
  /** Entries fetched per request (default 10). */
  count?: number;
  /**
   * Acknowledge each message once the loop asks for the next one (acks are sent together, before the next
   * read). A message whose loop body leaves the loop (`break`, `throw`) is not acknowledged. When the acks fail
   * (told to `onError`), their messages come again from the next read.
   */
  autoAck?: boolean;
  /**
   * Ends the iteration: a waiting request is cancelled, no further message is handed out, and the loop finishes
   * without an error (the messages fetched but not handed out are given back).
   */
  signal?: AbortSignal;
  /**
   * Told about problems the iterator rides out: an unreachable server (it retries with backoff), a deleted group
   * or stream (it creates them again), a failed auto-ack.
   */
  onError?: (error: unknown) => void;
}

/**
 * What `consume` uses for the options not given (and `DEFAULT_GROUP_READING` for the reading ones).
 *
 * @example
 * ```ts
 * const bigger = client.consume("orders", "billing", "w1", { count: DEFAULT_CONSUME_OPTIONS.count * 10 });
 * ```
 */
export const DEFAULT_CONSUME_OPTIONS = Object.freeze({ count: 10, autoAck: false });

export function resolveConsumeOptions(options: ConsumeOptions = {}): { count: number; autoAck: boolean } {
  const count = options.count ?? DEFAULT_CONSUME_OPTIONS.count;
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new BadRequestError("count must be an integer from 1 to 10000", { field: "count" });
  }
  return { count, autoAck: options.autoAck ?? DEFAULT_CONSUME_OPTIONS.autoAck };
}

/**
 * Reads a group as one consumer, as an async iterator. It first re-reads the consumer's own pending
 * entries (left by an earlier run under the same name), then new ones; with `autoClaimIdleMs` it also takes
 * over entries other consumers left pending that long. When the loop ends early, the entries fetched but
 * not yet handed out are given back to the group. A group or stream deleted while it runs is created again
 * (at `startId`) and the loop carries on; with `createGroup: false` it ends with the `NotFoundError`.
 *
 * @example
 * ```ts
 * for await (const message of consume<{ orderId: number }>(client.groups, "orders", "billing", "w1", { startId: "0" })) {
 *   await bill(message.payload.orderId);
 *   await message.ack();
 * }
 * ```
 */
export function consume<T = unknown>(
  groups: GroupsApi,
  stream: string,
  group: string,
  consumer: string,
  options: ConsumeOptions = {},
): AsyncIterableIterator<Message<T>> {
  const { count, autoAck } = resolveConsumeOptions(options);
  const reader = new GroupReader<T>(groups, stream, group, consumer, resolveGroupReadingOptions(options));
  const { signal, onError } = options;
  const backoff = new Backoff({ maxDelayMs: 5000 });
  const toAck: GroupMessage<T>[] = [];

  async function flushAcks(): Promise<void> {
    const batch = toAck.splice(0).filter((m) => !m.settled);
    if (batch.length === 0) return;
    try {
      await groups.ack(stream, group, batch.map((m) => m.id));
      for (const m of batch) m.markAcked();
    } catch (error) {
      // Still pending here, where only a re-read of this consumer's own entries finds them: hand them out again.
      onError?.(error);
      reader.recoverOwn();
    }
  }

  async function* iterate(): AsyncGenerator<Message<T>> {
    let unhanded: GroupMessage<T>[] = [];
    try {
      while (!signal?.aborted) {
        await flushAcks();
        let entries;
        try {
          entries = await reader.next(count, signal);
          backoff.reset();
        } catch (error) {
          if (signal?.aborted) return;
          const lost = error instanceof NotFoundError && (error.field === "group" || error.field === "stream");
          // A deleted group is created again by the next read, unless this reader may not create it.
          const recoverable = lost ? reader.groupLost() : error instanceof UnavailableError;
          if (!recoverable) throw error;
          onError?.(error);
          await sleep(backoff.next(), signal);
          continue;
        }
        unhanded = entries.map((e) => new GroupMessage(e, stream, group, consumer, groups));
        while (unhanded.length > 0 && !signal?.aborted) {
          const message = unhanded.shift()!;
          yield message;
          if (autoAck && !message.settled) toAck.push(message);
        }
      }
    } finally {
      await flushAcks();
      const left = unhanded.filter((m) => !m.settled).map((m) => m.id);
      if (left.length > 0) await groups.nack(stream, group, left, { consumer }).catch((error: unknown) => onError?.(error));
    }
  }

  return iterate();
}
