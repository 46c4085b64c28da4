// Windowed streams in the SDK (seed 002): `stream(name, namespace)` builds a definition, `consumer(stream, group)`
// processes its windows.
import { WindowHttp, type WindowClientBase } from "./http.js";
import { StreamBuilder } from "./stream-builder.js";
import { StreamConsumer } from "./stream-consumer.js";

export { StreamBuilder, type DefineResult, type StreamDefinition, type WindowKind } from "./stream-builder.js";
export {
  StreamConsumer,
  DEFAULT_PROCESS_OPTIONS,
  type ProcessOptions,
  type WindowHandler,
} from "./stream-consumer.js";
export { Window, valueAt, type WindowMessage, type WindowData, type AggregateSpec, type AggregateResult, type AggregateOf } from "./window.js";
export type { WindowClientBase } from "./http.js";

export interface WindowClient {
  /** A builder for windowed stream `name` over source queues in `namespace` (default `default`). */
  stream(name: string, namespace?: string): StreamBuilder;
  /** A member of consumer group `group` on windowed stream `streamName`. */
  consumer(streamName: string, group: string): StreamConsumer;
  /** The definition of windowed stream `name`, its counts, watermarks and groups (`GET /api/v1/stream/{name}`). */
  info(name: string): Promise<WindowStreamInfo>;
}

/**
 * What a windowed stream's info holds.
 *
 * @example
 * ```ts
 * const info: WindowStreamInfo = await client.windowStreamInfo("chat-per-minute");
 * console.log(info.ingested, info.late, info.watermarks);
 * ```
 */
export interface WindowStreamInfo {
  /** The definition, in the names `POST /api/v1/stream/define` takes. */
  stream: Record<string, unknown> & { name: string; namespace: string };
  ingested: number;
  late: number;
  lateStream: string;
  /** The greatest event time seen per key (ISO 8601). */
  watermarks: Record<string, string>;
  consumerGroups: unknown[];
}

/**
 * The window methods over a server address; the SDK's client mixes them in.
 *
 * @example
 * const windows = attachWindowClient({ url: "http://localhost:8080" });
 * await windows.stream("totals").sources(["orders"]).tumblingTime(60).define();
 * windows.consumer("totals", "reporting").process(async (w) => console.log(w.key, w.allMessages.length));
 */
export function attachWindowClient(base: WindowClientBase): WindowClient {
  const http = new WindowHttp(base);
  return {
    stream: (name, namespace) => new StreamBuilder(http, name, namespace),
    consumer: (streamName, group) => new StreamConsumer(http, streamName, group),
    info: (name) => http.call<WindowStreamInfo>("GET", `/api/v1/stream/${encodeURIComponent(name)}`),
  };
}
