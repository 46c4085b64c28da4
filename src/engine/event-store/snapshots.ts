// Reconstruction of an aggregate's state (a snapshot plus the events after it, or a full replay) and snapshot taking.
import type { SnapshotRecord, StoredEvent } from "../../storage/queries/event-store.js";
import type { Tx } from "../../storage/index.js";
import { effectiveEvents, validAt } from "./bitemporal.js";
import { defaultReducer, type JsonValue, type Reducer } from "./reducer.js";

/** How many events one read of a replay fetches. */
const REPLAY_PAGE = 2000;

export interface ReplayOptions {
  /** Replay up to and including this version (default: the current one). */
  toVersion?: number;
  /** Start from the newest usable snapshot (default true); ignored for `validAt`, which replays everything. */
  useSnapshots?: boolean;
  /** Only the events valid at this business time count (corrections applied). */
  validAt?: number;
}

export interface Reconstruction {
  aggregateId: string;
  aggregateType: string | null;
  /** The version the state reflects. */
  version: number;
  state: JsonValue;
  /** Transaction time of the newest event the state reflects; null at version 0. */
  lastEventTime: number | null;
  /** The snapshot the replay started from, or null for a full replay. */
  snapshotVersion: number | null;
  /** How many events were read after the snapshot (or from the start). */
  eventsReplayed: number;
}

/**
 * Rebuilds an aggregate's state inside `tx`. Answers undefined when the aggregate has no events.
 * Corrections replace their original in place, so a snapshot taken before a correction is never used after it:
 * appending a correction drops the snapshots at or above the original's version.
 */
export async function reconstructInTx(
  tx: Tx,
  storeId: number,
  aggregateId: string,
  options: ReplayOptions = {},
  reducer: Reducer = defaultReducer,
): Promise<Reconstruction | undefined> {
  const head = await tx.events.head(storeId, aggregateId);
  if (!head) return undefined;
  const target = Math.min(options.toVersion ?? head.version, head.version);
  const snapshot: SnapshotRecord | undefined =
    target > 0 && options.validAt === undefined && options.useSnapshots !== false
      ? await tx.events.latestSnapshot(storeId, aggregateId, target)
      : undefined;
  const events: StoredEvent[] = [];
  for (let from = (snapshot?.version ?? 0) + 1; from <= target; ) {
    const page = await tx.events.aggregateEvents(storeId, aggregateId, from, target, REPLAY_PAGE);
    if (page.length === 0) break;
    events.push(...page);
    from = page[page.length - 1]!.version + 1;
  }
  let state: JsonValue = snapshot ? (JSON.parse(snapshot.state) as JsonValue) : {};
  let folded = effectiveEvents(events);
  if (options.validAt !== undefined) {
    // What was true at a time is the facts in effect then, in the order they took effect: an event recorded later
    // but valid from earlier (a back-dated change) does not override one that took effect after it.
    const at = options.validAt;
    folded = folded.filter((e) => validAt(e, at)).sort((a, b) => a.validFrom - b.validFrom || a.version - b.version);
  }
  for (const e of folded) {
    state = reducer(state, { eventType: e.eventType, data: JSON.parse(e.eventData) as JsonValue });
  }
  const last = events[events.length - 1];
  return {
    aggregateId,
    aggregateType: head.aggregateType,
    version: target,
    state,
    lastEventTime: last ? last.transactionTime : (snapshot?.lastEventTime ?? null),
    snapshotVersion: snapshot?.version ?? null,
    eventsReplayed: events.length,
  };
}

/** Rebuilds the aggregate's current state and stores it as a snapshot; answers the snapshot (undefined: no events). */
export async function takeSnapshotInTx(
  tx: Tx,
  storeId: number,
  aggregateId: string,
  now: number,
): Promise<SnapshotRecord | undefined> {
  const current = await reconstructInTx(tx, storeId, aggregateId);
  if (!current || current.version === 0) return undefined;
  const snapshot: SnapshotRecord = {
    aggregateId,
    aggregateType: current.aggregateType,
    version: current.version,
    state: JSON.stringify(current.state),
    lastEventTime: current.lastEventTime ?? now,
    createdAt: now,
  };
  await tx.events.saveSnapshot(storeId, snapshot);
  return snapshot;
}

/** True when growing from `before` to `after` events crosses a multiple of `every` (0 means never). */
export function snapshotDue(before: number, after: number, every: number): boolean {
  return every > 0 && Math.floor(after / every) > Math.floor(before / every);
}
