// Group delivery inside a transaction: read new entries by priority, re-read own pending, claim.
import { compareIds, inclusiveStart, MAX_ID, MIN_ID, type StreamId } from "../core/ids.js";
import type { Entry } from "../core/types.js";
import type { CursorRecord, DeferredRecord, DeliveryHistoryItem, GroupRecord, PendingRecord, StreamRecord, Tx } from "../storage/index.js";
import { deadLetter, deliveryLimit } from "./dead-letters.js";

/** Whether an entry delivered `count` times has used up its `limit` (null: no limit). */
function reachedLimit(count: number, limit: number | null): boolean {
  return limit !== null && count >= limit;
}

/** An entry handed to a consumer; `entry` is null when it was deleted while pending. */
export interface Delivery {
  id: StreamId;
  entry: Entry | null;
  deliveryCount: number;
}

export interface ReadNewResult {
  deliveries: Delivery[];
  /** The earliest time a deferred entry becomes due, if any is waiting. */
  nextDue: number | null;
  /** Dead-letter streams that received entries, so their readers can be woken. */
  deadLettered: string[];
}

/**
 * A scan first reads just the rows asked for; when all of them are delayed it steps over them (setting them
 * aside) in rounds of at least SCAN_MIN rows; after SCAN_ROUNDS rounds it stops so one transaction stays
 * short, and the reader tries again at once.
 */
const SCAN_ROUNDS = 50;
const SCAN_MIN = 200;

interface Scan {
  partition: number;
  level: number;
  cursor: StreamId;
  rows: Entry[];
}

interface Candidate {
  entry: Entry;
  deferred?: DeferredRecord;
}

function byPriorityThenId(a: Candidate, b: Candidate): number {
  return b.entry.priority - a.entry.priority || compareIds(a.entry.id, b.entry.id);
}

export function historyWith(prev: { history: DeliveryHistoryItem[] | null; consumer: string; deliveredAt: number }) {
  return [...(prev.history ?? []), { consumer: prev.consumer, at: prev.deliveredAt }];
}

/**
 * The next entries of one partition and level after `after`. The level index holds only the key columns, so
 * each row it finds costs a lookup in the primary key; a stream with one partition and one level holds
 * nothing else, so a range of the primary key gives the same rows without those lookups. The filter guards
 * the moment another node's append of a new level (or a new partition count) lands mid-read.
 */
async function scanLevel(tx: Tx, stream: StreamRecord, partition: number, level: number, after: StreamId, size: number) {
  if (stream.config.partitions !== 1 || stream.levels !== 1 << level) {
    return tx.entries.scanLevel(stream.id, partition, level, after, size);
  }
  const from = inclusiveStart({ id: after, exclusive: true });
  if (from === undefined) return [];
  const rows = await tx.entries.range(stream.id, from, MAX_ID, size);
  const ours = (e: Entry) => e.priority === level && e.partition === partition;
  return rows.every(ours) ? rows : rows.filter(ours);
}

function levelsOf(stream: StreamRecord): number[] {
  const levels: number[] = [];
  for (let level = 3; level >= 0; level--) if (stream.levels & (1 << level)) levels.push(level);
  return levels;
}

/**
 * Delivers up to `count` entries the group has not seen (plus due deferred ones), highest priority first and,
 * within a priority, oldest first. Entries whose deliverAt is still ahead are set aside as deferred.
 * With `partitions` (a group member's assignment), only entries of those partitions are delivered.
 */
export async function readNew(
  tx: Tx,
  stream: StreamRecord,
  group: GroupRecord,
  consumer: string,
  count: number,
  now: number,
  noAck: boolean,
  partitions?: readonly number[],
): Promise<ReadNewResult> {
  const candidates: Candidate[] = [];
  const deadLettered = new Set<string>();
  const only = partitions && new Set(partitions);

  const state = await tx.groups.readState(stream.id, group.name, now);
  // Due deferred entries first; ones that are dead-lettered or deleted free their slot for the next.
  if (state.hasDue) {
    // Entries taken on an earlier pass are still in the deferred set until the end, so each pass asks for
    // `count` rows and steps over those.
    const taken = new Set<string>();
    for (;;) {
      const due = partitions
        ? await tx.members.dueDeferredIn(stream.id, group.name, partitions, now, count)
        : await tx.groups.dueDeferred(stream.id, group.name, now, count);
      let freed = 0;
      for (const d of due) {
        if (candidates.length >= count) break;
        const key = `${d.id.ms}-${d.id.seq}`;
        if (taken.has(key)) continue;
        taken.add(key);
        const entry = await tx.entries.get(stream.id, d.id);
        if (!entry) {
          await tx.groups.undefer(stream.id, group.name, d.id);
          freed++;
        } else if (reachedLimit(d.deliveryCount, deliveryLimit(stream, entry))) {
          await tx.groups.undefer(stream.id, group.name, d.id);
          deadLettered.add(await deadLetter(tx, stream, group.name, entry, d.history ?? [], "max-deliveries", now));
          freed++;
        } else {
          candidates.push({ entry, deferred: d });
        }
      }
      if (freed === 0 || candidates.length >= count) break;
    }
  }

  const cursors = new Map<string, StreamId>();
  for (const c of state.cursors) cursors.set(`${c.partition}:${c.priority}`, c.id);
  const scans: Scan[] = [];
  let cutShort = false;
  for (const level of levelsOf(stream)) {
    if (candidates.filter((c) => c.entry.priority >= level).length >= count) break;
    for (let partition = 0; partition < stream.config.partitions; partition++) {
      if (only && !only.has(partition)) continue;
      const cursor = cursors.get(`${partition}:${level}`) ?? group.start;
      const scan: Scan = { partition, level, cursor, rows: [] };
      let after = cursor;
      for (let round = 0; ; round++) {
        if (round === SCAN_ROUNDS) {
          cutShort = true;
          break;
        }
        const size = round === 0 ? count : Math.max(count, SCAN_MIN);
        const rows = await scanLevel(tx, stream, partition, level, after, size);
        scan.rows.push(...rows);
        const ready = rows.filter((e) => e.deliverAt === null || e.deliverAt <= now);
        for (const entry of ready) candidates.push({ entry });
        if (ready.length > 0 || rows.length < size) break;
        after = rows[rows.length - 1]!.id;
      }
      if (scan.rows.length > 0) scans.push(scan);
    }
  }

  // Candidates of one scan and nothing deferred are in order already, and when all of them are taken every
  // row the scan found was delivered or set aside: the common read needs no sort and no set of ids.
  const oneScan = scans.length <= 1 && candidates.every((c) => c.deferred === undefined);
  if (!oneScan) candidates.sort(byPriorityThenId);
  const taken = candidates.slice(0, count);
  const takenIds =
    oneScan && taken.length === candidates.length ? undefined : new Set(taken.map((c) => `${c.entry.id.ms}-${c.entry.id.seq}`));
  const deliveries: Delivery[] = [];
  let last = group.lastDelivered;
  let fresh = 0;

  const pending: PendingRecord[] = [];
  for (const c of taken) {
    const deliveryCount = (c.deferred?.deliveryCount ?? 0) + 1;
    if (c.deferred) await tx.groups.undefer(stream.id, group.name, c.entry.id);
    else {
      fresh++;
      if (compareIds(c.entry.id, last) > 0) last = c.entry.id;
    }
    if (!noAck) {
      pending.push({
        id: c.entry.id,
        partition: c.entry.partition,
        consumer,
        deliveredAt: now,
        deliveryCount,
        history: c.deferred?.history ?? null,
      });
    }
    deliveries.push({ id: c.entry.id, entry: c.entry, deliveryCount });
  }
  await tx.pending.addMany(stream.id, group.name, pending);

  // A cursor moves over the leading run of its scan that was delivered or set aside as delayed.
  const moved: CursorRecord[] = [];
  for (const scan of scans) {
    let cursor = scan.cursor;
    for (const e of scan.rows) {
      const delayed = e.deliverAt !== null && e.deliverAt > now;
      if (delayed) {
        await tx.groups.defer(stream.id, group.name, {
          id: e.id,
          partition: e.partition,
          priority: e.priority,
          dueAt: e.deliverAt!,
          deliveryCount: 0,
          history: null,
        });
      } else if (takenIds && !takenIds.has(`${e.id.ms}-${e.id.seq}`)) break;
      cursor = e.id;
    }
    if (compareIds(cursor, scan.cursor) !== 0) moved.push({ partition: scan.partition, priority: scan.level, id: cursor });
  }

  await tx.groups.finishRead(stream.id, group.name, {
    cursors: moved,
    delivered: fresh > 0 ? { last, count: fresh } : undefined,
    consumer,
    now,
    active: deliveries.length > 0,
  });
  let nextDue: number | null = null;
  if (cutShort) nextDue = now;
  else if (deliveries.length === 0) {
    nextDue = partitions
      ? await tx.members.nextDeferredDueIn(stream.id, group.name, partitions)
      : await tx.groups.nextDeferredDue(stream.id, group.name);
  }
  return { deliveries, nextDue, deadLettered: [...deadLettered] };
}

/** A consumer re-reads its own pending entries after `after`; each read counts as a delivery. */
export async function readOwnPending(
  tx: Tx,
  stream: StreamRecord,
  group: GroupRecord,
  consumer: string,
  after: StreamId,
  count: number,
  now: number,
): Promise<Delivery[]> {
  const rows = await tx.pending.ofConsumer(stream.id, group.name, consumer, after, count);
  const out: Delivery[] = [];
  for (const p of rows) {
    const entry = (await tx.entries.get(stream.id, p.id)) ?? null;
    const deliveryCount = p.deliveryCount + 1;
    // Acknowledged or claimed meanwhile (by another node): no longer this consumer's.
    if (!(await tx.pending.replace(stream.id, group.name, { ...p, deliveredAt: now, deliveryCount, history: historyWith(p) }))) continue;
    out.push({ id: p.id, entry, deliveryCount });
  }
  await tx.groups.touchConsumer(stream.id, group.name, consumer, now, out.length > 0);
  return out;
}

/**
 * Gives every entry `consumer` holds back to the group, due at once, and answers how many; delivery counts
 * and history stay. Entries deleted meanwhile just leave the PEL.
 */
export async function handBack(tx: Tx, stream: StreamRecord, group: string, consumer: string, now: number): Promise<number> {
  let n = 0;
  for (;;) {
    const held = await tx.pending.ofConsumer(stream.id, group, consumer, MIN_ID, 1000);
    if (held.length === 0) return n;
    for (const p of held) {
      const entry = await tx.entries.get(stream.id, p.id);
      // Only what this transaction took out of the PEL goes back: another node may have acknowledged it meanwhile.
      if (!(await tx.pending.remove(stream.id, group, p.id, consumer)) || !entry) continue;
      await tx.groups.defer(stream.id, group, {
        id: p.id,
        partition: p.partition,
        priority: entry.priority,
        dueAt: now,
        deliveryCount: p.deliveryCount,
        history: historyWith(p),
      });
      n++;
    }
  }
}

export interface ClaimOptions {
  /** Set the idle time of claimed entries to this instead of 0. */
  idleMs?: number;
  /** Set the last delivery time to this instead of now. */
  timeMs?: number;
  /** Set the delivery count to this instead of incrementing it. */
  retryCount?: number;
  /** Do not count this as a delivery (Redis JUSTID). */
  justId?: boolean;
}

export type ClaimOutcome =
  | { kind: "claimed"; delivery: Delivery }
  | { kind: "deleted" }
  | { kind: "dead"; deadLetterStream: string }
  /** No longer pending: acknowledged or taken by someone else since it was read (another node). */
  | { kind: "gone" };

/**
 * Transfers one pending entry to `consumer`; a deleted entry leaves the PEL, one past maxDeliveries is
 * dead-lettered. `forced`: the claim itself put the entry into the PEL (FORCE), so it was never delivered to
 * anyone: it is not dead-lettered, and its made-up delivery is no part of its history.
 */
export async function claimOne(
  tx: Tx,
  stream: StreamRecord,
  group: string,
  p: PendingRecord,
  consumer: string,
  now: number,
  options: ClaimOptions,
  forced = false,
): Promise<ClaimOutcome> {
  const entry = await tx.entries.get(stream.id, p.id);
  if (!entry) return (await tx.pending.remove(stream.id, group, p.id, p.consumer)) ? { kind: "deleted" } : { kind: "gone" };
  const deliveryCount = options.retryCount ?? (options.justId ? p.deliveryCount : p.deliveryCount + 1);
  if (!forced && !options.justId && reachedLimit(deliveryCount - 1, deliveryLimit(stream, entry))) {
    if (!(await tx.pending.remove(stream.id, group, p.id, p.consumer))) return { kind: "gone" };
    const deadLetterStream = await deadLetter(tx, stream, group, entry, historyWith(p), "max-deliveries", now);
    return { kind: "dead", deadLetterStream };
  }
  // A last-delivery time in the future would keep the entry from ever being idle enough: it is capped at now.
  const deliveredAt = Math.min(now, options.timeMs ?? now - (options.idleMs ?? 0));
  const rec = { id: p.id, partition: p.partition, consumer, deliveredAt, deliveryCount, history: forced ? p.history : historyWith(p) };
  // A forced entry joins the PEL here; any other must still be in it (another node may have acked or taken it).
  if (forced) await tx.pending.add(stream.id, group, rec);
  else if (!(await tx.pending.replace(stream.id, group, rec))) return { kind: "gone" };
  return { kind: "claimed", delivery: { id: p.id, entry, deliveryCount } };
}
