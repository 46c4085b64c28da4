-- The event-time index of a windowed stream by source entry, so the items of entries trimmed from their source
-- (or of a source that was deleted) can be found and forgotten without reading the whole index.
CREATE INDEX window_items_by_source ON window_items (window_stream_id, source_id, ms, seq);
