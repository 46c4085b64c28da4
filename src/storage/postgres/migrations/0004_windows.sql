-- Windowed streams (seed 002): definitions over source streams, per-source ingest cursors, watermarks per key,
-- the event-time index of ingested entries, and per-group progress with the window lease.
CREATE TABLE window_streams (
  id BIGSERIAL PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL UNIQUE,
  sources TEXT NOT NULL,
  partitioned BIGINT NOT NULL,
  window_type TEXT NOT NULL,
  duration_ms BIGINT NOT NULL,
  hop_ms BIGINT NOT NULL,
  gap_ms BIGINT NOT NULL,
  grace_ms BIGINT NOT NULL,
  lease_ms BIGINT NOT NULL,
  event_time_field TEXT,
  ingested BIGINT NOT NULL DEFAULT 0,
  late BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

CREATE TABLE window_sources (
  window_stream_id BIGINT NOT NULL,
  source_name TEXT NOT NULL,
  source_id BIGINT NOT NULL,
  last_ms BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  PRIMARY KEY (window_stream_id, source_name)
);

CREATE TABLE window_watermarks (
  window_stream_id BIGINT NOT NULL,
  window_key TEXT NOT NULL,
  watermark BIGINT NOT NULL,
  PRIMARY KEY (window_stream_id, window_key)
);

CREATE TABLE window_items (
  window_stream_id BIGINT NOT NULL,
  window_key TEXT NOT NULL,
  event_time BIGINT NOT NULL,
  source_id BIGINT NOT NULL,
  ms BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (window_stream_id, window_key, event_time, source_id, ms, seq)
);

CREATE TABLE window_progress (
  window_stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  window_key TEXT NOT NULL,
  next_start BIGINT NOT NULL,
  lease_id TEXT,
  lease_start BIGINT,
  lease_end BIGINT,
  lease_expires_at BIGINT,
  deliveries BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (window_stream_id, group_name, window_key)
);
CREATE INDEX window_progress_by_lease ON window_progress (lease_id);

CREATE TABLE window_groups (
  window_stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  from_start BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (window_stream_id, group_name)
);
