// Acks that share requests: one request on its way at a time, and the acks made meanwhile go out together in the next.

/** Most ids one ack request carries. */
const MAX_BATCH = 1000;

interface Waiting {
  id: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Sends acks for one group. The first ack goes at once; acks made while a request is under way wait for it
 * and then share the next one (at most 1,000 ids each), so a worker whose handlers finish at about the
 * same time sends a few requests instead of one per message. Each `ack` resolves when its request succeeded
 * and rejects with that request's error.
 *
 * @example
 * ```ts
 * const acks = new AckBatcher((ids) => client.groups.ack("orders", "billing", ids));
 * await Promise.all(["1700000000000-0", "1700000000000-1"].map((id) => acks.ack(id)));
 * ```
 */
export class AckBatcher {
  private queue: Waiting[] = [];
  private sending: Promise<void> | undefined;

  constructor(private readonly send: (ids: string[]) => Promise<unknown>) {}

  ack(id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ id, resolve, reject });
      this.sending ??= this.sendQueued();
    });
  }

  private async sendQueued(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.send(batch.map((w) => w.id));
          for (const w of batch) w.resolve();
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.sending = undefined;
    }
  }
}
