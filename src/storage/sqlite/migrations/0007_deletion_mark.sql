-- The greatest id a deletion or trim may have removed from each stream (0-0: none ever). While a group's cursor is
-- past it, nothing after the cursor was removed, and the group's lag follows from positions instead of a count of
-- the entries left to read. Streams that lost entries before this migration start at their top id.
ALTER TABLE streams ADD COLUMN max_deleted_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN max_deleted_seq INTEGER NOT NULL DEFAULT 0;
UPDATE streams SET max_deleted_ms = last_ms, max_deleted_seq = last_seq WHERE entries_added <> length;
