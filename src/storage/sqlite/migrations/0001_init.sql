-- Streams, entries, idempotency keys, consumer groups with cursors, deferred entries and pending entries.
CREATE TABLE streams (
  id INTEGER PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  partitions INTEGER NOT NULL,
  max_len INTEGER,
  max_age_ms INTEGER,
  max_deliveries INTEGER,
  dead_letter_stream TEXT,
  dedupe_window_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  entries_added INTEGER NOT NULL DEFAULT 0,
  length INTEGER NOT NULL DEFAULT 0,
  levels INTEGER NOT NULL DEFAULT 0,
  positions TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (namespace, name)
);

CREATE TABLE entries (
  stream_id INTEGER NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  partition_no INTEGER NOT NULL,
  position INTEGER NOT NULL,
  entry_key TEXT,
  entry_type TEXT,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  priority INTEGER NOT NULL,
  correlation_id TEXT,
  causation_id TEXT,
  message_id TEXT,
  created_at INTEGER NOT NULL,
  deliver_at INTEGER,
  PRIMARY KEY (stream_id, ms, seq)
) WITHOUT ROWID;
CREATE INDEX entries_by_level ON entries (stream_id, partition_no, priority, ms, seq);

CREATE TABLE dedupe (
  stream_id INTEGER NOT NULL,
  dedupe_key TEXT NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  partition_no INTEGER NOT NULL,
  position INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (stream_id, dedupe_key)
) WITHOUT ROWID;
CREATE INDEX dedupe_by_time ON dedupe (created_at);

CREATE TABLE consumer_groups (
  stream_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  start_seq INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  entries_read INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (stream_id, name)
) WITHOUT ROWID;

CREATE TABLE group_cursors (
  stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  partition_no INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (stream_id, group_name, partition_no, priority)
) WITHOUT ROWID;

CREATE TABLE group_deferred (
  stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  partition_no INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL,
  history TEXT,
  PRIMARY KEY (stream_id, group_name, ms, seq)
) WITHOUT ROWID;
CREATE INDEX group_deferred_due ON group_deferred (stream_id, group_name, due_at);

CREATE TABLE pending (
  stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  ms INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  partition_no INTEGER NOT NULL,
  consumer TEXT NOT NULL,
  delivered_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL,
  history TEXT,
  PRIMARY KEY (stream_id, group_name, ms, seq)
) WITHOUT ROWID;
CREATE INDEX pending_by_consumer ON pending (stream_id, group_name, consumer, ms, seq);

CREATE TABLE consumers (
  stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  name TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  active_at INTEGER,
  PRIMARY KEY (stream_id, group_name, name)
) WITHOUT ROWID;
