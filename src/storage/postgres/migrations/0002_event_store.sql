-- Event stores: bi-temporal events of aggregates (a version per aggregate, a position per store) and state snapshots.
CREATE TABLE event_stores (
  id BIGSERIAL PRIMARY KEY,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  snapshot_every BIGINT,
  last_position BIGINT NOT NULL DEFAULT 0,
  last_transaction_time BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (namespace, name)
);

CREATE TABLE event_store_events (
  store_id BIGINT NOT NULL,
  position BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  aggregate_type TEXT,
  version BIGINT NOT NULL,
  event_type TEXT NOT NULL,
  event_data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  correlation_id TEXT,
  causation_id TEXT,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT,
  transaction_time BIGINT NOT NULL,
  correction_of TEXT,
  correction_reason TEXT,
  PRIMARY KEY (store_id, position)
);
CREATE UNIQUE INDEX event_store_events_by_id ON event_store_events (store_id, event_id);
-- Two writers that both pass the expected-version check cannot both store the same version.
CREATE UNIQUE INDEX event_store_events_by_version ON event_store_events (store_id, aggregate_id, version);
CREATE INDEX event_store_events_by_type ON event_store_events (store_id, event_type, position);
CREATE INDEX event_store_events_by_valid_from ON event_store_events (store_id, valid_from, position);
CREATE INDEX event_store_events_by_correlation ON event_store_events (store_id, correlation_id, position)
  WHERE correlation_id IS NOT NULL;
CREATE INDEX event_store_events_by_causation ON event_store_events (store_id, causation_id, position)
  WHERE causation_id IS NOT NULL;
CREATE INDEX event_store_events_corrections ON event_store_events (store_id, correction_of, position)
  WHERE correction_of IS NOT NULL;

CREATE TABLE event_store_snapshots (
  store_id BIGINT NOT NULL,
  aggregate_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  aggregate_type TEXT,
  state TEXT NOT NULL,
  last_event_time BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (store_id, aggregate_id, version)
);
