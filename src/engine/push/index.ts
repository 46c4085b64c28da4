// Push: sessions that stream entries to WebSocket and SSE clients, sharing one tail reader per stream.
import type { Clock } from "../../core/clock.js";
import type { GroupsService } from "../groups.js";
import type { MembershipService } from "../membership/index.js";
import type { StreamsService } from "../streams.js";
import { PushSession, type PushSink, type SessionLimits } from "./session.js";
import { TailRegistry } from "./tail.js";

export { PushSession, DEFAULT_BATCH, DEFAULT_MAX_IN_FLIGHT } from "./session.js";
export type { PushItem, PushSink, SubscribeOptions, BatchOptions, SubscriptionInfo, AckMode, SessionLimits } from "./session.js";

export class PushService {
  private readonly tails: TailRegistry;
  private readonly sessions = new Set<PushSession>();

  constructor(
    private readonly streams: StreamsService,
    private readonly groups: GroupsService,
    private readonly membership: MembershipService,
    private readonly clock: Clock,
  ) {
    this.tails = new TailRegistry(streams);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  open(namespace: string, stream: string, id: string, sink: PushSink, limits: SessionLimits): PushSession {
    const session = new PushSession(
      { streams: this.streams, groups: this.groups, membership: this.membership, clock: this.clock, tails: this.tails },
      namespace,
      stream,
      id,
      sink,
      limits,
    );
    this.sessions.add(session);
    return session;
  }

  async release(session: PushSession): Promise<void> {
    this.sessions.delete(session);
    await session.close();
  }

  /** Ends every session (their group entries go back to the groups) and the tail readers. */
  async close(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => this.release(s)));
    this.tails.close();
  }
}
