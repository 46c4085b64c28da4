// One reader per stream follows its end and fans new entries out to every broadcast subscriber on this node.
import { compareIds, type StreamId } from "../../core/ids.js";
import type { Entry } from "../../core/types.js";
import type { StreamsService } from "../streams.js";

export interface TailSubscriber {
  /** The id of the last entry this subscriber has been given. */
  cursor: StreamId;
  /** Receives entries after `cursor`, oldest first. */
  deliver(entries: Entry[]): void;
}

const TAIL_BATCH = 1000;
const BLOCK_MS = 30_000;

class StreamTail {
  readonly subscribers = new Set<TailSubscriber>();
  private readonly stop = new AbortController();

  constructor(
    private readonly streams: StreamsService,
    private readonly namespace: string,
    private readonly name: string,
    /** The id the tail has read up to. */
    public last: StreamId,
    private readonly onIdle: () => void,
  ) {
    void this.run();
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      let entries: Entry[];
      try {
        entries = await this.streams.read(this.namespace, this.name, {
          after: `${this.last.ms}-${this.last.seq}`,
          count: TAIL_BATCH,
          block: BLOCK_MS,
          signal: this.stop.signal,
        });
      } catch {
        // The store is closing or briefly unreachable; try again shortly rather than spin.
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      // Empty means the wait timed out or the engine is closing (then reads return at once): never spin.
      if (entries.length === 0) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      this.last = entries[entries.length - 1]!.id;
      for (const sub of this.subscribers) {
        const fresh = entries.filter((e) => compareIds(e.id, sub.cursor) > 0);
        if (fresh.length > 0) {
          sub.cursor = fresh[fresh.length - 1]!.id;
          sub.deliver(fresh);
        }
      }
    }
  }

  remove(sub: TailSubscriber): void {
    this.subscribers.delete(sub);
    if (this.subscribers.size === 0) {
      this.stop.abort();
      this.onIdle();
    }
  }

  close(): void {
    this.stop.abort();
  }
}

/**
 * Broadcast subscriptions share one tail per stream. A subscriber that starts behind the tail catches up
 * from the log first and joins the tail once it has reached it, so it sees every entry exactly once.
 */
export class TailRegistry {
  private readonly tails = new Map<string, StreamTail>();

  constructor(private readonly streams: StreamsService) {}

  /**
   * Sends `sub` every entry after its cursor, from the log and then live. Answers the function that ends
   * the subscription. `active()` lets a catch-up stop early when the subscriber went away.
   */
  async attach(namespace: string, name: string, sub: TailSubscriber, active: () => boolean): Promise<() => void> {
    const key = `${namespace}/${name}`;
    for (;;) {
      const tail = this.tails.get(key);
      // With no tail, or a tail no further than us, join now: nothing can fall between.
      if (!tail || compareIds(tail.last, sub.cursor) <= 0) {
        const joined = tail ?? this.open(key, namespace, name, sub.cursor);
        joined.subscribers.add(sub);
        return () => joined.remove(sub);
      }
      const backlog = await this.streams.range(
        namespace,
        name,
        { id: sub.cursor, exclusive: true },
        { id: tail.last, exclusive: false },
        TAIL_BATCH,
      ).catch(() => [] as Entry[]);
      if (!active()) return () => undefined;
      if (backlog.length > 0) {
        sub.cursor = backlog[backlog.length - 1]!.id;
        sub.deliver(backlog);
      } else {
        // Entries up to the tail were trimmed or deleted: skip to where the tail is.
        sub.cursor = tail.last;
      }
    }
  }

  private open(key: string, namespace: string, name: string, from: StreamId): StreamTail {
    const tail = new StreamTail(this.streams, namespace, name, from, () => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    this.tails.set(key, tail);
    return tail;
  }

  close(): void {
    for (const tail of this.tails.values()) tail.close();
    this.tails.clear();
  }
}
