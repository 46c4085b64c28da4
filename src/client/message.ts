// A message handed out by `consume` and `worker`: a group entry that knows how to ack or nack itself.
import type { GroupEntry, Priority } from "./entry.js";
import type { GroupsApi } from "./groups.js";

/**
 * An entry delivered to a consumer of a group, with `ack()` and `nack()`.
 *
 * @example
 * ```ts
 * for await (const message of client.consume<{ orderId: number }>("orders", "billing", "w1")) {
 *   try {
 *     await bill(message.payload.orderId);
 *     await message.ack();
 *   } catch {
 *     await message.nack(5000); // try again in 5 s
 *   }
 * }
 * ```
 */
export interface Message<T = unknown> extends GroupEntry<T> {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  /** True once `ack()` or `nack()` was called. */
  readonly settled: boolean;
  /** Acknowledges the entry; resolves true when it was still pending. */
  ack(): Promise<boolean>;
  /** Gives the entry back to the group for redelivery after `delayMs` (default 0); resolves true when it was pending. */
  nack(delayMs?: number): Promise<boolean>;
}

/** The Message implementation: the entry's fields plus its place (stream, group, consumer). */
export class GroupMessage<T> implements Message<T> {
  readonly id: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly type: string | null;
  readonly headers: Record<string, string>;
  readonly payload: T;
  readonly priority: Priority;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly messageId: string | null;
  readonly timestamp: number;
  readonly deliverAt: number | null;
  readonly deliveryCount: number;
  private settledBy: "ack" | "nack" | undefined;

  constructor(
    entry: GroupEntry<T>,
    readonly stream: string,
    readonly group: string,
    readonly consumer: string,
    private readonly groups: GroupsApi,
    /** Told just before a nack goes out: from then on a read may rightly hand the entry out again. */
    private readonly givingBack?: () => void,
  ) {
    this.id = entry.id;
    this.partition = entry.partition;
    this.offset = entry.offset;
    this.key = entry.key;
    this.type = entry.type;
    this.headers = entry.headers;
    this.payload = entry.payload;
    this.priority = entry.priority;
    this.correlationId = entry.correlationId;
    this.causationId = entry.causationId;
    this.messageId = entry.messageId;
    this.timestamp = entry.timestamp;
    this.deliverAt = entry.deliverAt;
    this.deliveryCount = entry.deliveryCount;
  }

  get settled(): boolean {
    return this.settledBy !== undefined;
  }

  async ack(): Promise<boolean> {
    this.settledBy = "ack";
    return (await this.groups.ack(this.stream, this.group, [this.id])) > 0;
  }

  async nack(delayMs = 0): Promise<boolean> {
    this.settledBy = "nack";
    this.givingBack?.();
    return (await this.groups.nack(this.stream, this.group, [this.id], { delayMs, consumer: this.consumer })) > 0;
  }

  /** Marks the message settled by someone else (a batched ack). */
  markAcked(): void {
    this.settledBy ??= "ack";
  }
}
