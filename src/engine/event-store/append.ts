// The append path inside one transaction: idempotency, expected versions, corrections, positions, snapshots.
import { randomUUID } from "node:crypto";
import { BadRequestError, ConflictError, NotFoundError } from "../../core/errors.js";
import type { Tx } from "../../storage/index.js";
import type { EventStoreRecord, StoredEvent } from "../../storage/queries/event-store.js";
import { snapshotDue, takeSnapshotInTx } from "./snapshots.js";
import type { AppendedEvent, ExpectedVersion, NewEvent } from "./types.js";

export interface AppendInput {
  namespace: string;
  name: string;
  events: readonly NewEvent[];
  /** Applies to the first event of each aggregate in the batch that names no expected version of its own. */
  expectedVersion?: ExpectedVersion;
  now: number;
  /** The snapshot interval for stores that set none. */
  defaultSnapshotEvery: number;
  /** Request field names for errors: `events/` for a batch, `` for one event at the top level. */
  fieldPrefix: (index: number) => string;
  /** The expected-version field's name in this request (`expectedVersion`, `expected_version`). */
  expectedField?: string;
}

export interface AppendOutcome {
  store: EventStoreRecord;
  results: AppendedEvent[];
  /** How many events were written (duplicates are not). */
  stored: number;
}

/** A server-made event id. */
export function newEventId(): string {
  return `evt_${randomUUID()}`;
}

/** Throws a 409 carrying the current version when `expected` does not hold for an aggregate at `current`. */
export function checkExpected(expected: ExpectedVersion | undefined, current: number, aggregateId: string, field: string): void {
  if (expected === undefined || expected === "any") return;
  const ok =
    expected === "no_stream" ? current === 0 : expected === "stream_exists" ? current > 0 : current === expected;
  if (ok) return;
  const wanted =
    expected === "no_stream" ? "no events" : expected === "stream_exists" ? "at least one event" : `version ${expected}`;
  throw new ConflictError(`aggregate '${aggregateId}' is at version ${current}, expected ${wanted}`, {
    field,
    aggregateId,
    currentVersion: current,
    expectedVersion: expected,
  });
}

function appended(e: StoredEvent, duplicate: boolean): AppendedEvent {
  return {
    eventId: e.eventId,
    aggregateId: e.aggregateId,
    version: e.version,
    position: e.position,
    transactionTime: e.transactionTime,
    duplicate,
  };
}

interface Head {
  version: number;
  aggregateType: string | null;
  /** The version before this batch, to decide whether a snapshot is due. */
  before: number;
}

/** Stores `input.events` as one atomic unit; the store is created when missing. */
export async function appendInTx(tx: Tx, input: AppendInput): Promise<AppendOutcome> {
  const store =
    (await tx.events.getStore(input.namespace, input.name, true)) ??
    (await tx.events.createStore(input.namespace, input.name, null, input.now)).store;
  // Transaction time never goes backwards within a store, so "as of" reads agree with the order of positions.
  const transactionTime = Math.max(input.now, store.lastTransactionTime);
  const heads = new Map<string, Head>();
  const inBatch = new Map<string, StoredEvent>();
  const rows: StoredEvent[] = [];
  const results: AppendedEvent[] = [];
  const corrected: { aggregateId: string; version: number }[] = [];
  let position = store.lastPosition;

  const lookup = async (eventId: string) => inBatch.get(eventId) ?? (await tx.events.findEvent(store.id, eventId));

  for (const [i, event] of input.events.entries()) {
    const f = input.fieldPrefix(i);
    const eventId = event.eventId ?? newEventId();
    // A fresh server-made id cannot have been stored before: only a producer's own id needs the lookup.
    const existing = event.eventId === undefined ? undefined : await lookup(eventId);
    if (existing) {
      if (event.aggregateId !== undefined && event.aggregateId !== existing.aggregateId) {
        throw new ConflictError(`event id '${eventId}' is already used by aggregate '${existing.aggregateId}'`, {
          field: `${f}eventId`,
        });
      }
      results.push(appended(existing, true));
      continue;
    }

    let original: StoredEvent | undefined;
    if (event.correctionOf !== undefined) {
      original = await lookup(event.correctionOf);
      if (!original) throw new NotFoundError(`event '${event.correctionOf}' does not exist`, { field: `${f}correctionOf` });
      if (event.aggregateId !== undefined && event.aggregateId !== original.aggregateId) {
        throw new BadRequestError(`a correction belongs to the aggregate of its original ('${original.aggregateId}')`, {
          field: `${f}aggregateId`,
        });
      }
    }
    const aggregateId = original?.aggregateId ?? event.aggregateId ?? eventId;
    let head = heads.get(aggregateId);
    const firstInBatch = head === undefined;
    if (!head) {
      const stored = await tx.events.head(store.id, aggregateId);
      head = { version: stored?.version ?? 0, aggregateType: stored?.aggregateType ?? null, before: stored?.version ?? 0 };
      heads.set(aggregateId, head);
    }
    const expected = event.expectedVersion ?? (firstInBatch ? input.expectedVersion : undefined);
    const expectedField = input.expectedField ?? "expectedVersion";
    checkExpected(expected, head.version, aggregateId, event.expectedVersion === undefined ? expectedField : `${f}${expectedField}`);
    if (event.aggregateType !== undefined && head.aggregateType !== null && event.aggregateType !== head.aggregateType) {
      throw new ConflictError(`aggregate '${aggregateId}' is of type '${head.aggregateType}', not '${event.aggregateType}'`, {
        field: `${f}aggregateType`,
      });
    }
    const eventType = event.eventType ?? original?.eventType;
    if (eventType === undefined) throw new BadRequestError("eventType is required", { field: `${f}eventType` });
    const validFrom = event.validFrom ?? original?.validFrom ?? transactionTime;
    const validTo = event.validTo !== undefined ? event.validTo : (original?.validTo ?? null);
    if (validTo !== null && validTo <= validFrom) {
      throw new BadRequestError("validTo must be later than validFrom", { field: `${f}validTo` });
    }

    if (head.aggregateType === null && event.aggregateType !== undefined && head.version > 0) {
      // The aggregate's earlier events, stored or earlier in this batch, have no type: they are of this one, or a
      // filter by type would miss them.
      if (head.before > 0) await tx.events.typeAggregate(store.id, aggregateId, event.aggregateType);
      for (const r of rows) if (r.aggregateId === aggregateId) r.aggregateType = event.aggregateType;
    }
    head.version++;
    head.aggregateType ??= event.aggregateType ?? null;
    const row: StoredEvent = {
      position: ++position,
      eventId,
      aggregateId,
      aggregateType: head.aggregateType,
      version: head.version,
      eventType,
      eventData: JSON.stringify(event.eventData),
      metadata: JSON.stringify(event.metadata ?? {}),
      correlationId: event.correlationId ?? null,
      causationId: event.causationId ?? null,
      validFrom,
      validTo,
      transactionTime,
      // Corrections point at the first event of the line, so "the newest correction of X" is one lookup.
      correctionOf: original ? (original.correctionOf ?? original.eventId) : null,
      correctionReason: event.correctionReason ?? null,
    };
    if (original) corrected.push({ aggregateId, version: original.version });
    rows.push(row);
    inBatch.set(eventId, row);
    results.push(appended(row, false));
  }

  if (rows.length > 0) {
    await tx.events.insert(store.id, rows);
    await tx.events.advance(store.id, position, transactionTime);
    store.lastPosition = position;
    store.lastTransactionTime = transactionTime;
    for (const c of corrected) await tx.events.dropSnapshotsFrom(store.id, c.aggregateId, c.version);
    const every = store.snapshotEvery ?? input.defaultSnapshotEvery;
    for (const [aggregateId, head] of heads) {
      if (snapshotDue(head.before, head.version, every)) await takeSnapshotInTx(tx, store.id, aggregateId, input.now);
    }
  }
  return { store, results, stored: rows.length };
}
