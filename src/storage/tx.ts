// What a unit of work sees of the database: the query sets, bound to one connection or transaction.
import type { Sql } from "./sql.js";
import { EntryQueries } from "./queries/entries.js";
import { EventStoreQueries } from "./queries/event-store.js";
import { GroupQueries } from "./queries/groups.js";
import { MemberQueries } from "./queries/members.js";
import { PendingQueries } from "./queries/pending.js";
import { StreamQueries } from "./queries/streams.js";
import { WindowQueries } from "./queries/windows.js";

export class Tx {
  readonly streams: StreamQueries;
  readonly entries: EntryQueries;
  readonly groups: GroupQueries;
  readonly pending: PendingQueries;
  readonly events: EventStoreQueries;
  readonly members: MemberQueries;
  readonly windows: WindowQueries;

  constructor(sql: Sql) {
    this.streams = new StreamQueries(sql);
    this.entries = new EntryQueries(sql);
    this.groups = new GroupQueries(sql);
    this.pending = new PendingQueries(sql);
    this.events = new EventStoreQueries(sql);
    this.members = new MemberQueries(sql);
    this.windows = new WindowQueries(sql);
  }
}
