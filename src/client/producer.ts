// A producer that batches publishes to one stream into few HTTP requests and answers each caller its own id.
import { BadRequestError, ConflictError, RunnelError } from "../core/errors.js";
import { batchText, entryText, type AppendOptions, type AppendResult } from "./entry.js";
import { errorOf } from "./errors.js";
import { path, type HttpTransport } from "./http.js";

/**
 * How a producer batches.
 *
 * @example
 * ```ts
 * const options: ProducerOptions = { lingerMs: 10, maxBatch: 500, maxBatchBytes: 256 * 1024 };
 * const producer = client.producer("clicks", options);
 * ```
 */
export interface ProducerOptions {
  /** How long a publish may wait for others to share its request, in ms (default 5). */
  lingerMs?: number;
  /** Most entries per request; a full batch goes at once (default 100, at most 10000). */
  maxBatch?: number;
  /**
   * Most bytes of JSON per request, kept under the server's body limit (`--max-body`, 1 MiB by default);
   * a full batch goes at once, and an entry larger than this goes alone (default 512 KiB).
   */
  maxBatchBytes?: number;
}

/**
 * What a producer uses for the options not given.
 *
 * @example
 * ```ts
 * const producer = client.producer("clicks", { ...DEFAULT_PRODUCER_OPTIONS, lingerMs: 20 });
 * ```
 */
export const DEFAULT_PRODUCER_OPTIONS: Required<ProducerOptions> = Object.freeze({
  lingerMs: 5,
  maxBatch: 100,
  maxBatchBytes: 512 * 1024,
});

export function resolveProducerOptions(options: ProducerOptions = {}): Required<ProducerOptions> {
  const o = { ...DEFAULT_PRODUCER_OPTIONS, ...stripUndefined(options) };
  if (!Number.isFinite(o.lingerMs) || o.lingerMs < 0) throw new BadRequestError("lingerMs must be 0 or more", { field: "lingerMs" });
  if (!Number.isInteger(o.maxBatch) || o.maxBatch < 1 || o.maxBatch > 10_000) {
    throw new BadRequestError("maxBatch must be an integer from 1 to 10000", { field: "maxBatch" });
  }
  if (!Number.isInteger(o.maxBatchBytes) || o.maxBatchBytes < 1) {
    throw new BadRequestError("maxBatchBytes must be an integer of 1 or more", { field: "maxBatchBytes" });
  }
  return o;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The length of `text` in UTF-8, which is what the server's body limit counts, without encoding it. */
function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Two or three bytes below U+0800 or above; a surrogate pair is four bytes for two code units.
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

interface Queued {
  /** The entry as JSON text, serialised once when it is published. */
  text: string;
  /** Its size in a batch: the text in UTF-8 and the comma after it. */
  bytes: number;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

/** `entries/3/payload` → 3: the entry of a batch the server blamed. */
const BLAMED = /^entries\/(\d+)(?:\/(.*))?$/;

/**
 * Publishes to one stream, batching: publishes that arrive within `lingerMs` of each other (or while a
 * request is under way) share one `POST /stream/:stream/entries`, at most `maxBatch` entries and
 * `maxBatchBytes` bytes each. One request is in flight at a time, so ids grow in the order `publish` was
 * called. A batch is atomic on the server; when it fails because of one entry, only that entry's caller gets
 * the error and the rest are sent again. A batch the server finds too large is split and sent in halves, so
 * only an entry too large on its own fails.
 *
 * @example
 * ```ts
 * const producer = client.producer("clicks", { lingerMs: 5, maxBatch: 100, maxBatchBytes: 512 * 1024 });
 * const ids = await Promise.all(pages.map((page) => producer.publish({ page }, { type: "click" })));
 * await producer.close();
 * ```
 */
export class Producer {
  private readonly options: Required<ProducerOptions>;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private readonly outstanding = new Set<Promise<unknown>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The queue waited long enough (or filled up): send it as soon as nothing is in flight. */
  private due = false;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private sent = 0;

  /** @internal */
  constructor(
    private readonly http: HttpTransport,
    readonly stream: string,
    options: ProducerOptions = {},
  ) {
    this.options = resolveProducerOptions(options);
  }

  /**
   * Queues one entry; resolves with its id once the batch it went in is stored.
   *
   * @example
   * ```ts
   * const { id } = await producer.publish({ orderId: 42 }, { type: "OrderCreated", key: "customer-7" });
   * ```
   */
  publish(payload: unknown, options: AppendOptions = {}): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new ConflictError(`the producer for '${this.stream}' is closed`, { field: "producer" }));
    const text = entryText(payload, options);
    const bytes = utf8Bytes(text) + 1;
    const result = new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ text, bytes, resolve, reject });
    });
    this.queuedBytes += bytes;
    const tracked = result.then(
      () => undefined,
      () => undefined,
    );
    this.outstanding.add(tracked);
    void tracked.then(() => this.outstanding.delete(tracked));
    if (this.queue.length >= this.options.maxBatch || this.queuedBytes >= this.options.maxBatchBytes) this.due = true;
    else this.timer ??= setTimeout(() => this.lingerOver(), this.options.lingerMs);
    this.pump();
    return result;
  }

  /**
   * Sends whatever is queued now, without waiting for `lingerMs`; resolves once every publish made so far
   * has its answer (errors go to the publish calls, not here).
   *
   * @example
   * ```ts
   * void producer.publish({ n: 1 });
   * await producer.flush();
   * ```
   */
  async flush(): Promise<void> {
    // Only for what is queued now: a `due` left over would send the next publish at once, without lingering.
    if (this.queue.length > 0) this.due = true;
    this.pump();
    await Promise.all([...this.outstanding]);
  }

  /**
   * Flushes, then refuses further publishes (they reject with a `ConflictError`).
   *
   * @example
   * ```ts
   * process.on("SIGTERM", () => void producer.close());
   * ```
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /**
   * How many HTTP requests the producer has made so far.
   *
   * @example
   * ```ts
   * console.log(`${published} entries in ${producer.requests} requests`);
   * ```
   */
  get requests(): number {
    return this.sent;
  }

  private lingerOver(): void {
    this.timer = undefined;
    this.due = true;
    this.pump();
  }

  private pump(): void {
    if (this.inFlight || !this.due || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.batchLength());
    for (const q of batch) this.queuedBytes -= q.bytes;
    // What stays behind has waited for this batch already: it goes right after.
    if (this.queue.length === 0) {
      this.due = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.inFlight = this.send(batch).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  /** How many queued entries the next batch takes: at least one, however large. */
  private batchLength(): number {
    const { maxBatch, maxBatchBytes } = this.options;
    const most = Math.min(maxBatch, this.queue.length);
    let bytes = this.queue[0]!.bytes;
    let n = 1;
    for (; n < most; n++) {
      bytes += this.queue[n]!.bytes;
      if (bytes > maxBatchBytes) break;
    }
    return n;
  }

  private async send(batch: Queued[]): Promise<void> {
    let results: AppendResult[];
    try {
      this.sent++;
      const reply = await this.http.request<{ results: AppendResult[] }>("POST", path`/stream/${this.stream}/entries`, {
        json: batchText(batch.map((q) => q.text)),
      });
      results = reply.results;
    } catch (error) {
      if (error instanceof RunnelError && error.code === "RUNNEL_PAYLOAD_TOO_LARGE" && batch.length > 1) {
        // The server's body limit is below maxBatchBytes: halve until each part fits, or one entry alone fails.
        const half = Math.ceil(batch.length / 2);
        await this.send(batch.slice(0, half));
        await this.send(batch.slice(half));
        return;
      }
      const blamed = error instanceof RunnelError ? BLAMED.exec(error.field ?? "") : null;
      const index = blamed ? Number(blamed[1]) : -1;
      if (error instanceof RunnelError && index >= 0 && index < batch.length && error.code !== "RUNNEL_INTERNAL") {
        // The batch was rejected whole for one entry: fail that one alone and send the others again.
        const field = blamed![2] ?? "payload";
        batch[index]!.reject(errorOf(error.code, error.message, { ...error.details, field, cause: error }));
        const rest = batch.filter((_, i) => i !== index);
        if (rest.length > 0) await this.send(rest);
        return;
      }
      for (const q of batch) q.reject(error);
      return;
    }
    batch.forEach((q, i) => q.resolve(results[i]!));
  }
}
