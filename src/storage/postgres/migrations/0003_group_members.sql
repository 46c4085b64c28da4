-- Kafka-style membership of consumer groups: per-group settings (strategy, limits, timeouts) and the members.
CREATE TABLE group_settings (
  stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  group_id TEXT NOT NULL,
  description TEXT,
  strategy TEXT NOT NULL,
  max_members BIGINT NOT NULL,
  session_timeout_ms BIGINT NOT NULL,
  heartbeat_interval_ms BIGINT NOT NULL,
  max_poll_interval_ms BIGINT NOT NULL,
  rebalance_timeout_ms BIGINT NOT NULL,
  generation BIGINT NOT NULL DEFAULT 0,
  partitions BIGINT NOT NULL DEFAULT 0,
  last_rebalance_at BIGINT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (stream_id, group_name)
);
CREATE UNIQUE INDEX group_settings_by_id ON group_settings (group_id);

CREATE TABLE group_members (
  stream_id BIGINT NOT NULL,
  group_name TEXT NOT NULL,
  member_id TEXT NOT NULL,
  member_name TEXT NOT NULL,
  join_seq BIGINT NOT NULL,
  joined_at BIGINT NOT NULL,
  last_heartbeat BIGINT NOT NULL,
  partitions TEXT NOT NULL,
  consumers TEXT NOT NULL,
  status TEXT NOT NULL,
  PRIMARY KEY (stream_id, group_name, member_id)
);
CREATE INDEX group_members_by_heartbeat ON group_members (status, last_heartbeat);

-- Groups made before this migration get settings with the defaults.
INSERT INTO group_settings (stream_id, group_name, group_id, strategy, max_members, session_timeout_ms,
  heartbeat_interval_ms, max_poll_interval_ms, rebalance_timeout_ms, created_at)
SELECT stream_id, name, 'grp_' || substr(md5(random()::text || clock_timestamp()::text || name), 1, 16), 'ROUND_ROBIN',
  100, 30000, 3000, 300000, 60000, created_at
FROM consumer_groups;
