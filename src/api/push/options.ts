// Limits shared by the WebSocket and SSE push transports.

export interface PushOptions {
  /** How often idle connections get a heartbeat (and WebSocket a ping), in ms. */
  heartbeatMs: number;
  /** Bytes a connection may have queued unsent before it counts as slow. */
  maxBuffered: number;
}

export const DEFAULT_PUSH_OPTIONS: PushOptions = { heartbeatMs: 30_000, maxBuffered: 1024 * 1024 };
