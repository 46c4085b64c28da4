// Records the storage layer hands to the engine: plain data, no driver types.
import type { StreamId } from "../core/ids.js";
import type { StreamConfig } from "../core/types.js";

export interface StreamRecord {
  id: number;
  namespace: string;
  name: string;
  config: StreamConfig;
  top: StreamId;
  entriesAdded: number;
  length: number;
  /** Bit i is set once an entry of priority level i was appended. */
  levels: number;
  /** Next position (offset) per partition. */
  positions: number[];
  /** No entry above this id was ever deleted or trimmed away (0-0: none ever was). */
  maxDeleted: StreamId;
  createdAt: number;
}

export interface GroupRecord {
  streamId: number;
  name: string;
  start: StreamId;
  lastDelivered: StreamId;
  entriesRead: number;
  createdAt: number;
}

export interface CursorRecord {
  partition: number;
  priority: number;
  id: StreamId;
}

export interface DeliveryHistoryItem {
  consumer: string;
  at: number;
}

export interface PendingRecord {
  id: StreamId;
  partition: number;
  consumer: string;
  deliveredAt: number;
  deliveryCount: number;
  history: DeliveryHistoryItem[] | null;
}

export interface DeferredRecord {
  id: StreamId;
  partition: number;
  priority: number;
  dueAt: number;
  deliveryCount: number;
  history: DeliveryHistoryItem[] | null;
}

export interface ConsumerRecord {
  name: string;
  seenAt: number;
  activeAt: number | null;
  pending: number;
}
