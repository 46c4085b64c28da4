// Seed 003's event publishing over HTTP: POST /api/v1/events appends one event to a stream.
import type { Priority } from "./entry.js";
import type { HttpTransport } from "./http.js";

/**
 * An event in seed 003's words. It becomes an entry of `stream_id` (`events` by default): `event_type` its
 * type, `aggregate_id` its key, `max_retries` its own delivery limit (1 + max_retries deliveries).
 *
 * @example
 * ```ts
 * const alert: BusEvent = { event_type: "system.critical_alert", aggregate_id: "alert_123", payload: { severity: "critical" }, priority: "CRITICAL", max_retries: 5 };
 * ```
 */
export interface BusEvent<T = unknown> {
  event_type: string;
  payload: T;
  source_capability?: string;
  aggregate_id?: string;
  aggregate_type?: string;
  priority?: Priority;
  compression_type?: "NONE";
  serialization_format?: "JSON";
  max_retries?: number;
  stream_id?: string;
  correlation_id?: string;
  causation_id?: string;
  headers?: Record<string, string>;
}

/**
 * What publishing answers: the event's id (the entry id) and where it landed.
 *
 * @example
 * ```ts
 * const { event_id, partition }: PublishedEvent = await client.events.publish(alert);
 * ```
 */
export interface PublishedEvent {
  event_id: string;
  message: string;
  stream_id: string;
  partition: number;
  offset: number;
  priority: Priority;
}

/**
 * Seed 003's event publishing; reach it as `client.events`.
 *
 * @example
 * ```ts
 * await client.events.publish({ event_type: "user.created", aggregate_id: "user-1", payload: { name: "Ada" } });
 * ```
 */
export class EventsApi {
  /** @internal */
  constructor(private readonly http: HttpTransport) {}

  /**
   * Publishes one event; CRITICAL and HIGH events are read before older NORMAL ones.
   *
   * @example
   * ```ts
   * const { event_id } = await client.events.publish({ event_type: "order.paid", payload: { orderId: 7 }, priority: "HIGH" });
   * ```
   */
  publish<T>(event: BusEvent<T>): Promise<PublishedEvent> {
    return this.http.request("POST", "/api/v1/events", { body: event });
  }
}
