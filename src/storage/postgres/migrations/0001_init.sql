-- Streams, entries, idempotency keys, consumer groups with cursors, deferred entries and pending entries.
CREATE TABLE streams (
  id BIGSERIAL PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  partitions BIGINT NOT NULL,
  max_len BIGINT,
  max_age_ms BIGINT,
  max_deliveries BIGINT,
  dead_letter_stream TEXT,
  dedupe_window_ms BIGINT NOT NULL,
  last_ms BIGINT NOT NULL DEFAULT 0,
  last_seq BIGINT NOT NULL DEFAULT 0,
  entries_added BIGINT NOT NULL DEFAULT 0,
  length BIGINT NOT NULL DEFAULT 0,
  levels BIGINT NOT NULL DEFAULT 0,
  positions TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (namespace, name)
);

CREATE TABLE entries (
  stream_id BIGINT NOT NULL,
  ms BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  partition_no BIGINT NOT NULL,
  position BIGINT NOT NULL,
  entry_key TEXT,
  entry_type TEXT,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority BIGINT NOT NULL,
  correlation_id TEXT,
  causation_id TEXT,
  message_id TEXT,
  created_at BIGINT NOT NULL,
  deliver_at BIGINT,
  PRIMARY KEY (stream_id, ms, seq)
);
CREATE INDEX entries_by_level ON entries (stream_id, partition_no, priority, ms, seq);

CREATE TABLE dedupe (
  stream_id BIGINT NOT NULL,
  dedupe_key TEXT NOT NULL,
  ms BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  partition_no BIGINT NOT NULL,
  position BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (stream_id, dedupe_key)
);
CREATE INDEX dedupe_by_time ON dedupe (created_at);

CREATE TABLE consumer_groups (
  stream_id BIGINT NOT NULL,
  name TEXT NOT NULL,
  start_ms BIGINT NOT NULL,
  start_seq BIGINT NOT NULL,
  last_ms BIGINT NOT NULL,
  last_seq BIGINT NOT NULL,
  entries_read BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (stream_id, name)
);

CREATE TABLE group_cursors (
  stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  partition_no BIGINT NOT NULL,
  priority BIGINT NOT NULL,
  ms BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (stream_id, group_name, partition_no, priority)
);

CREATE TABLE group_deferred (
  stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  ms BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  partition_no BIGINT NOT NULL,
  priority BIGINT NOT NULL,
  due_at BIGINT NOT NULL,
  delivery_count BIGINT NOT NULL,
  history TEXT,
  PRIMARY KEY (stream_id, group_name, ms, seq)
);
CREATE INDEX group_deferred_due ON group_deferred (stream_id, group_name, due_at);

CREATE TABLE pending (
  stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  ms BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  partition_no BIGINT NOT NULL,
  consumer TEXT NOT NULL,
  delivered_at BIGINT NOT NULL,
  delivery_count BIGINT NOT NULL,
  history TEXT,
  PRIMARY KEY (stream_id, group_name, ms, seq)
);
CREATE INDEX pending_by_consumer ON pending (stream_id, group_name, consumer, ms, seq);

CREATE TABLE consumers (
  stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  name TEXT NOT NULL,
  seen_at BIGINT NOT NULL,
  active_at BIGINT,
  PRIMARY KEY (stream_id, group_name, name)
);
