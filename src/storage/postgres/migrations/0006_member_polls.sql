-- When each member last read, for max_poll_interval_ms: a member that keeps sending heartbeats but stops reading
-- leaves the group. Members already in a group count from their last heartbeat. `evicted_for` says which limit
-- an evicted member missed ('session' or 'poll'), so its next call can be told.
ALTER TABLE group_members ADD COLUMN last_poll_at BIGINT NOT NULL DEFAULT 0;
UPDATE group_members SET last_poll_at = last_heartbeat;
ALTER TABLE group_members ADD COLUMN evicted_for TEXT;
