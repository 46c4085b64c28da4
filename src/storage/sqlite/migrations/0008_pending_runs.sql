-- A group read's fresh deliveries as one row: the entries one consumer received at once, each for the first time.
-- The common life of a pending entry (delivered in a batch, acknowledged with its batch) then costs one row
-- written and one deleted per batch instead of one per entry. `ids` lists the entries as `ms-seq`, with `:p`
-- after an entry of a partition other than 0; `first`/`last` bound them and `n` counts them. Anything other
-- than a read and an ack of the whole run (a claim, a partial ack, a re-read of one's own entries) first moves
-- the run's entries into `pending`, one row each.
CREATE TABLE pending_runs (
  stream_id INTEGER NOT NULL,
  group_name TEXT NOT NULL,
  last_ms INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  first_ms INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  consumer TEXT NOT NULL,
  delivered_at INTEGER NOT NULL,
  n INTEGER NOT NULL,
  ids TEXT NOT NULL,
  PRIMARY KEY (stream_id, group_name, last_ms, last_seq)
) WITHOUT ROWID;
