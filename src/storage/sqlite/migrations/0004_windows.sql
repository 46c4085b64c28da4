-- Windowed streams (seed 002): definitions over source streams, per-source ingest cursors, watermarks per key,
-- the event-time index of ingested entries, and per-group progress with the window lease.
CREATE TABLE window_streams (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL UNIQUE,
  sources TEXT NOT NULL,
  partitioned INTEGER NOT NULL,
  window_type TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  hop_ms INTEGER NOT NULL,
  gap_ms INTEGER NOT NULL,
  grace_ms INTEGER NOT NULL,
  lease_ms INTEGER NOT NULL,
  event_time_field TEXT,
  ingested INTEGER NOT NULL DEFAULT 0,
  late INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE window_sources (
  window_stream_id INTEGER NOT NULL,
  source_name TEXT NOT NULL,
  source_id INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY (window_stream_id, source_name)
) WITHOUT ROWID;

CREATE TABLE window_watermarks (
  window_stream_id INTEGER NOT NULL,
  window_key TEXT NOT NULL,
  watermark INTEGER NOT NULL,
  PRIMARY KEY (window_stream_id, window_key)
) WITHOUT ROWID;

CREATE TABLE window_items (
  window_stream_id INTEGER NOT NULL,
  window_key TEXT NOT NULL,
  event_time INTEGER NOT NULL,
  source_id INTEGER NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (window_stream_id, window_key, event_time, source_id, ms, seq)
) WITHOUT ROWID;

CREATE TABLE window_progress (
  window_stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  window_key TEXT NOT NULL,
  next_start INTEGER NOT NULL,
  lease_id TEXT,
  lease_start INTEGER,
  lease_end INTEGER,
  lease_expires_at INTEGER,
  deliveries INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (window_stream_id, group_name, window_key)
) WITHOUT ROWID;
CREATE INDEX window_progress_by_lease ON window_progress (lease_id);

CREATE TABLE window_groups (
  window_stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  from_start INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (window_stream_id, group_name)
) WITHOUT ROWID;
