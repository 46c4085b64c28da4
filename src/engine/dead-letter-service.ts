// Listing dead letters and sending them back to the stream they came from.
import { compareIds, MAX_ID, type StreamId } from "../core/ids.js";
import type { Entry } from "../core/types.js";
import { appendInTx, deleteIds, requireStream } from "./append.js";
import type { EngineContext } from "./context.js";
import { copyOf, DEAD_HEADERS, deadLetterStreamOf, originalHeaders } from "./dead-letters.js";
import { MAX_COUNT } from "./streams.js";

export interface ReprocessResult {
  /** Dead-letter id → the id of the entry appended again to the source stream. */
  reprocessed: { deadLetterId: StreamId; newId: StreamId; stream: string }[];
}

export class DeadLettersService {
  constructor(private readonly ctx: EngineContext) {}

  /** The name of a stream's dead-letter stream. */
  async streamOf(namespace: string, streamName: string): Promise<string> {
    const stream = await this.ctx.store.read((tx) => requireStream(tx, namespace, streamName));
    return deadLetterStreamOf(stream);
  }

  async list(namespace: string, streamName: string, start: StreamId, count: number): Promise<Entry[]> {
    const dlq = await this.streamOf(namespace, streamName);
    return this.ctx.store.read(async (tx) => {
      const stream = await tx.streams.get(namespace, dlq);
      return stream ? tx.entries.range(stream.id, start, MAX_ID, Math.min(count, MAX_COUNT)) : [];
    });
  }

  /**
   * Appends dead letters again to the stream they came from (as new entries, original headers restored) and
   * removes them from the dead-letter stream. Without `ids`, up to `count` of the oldest are taken.
   */
  async reprocess(namespace: string, streamName: string, ids: readonly StreamId[] | undefined, count = 100): Promise<ReprocessResult> {
    const dlq = await this.streamOf(namespace, streamName);
    const targets = new Set<string>();
    const result = await this.ctx.store.write(async (tx) => {
      const now = this.ctx.clock.now();
      const stream = await tx.streams.get(namespace, dlq, true);
      if (!stream) return { reprocessed: [] };
      const letters: Entry[] = [];
      if (ids) {
        for (const id of ids) {
          const e = await tx.entries.get(stream.id, id);
          if (e) letters.push(e);
        }
        letters.sort((a, b) => compareIds(a.id, b.id));
      } else {
        letters.push(...(await tx.entries.range(stream.id, { ms: 0, seq: 0 }, MAX_ID, Math.min(count, MAX_COUNT))));
      }
      const reprocessed: ReprocessResult["reprocessed"] = [];
      for (const letter of letters) {
        const source = (JSON.parse(letter.headers) as Record<string, string>)[DEAD_HEADERS.stream] ?? streamName;
        const { results } = await appendInTx(tx, namespace, source, [copyOf(letter, originalHeaders(letter))], now);
        reprocessed.push({ deadLetterId: letter.id, newId: results[0]!.id, stream: source });
        targets.add(source);
      }
      await deleteIds(tx, stream, letters.map((l) => l.id));
      return { reprocessed };
    });
    for (const t of targets) this.ctx.changed(namespace, t);
    return result;
  }
}

