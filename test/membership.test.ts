// Consumer group membership against every backend: seed 000 §3 and seed 003 bodies and errors, assignment by strategy,
// rebalances on join, leave and timeout, member reads over HTTP, WebSocket and SSE, exact lag, evictions exactly once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { EventSource } from "eventsource";
import WebSocket from "ws";
import type { RunningServer } from "../src/api/server.js";
import { ASSIGNMENT_STRATEGIES, assignPartitions, type AssignmentStrategy } from "../src/core/assignment.js";
import { ManualClock } from "../src/core/clock.js";
import type { StoreOptions } from "../src/storage/index.js";
import { backends } from "./helpers/backends.js";
import { client, expect, expectError, unique, type Msg } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

type Api = ReturnType<typeof client>;

for (const backend of await backends()) {
  describe(`consumer group membership (${backend.name})`, () => {
    let server: RunningServer;
    let api: Api;
    const clock = new ManualClock(1_700_000_000_000);
    const closers: (() => void)[] = [];

    const groups = (setup: string, queue: string) => `/api/v1/queues/${setup}/${queue}/consumer-groups`;

    async function stream(partitions: number): Promise<string> {
      const name = unique("q");
      expect(await api.post(`/stream/${name}`, { partitions }), 201, "create stream");
      return name;
    }

    async function createGroup(queue: string, body: Record<string, unknown>, setup = "default"): Promise<Msg> {
      return expect(await api.post(groups(setup, queue), body), 201, "create group");
    }

    async function join(queue: string, group: string, memberName: string, setup = "default"): Promise<string> {
      return expect(await api.post(`${groups(setup, queue)}/${group}/members`, { memberName }), 201, "join").memberId as string;
    }

    async function details(queue: string, group: string, setup = "default"): Promise<Msg> {
      return expect(await api.get(`${groups(setup, queue)}/${group}`), 200, "details");
    }

    async function assignment(queue: string, group: string): Promise<Record<string, number[]>> {
      const d = await details(queue, group);
      return Object.fromEntries(d.members.map((m: Msg) => [m.memberId, m.assignedPartitions]));
    }

    async function append(queue: string, partitions: number[]): Promise<string[]> {
      const res = await api.post(`/stream/${queue}/entries`, { entries: partitions.map((partition, i) => ({ payload: { i }, partition })) });
      return expect(res, 201, "append").ids as string[];
    }

    async function read(queue: string, group: string, consumer: string, memberId?: string, count = 100): Promise<Msg[]> {
      const q = `count=${count}${memberId ? `&memberId=${memberId}` : ""}`;
      return expect(await api.get(`/stream/${queue}/group/${group}/consumer/${consumer}?${q}`), 200, "read").entries as Msg[];
    }

    async function ack(queue: string, group: string, ids: string[]): Promise<void> {
      if (ids.length > 0) expect(await api.post(`/stream/${queue}/group/${group}/ack`, { ids }), 200, "ack");
    }

    /** Ages every member by `ms` of the server's clock, then heartbeats `keep` so only the others can expire. */
    async function age(queue: string, group: string, ms: number, keep: string[] = []): Promise<void> {
      clock.advance(ms);
      for (const id of keep) expect(await api.post(`${groups("default", queue)}/${group}/members/${id}/heartbeat`), 200, "heartbeat");
    }

    /**
     * A seed-003 group on `queue` with one member `a`, subscribed over WebSocket with room for one entry in
     * flight; answers once that entry arrived, so from then on the subscription waits for an ack that never comes.
     */
    async function holdingMember(queue: string, bus: Record<string, unknown>): Promise<{ a: string; msgs: Msg[] }> {
      expect(await api.post("/api/v1/consumer-groups", bus), 201, "create group (seed 003)");
      const a = await join(queue, "g", "a");
      await append(queue, [0, 0]);
      const msgs: Msg[] = [];
      const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws/queues/default/${queue}`);
      ws.on("message", (data) => msgs.push(JSON.parse(data.toString()) as Msg));
      closers.push(() => ws.terminate());
      await until(() => msgs.find((m) => m.type === "welcome"), "welcome");
      ws.send(JSON.stringify({ type: "subscribe", consumerGroup: "g", memberId: a, ackMode: "manual", maxInFlight: 1 }));
      await until(() => msgs.find((m) => m.type === "data"), "the first entry");
      return { a, msgs };
    }

    let store: StoreOptions;

    before(async () => {
      store = await backend.fresh();
      server = await startTestServer(store, { clock, push: { heartbeatMs: 200 } });
      api = client(server.url);
    });
    after(async () => {
      for (const close of closers) close();
      await until(() => server.engine.push.sessionCount === 0, "push sessions to end");
      await server.close();
      await backend.cleanup();
    });

    it("seed 000: create, list, details, join, heartbeat, leave and delete answer with the documented bodies", async () => {
      const setup = unique("setup");
      const queue = "orders";
      const created = await createGroup(
        queue,
        { groupName: "order-processors", maxMembers: 10, loadBalancingStrategy: "ROUND_ROBIN", sessionTimeout: 30000 },
        setup,
      );
      assert.equal(created.message, "Consumer group created successfully");
      assert.match(created.groupId, /^grp_[0-9a-f]{16}$/);
      for (const [k, v] of Object.entries({ groupName: "order-processors", setupId: setup, queueName: queue, memberCount: 0, maxMembers: 10, loadBalancingStrategy: "ROUND_ROBIN", sessionTimeout: 30000 })) {
        assert.deepEqual(created[k], v, k);
      }
      assert.deepEqual(created.members, []);
      assert.equal(typeof created.timestamp, "number");

      const joined = expect(await api.post(`${groups(setup, queue)}/order-processors/members`, { memberName: "consumer-1" }), 201, "join");
      assert.equal(joined.memberName, "consumer-1");
      assert.equal(typeof joined.memberId, "string");
      assert.deepEqual(joined.assignedPartitions, [0]);
      assert.equal(joined.status, "ACTIVE");

      const d = await details(queue, "order-processors", setup);
      assert.equal(d.message, "Consumer group retrieved successfully");
      assert.equal(d.groupId, created.groupId);
      assert.equal(d.memberCount, 1);
      assert.deepEqual(Object.keys(d.members[0]).sort(), ["assignedPartitions", "joinedAt", "lastHeartbeat", "memberId", "memberName", "status"]);
      assert.deepEqual(d.members[0], {
        memberId: joined.memberId,
        memberName: "consumer-1",
        joinedAt: clock.now(),
        lastHeartbeat: clock.now(),
        assignedPartitions: [0],
        status: "ACTIVE",
      });

      clock.advance(1000);
      const hb = expect(await api.post(`${groups(setup, queue)}/order-processors/members/${joined.memberId}/heartbeat`), 200, "heartbeat");
      assert.equal(hb.lastHeartbeat, clock.now());
      assert.deepEqual(hb.assignedPartitions, [0]);

      const list = expect(await api.get(groups(setup, queue)), 200, "list");
      assert.equal(list.message, "Consumer groups retrieved successfully");
      assert.deepEqual(list.groups.map((g: Msg) => [g.groupName, g.memberCount]), [["order-processors", 1]]);

      const left = expect(await api.del(`${groups(setup, queue)}/order-processors/members/${joined.memberId}`), 200, "leave");
      assert.equal(left.memberCount, 0);
      assert.equal((await details(queue, "order-processors", setup)).memberCount, 0);

      const deleted = expect(await api.del(`${groups(setup, queue)}/order-processors`), 200, "delete");
      assert.equal(deleted.message, "Consumer group deleted successfully");
      expectError(await api.get(`${groups(setup, queue)}/order-processors`), 404, "RUNNEL_NOT_FOUND", undefined, "deleted group");
    });

    it("refuses a join past maxMembers (409), unknown groups and members (404), unknown strategies and bad settings (400)", async () => {
      const q = await stream(2);
      await createGroup(q, { groupName: "small", maxMembers: 2 });
      await join(q, "small", "a");
      const b = await join(q, "small", "b");
      expectError(await api.post(`${groups("default", q)}/small/members`, { memberName: "c" }), 409, "RUNNEL_CONFLICT", "maxMembers", "third member");
      expectError(await api.post(groups("default", q), { groupName: "small" }), 409, "RUNNEL_CONFLICT", "groupName", "same group twice");
      await api.del(`${groups("default", q)}/small/members/${b}`);
      await join(q, "small", "c");

      expectError(await api.get(`${groups("default", q)}/nope`), 404, "RUNNEL_NOT_FOUND", undefined, "details of unknown group");
      expectError(await api.post(`${groups("default", q)}/nope/members`, { memberName: "x" }), 404, "RUNNEL_NOT_FOUND", undefined, "join unknown group");
      expectError(await api.del(`${groups("default", q)}/nope`), 404, "RUNNEL_NOT_FOUND", undefined, "delete unknown group");
      expectError(await api.del(`${groups("default", q)}/small/members/member-x`), 404, "RUNNEL_NOT_FOUND", "memberId", "leave unknown member");
      expectError(await api.post(`${groups("default", q)}/small/members/member-x/heartbeat`), 404, "RUNNEL_NOT_FOUND", "memberId", "heartbeat unknown member");
      expectError(await api.get(`/stream/${q}/group/small/consumer/c?memberId=member-x`), 404, "RUNNEL_NOT_FOUND", "memberId", "read as unknown member");

      const bad = (body: Record<string, unknown>) => api.post(groups("default", q), { groupName: unique("g"), ...body });
      expectError(await bad({ loadBalancingStrategy: "LEAST_LOADED" }), 400, "RUNNEL_BAD_REQUEST", "loadBalancingStrategy", "unknown strategy");
      expectError(await bad({ maxMembers: 0 }), 400, "RUNNEL_BAD_REQUEST", "maxMembers", "maxMembers 0");
      expectError(await bad({ sessionTimeout: "30000" }), 400, "RUNNEL_BAD_REQUEST", "sessionTimeout", "text timeout");
      expectError(await bad({ sessionTimeout: 1000, heartbeatInterval: 2000 }), 400, "RUNNEL_BAD_REQUEST", "heartbeatInterval", "heartbeat past timeout");
      expectError(await api.post(groups("default", q), { maxMembers: 3 }), 400, "RUNNEL_BAD_REQUEST", "groupName", "no groupName");
    });

    it("assigns partitions by each strategy", async () => {
      const q = await stream(7);
      for (const strategy of ASSIGNMENT_STRATEGIES) {
        const group = strategy.toLowerCase();
        await createGroup(q, { groupName: group, loadBalancingStrategy: strategy });
        const ids = [await join(q, group, "a"), await join(q, group, "b"), await join(q, group, "c")];
        const got = await assignment(q, group);
        assert.deepEqual(Object.values(got).flat().sort(), [0, 1, 2, 3, 4, 5, 6], strategy);
        if (strategy === "RANDOM") continue;
        // STICKY builds on what members had, so replay the three joins.
        let expected: Record<string, number[]> = {};
        for (let k = 1; k <= 3; k++) {
          expected = assignPartitions(strategy as AssignmentStrategy, { members: ids.slice(0, k), partitions: 7, previous: expected });
        }
        assert.deepEqual(got, expected, strategy);
      }
    });

    it("rebalances on join, on leave and when a member misses its session timeout", async () => {
      const q = await stream(4);
      await createGroup(q, { groupName: "g", loadBalancingStrategy: "ROUND_ROBIN", sessionTimeout: 30000 });
      const a = await join(q, "g", "a");
      assert.deepEqual(await assignment(q, "g"), { [a]: [0, 1, 2, 3] });
      const b = await join(q, "g", "b");
      assert.deepEqual(await assignment(q, "g"), { [a]: [0, 2], [b]: [1, 3] });
      const c = await join(q, "g", "c");
      assert.deepEqual(await assignment(q, "g"), { [a]: [0, 3], [b]: [1], [c]: [2] });
      await api.del(`${groups("default", q)}/g/members/${a}`);
      assert.deepEqual(await assignment(q, "g"), { [b]: [0, 2], [c]: [1, 3] });

      await age(q, "g", 20_000, [b]);
      await age(q, "g", 15_000);
      assert.deepEqual(await assignment(q, "g"), { [b]: [0, 1, 2, 3] });
      const late = await api.post(`${groups("default", q)}/g/members/${c}/heartbeat`);
      expectError(late, 404, "RUNNEL_NOT_FOUND", "memberId", "heartbeat after eviction");
      assert.match(late.body.error.message, /evicted/);
    });

    it("a member that keeps heartbeating but does not read within max_poll_interval_ms is evicted; reading keeps it in", async () => {
      const q = await stream(2);
      const bus = { group_name: "g", stream: q, session_timeout_ms: 30000, max_poll_interval_ms: 60000, auto_offset_reset: "earliest" };
      expect(await api.post("/api/v1/consumer-groups", bus), 201, "create group (seed 003)");
      const a = await join(q, "g", "a");
      const b = await join(q, "g", "b");
      await append(q, [0, 1, 0, 1]);
      const held = await read(q, "g", "ca", a);
      assert.equal(held.length, 2);
      await ack(q, "g", (await read(q, "g", "cb", b)).map((e) => e.id));

      // Both heartbeat for 55 s; only b reads (at 40 s).
      await age(q, "g", 20_000, [a, b]);
      await age(q, "g", 20_000, [a, b]);
      assert.deepEqual(await read(q, "g", "cb", b), []);
      await age(q, "g", 15_000, [a, b]);
      assert.deepEqual((await details(q, "g")).members.map((m: Msg) => m.memberId), [a, b], "55 s without a read is within the limit");
      // 65 s after a's last read; 25 s after b's.
      clock.advance(10_000);
      const late = await api.post(`${groups("default", q)}/g/members/${a}/heartbeat`);
      expectError(late, 404, "RUNNEL_NOT_FOUND", "memberId", "heartbeat after missing the poll interval");
      assert.match(late.body.error.message, /evicted .* not reading for longer than max_poll_interval_ms/);
      expect(await api.post(`${groups("default", q)}/g/members/${b}/heartbeat`), 200, "b heartbeats");
      assert.deepEqual(await assignment(q, "g"), { [b]: [0, 1] });
      const redelivered = await read(q, "g", "cb", b);
      assert.deepEqual(redelivered.map((e) => e.id).sort(), held.map((e) => e.id).sort(), "a's entries go to b");
      assert.ok(redelivered.every((e) => e.deliveryCount === 2));

      const tooShort = await api.post("/api/v1/consumer-groups", { ...bus, group_name: "g2", max_poll_interval_ms: 99 });
      expectError(tooShort, 400, "RUNNEL_BAD_REQUEST", "max_poll_interval_ms", "max poll interval below 100 ms");
    });

    it("a member reads only its assigned partitions; a read without memberId keeps Redis semantics", async () => {
      const q = await stream(3);
      await createGroup(q, { groupName: "g", loadBalancingStrategy: "RANGE", startId: "0" });
      const a = await join(q, "g", "a");
      const b = await join(q, "g", "b");
      const owned = await assignment(q, "g");
      await append(q, [0, 1, 2, 0, 1, 2]);
      const forA = await read(q, "g", "ca", a);
      const forB = await read(q, "g", "cb", b);
      assert.ok(forA.every((e) => owned[a]!.includes(e.partition)), JSON.stringify(forA));
      assert.ok(forB.every((e) => owned[b]!.includes(e.partition)), JSON.stringify(forB));
      assert.equal(forA.length + forB.length, 6);

      await createGroup(q, { groupName: "plain", startId: "0" });
      assert.equal((await read(q, "plain", "anyone")).length, 6, "a plain reader sees every partition");
      const viaHeader = await api.call("GET", `/stream/${q}/group/g/consumer/ca?count=10`, undefined, { "x-member-id": "member-x" });
      expectError(viaHeader, 404, "RUNNEL_NOT_FOUND", "memberId", "member named in a header");
    });

    it("an evicted member's pending entries go at once to the member that now owns their partitions", async () => {
      const q = await stream(2);
      await createGroup(q, { groupName: "g", sessionTimeout: 30000, startId: "0" });
      const a = await join(q, "g", "a");
      const b = await join(q, "g", "b");
      const ids = await append(q, [0, 1, 0, 1]);
      const held = await read(q, "g", "ca", a);
      assert.equal(held.length, 2);
      await ack(q, "g", (await read(q, "g", "cb", b)).map((e) => e.id));

      await age(q, "g", 20_000, [b]);
      await age(q, "g", 15_000, [b]);
      const redelivered = await read(q, "g", "cb", b);
      assert.deepEqual(redelivered.map((e) => e.id).sort(), held.map((e) => e.id).sort());
      assert.ok(redelivered.every((e) => e.deliveryCount === 2));
      await ack(q, "g", redelivered.map((e) => e.id));
      assert.equal((await details(q, "g")).lag, 0, `all of ${ids.length} acknowledged`);
    });

    it("evicts a member exactly once however many sweeps, heartbeats and readers notice the timeout together", async () => {
      const q = await stream(2);
      await createGroup(q, { groupName: "g", sessionTimeout: 30000, startId: "0" });
      const a = await join(q, "g", "a");
      const b = await join(q, "g", "b");
      await append(q, [0, 1, 0, 1]);
      await read(q, "g", "ca", a);
      await age(q, "g", 20_000, [b]);
      const generation = (await details(q, "g")).generation;
      clock.advance(15_000);
      await Promise.all([
        ...Array.from({ length: 4 }, () => server.engine.membership.sweep()),
        ...Array.from({ length: 3 }, () => api.post(`${groups("default", q)}/g/members/${b}/heartbeat`).then(() => 0)),
        ...Array.from({ length: 3 }, () => api.get(`${groups("default", q)}/g`).then(() => 0)),
      ]);
      const d = await details(q, "g");
      assert.equal(d.generation, generation + 1, "one eviction, one rebalance");
      assert.deepEqual(d.members.map((m: Msg) => m.memberId), [b]);
      const info = expect(await api.get(`/stream/${q}/group/g`), 200, "group info");
      assert.equal(info.pending, 0);
      assert.equal(info.deferred, 2, "the two entries a held are handed back, once");
    });

    it("members join and leave while entries flow: no entry is lost and none goes to two live members", async () => {
      const q = await stream(4);
      await createGroup(q, { groupName: "g", loadBalancingStrategy: "STICKY", startId: "0" });
      const live = new Map<string, string[]>(); // member → unacked ids it holds
      const deliveredTo = new Map<string, string>();
      const acked = new Set<string>();
      const appended: string[] = [];
      let owned: Record<string, number[]> = {};
      let n = 0;
      const rnd = (k: number) => Math.floor(Math.random() * k);
      for (let round = 0; round < 25; round++) {
        appended.push(...(await append(q, Array.from({ length: 7 }, () => rnd(4)))));
        if (live.size === 0 || (live.size < 5 && rnd(3) === 0)) live.set(await join(q, "g", `m${n++}`), []);
        else if (live.size > 1 && rnd(4) === 0) {
          const [gone] = [...live.keys()].slice(rnd(live.size));
          expect(await api.del(`${groups("default", q)}/g/members/${gone}`), 200, "leave");
          live.delete(gone!);
        }
        owned = await assignment(q, "g");
        for (const [member, held] of live) {
          for (const e of await read(q, "g", member, member, 4)) {
            assert.ok(owned[member]!.includes(e.partition), `${member} got partition ${e.partition}, owns ${owned[member]}`);
            const before = deliveredTo.get(e.id);
            assert.ok(before === undefined || !live.has(before) || before === member, `${e.id} went to ${before} and ${member}`);
            deliveredTo.set(e.id, member);
            held.push(e.id);
          }
          // Some entries stay unacknowledged for a while, so a leaving member holds some.
          const settle = held.splice(0, rnd(held.length + 1));
          await ack(q, "g", settle);
          settle.forEach((id) => acked.add(id));
        }
      }
      for (let drain = 0; drain < 50 && acked.size < appended.length; drain++) {
        for (const [member, held] of live) {
          const got = (await read(q, "g", member, member, 100)).map((e) => e.id);
          const all = [...held.splice(0), ...got];
          await ack(q, "g", all);
          all.forEach((id) => acked.add(id));
        }
      }
      assert.deepEqual([...acked].sort(), [...appended].sort(), "every entry was acknowledged");
      assert.equal((await details(q, "g")).lag, 0);
    });

    it("reports lag per partition exactly, as a hand count of appended minus acknowledged, in every view", async () => {
      const q = await stream(3);
      const created = await createGroup(q, { groupName: "g", startId: "0" });
      const a = await join(q, "g", "a");
      await append(q, [0, 0, 0, 0, 0, 1, 1, 1]);
      const got = await read(q, "g", "ca", a, 4);
      await ack(q, "g", got.slice(0, 2).map((e) => e.id));
      const byHand = { "0": 5 - 2, "1": 3, "2": 0 };

      const d = await details(q, "g");
      assert.deepEqual(d.partitionLags, byHand);
      assert.equal(d.lag, 6);
      const info = expect(await api.get(`/stream/${q}/info`), 200, "stream info");
      assert.deepEqual(info.groups.find((g: Msg) => g.name === "g").partitionLags, byHand);
      assert.equal(info.groups.find((g: Msg) => g.name === "g").lag, 6);
      assert.deepEqual(expect(await api.get(`/stream/${q}/group/g`), 200, "group info").partitionLags, byHand);
      const lag = expect(await api.get(`/api/v1/consumer-groups/${created.groupId}/lag`), 200, "seed 003 lag");
      assert.equal(lag.total_lag, 6);
      assert.deepEqual(lag.partition_lags, byHand);
    });

    it("seed 003: creates with snake_case settings, reports lag and consumption, rebalances on request", async () => {
      const q = await stream(3);
      const name = unique("notification_processors");
      const res = await api.post("/api/v1/consumer-groups", {
        group_name: name,
        group_description: "Processes user notification events",
        session_timeout_ms: 30000,
        heartbeat_interval_ms: 3000,
        max_poll_interval_ms: 300000,
        partition_assignment_strategy: "range",
        rebalance_timeout_ms: 60000,
        stream: q,
      });
      const created = expect(res, 201, "seed 003 create");
      assert.match(created.group_id, /^grp_/);
      assert.equal(created.message, "Consumer group created successfully");
      const d = await details(q, name);
      assert.equal(d.loadBalancingStrategy, "RANGE");
      assert.equal(d.description, "Processes user notification events");

      const lag0 = expect(await api.get(`/api/v1/consumer-groups/${created.group_id}/lag`), 200, "lag");
      for (const k of ["group_id", "group_name", "total_lag", "partition_lags", "consumption_rate", "active_consumers", "last_rebalance"]) {
        assert.ok(k in lag0, k);
      }
      assert.deepEqual([lag0.group_name, lag0.total_lag, lag0.active_consumers, lag0.last_rebalance], [name, 0, 0, null]);

      const a = await join(q, name, "a");
      await append(q, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
      clock.advance(10_000);
      assert.equal((await read(q, name, "ca", a, 5)).length, 5);
      const lag1 = expect(await api.get(`/api/v1/consumer-groups/${created.group_id}/lag`), 200, "lag");
      assert.equal(lag1.active_consumers, 1);
      assert.equal(lag1.total_lag, 10);
      assert.equal(lag1.consumption_rate, 0.5, "5 entries over the 10 s since creation");
      assert.equal(new Date(lag1.last_rebalance).getTime(), clock.now() - 10_000);
      clock.advance(5_000);
      await read(q, name, "ca", a, 5);
      const lag2 = expect(await api.get(`/api/v1/consumer-groups/${created.group_id}/lag`), 200, "lag");
      assert.equal(lag2.consumption_rate, 0.7, "10 entries over the 15 s since the first report");

      const rb = expect(await api.post(`/api/v1/consumer-groups/${created.group_id}/rebalance`), 200, "rebalance");
      assert.equal(rb.message, "Consumer group rebalance triggered successfully");
      assert.equal((await details(q, name)).generation, d.generation + 2);

      const onDefault = expect(await api.post("/api/v1/consumer-groups", { group_name: unique("g") }), 201, "no stream named");
      assert.equal(onDefault.stream, "events");
      expectError(await api.post("/api/v1/consumer-groups", { group_name: unique("g"), partition_assignment_strategy: "fair" }), 400, "RUNNEL_BAD_REQUEST", "partition_assignment_strategy", "strategy");
      expectError(await api.post("/api/v1/consumer-groups", { group_name: name, stream: q }), 409, "RUNNEL_CONFLICT", "groupName", "same name on the stream");
      expectError(await api.get("/api/v1/consumer-groups/grp_0000/lag"), 404, "RUNNEL_NOT_FOUND", "group_id", "unknown lag");
      expectError(await api.post("/api/v1/consumer-groups/grp_0000/rebalance"), 404, "RUNNEL_NOT_FOUND", "group_id", "unknown rebalance");
    });

    it("WebSocket and SSE members receive only their partitions, and a member that leaves is told so", async () => {
      const q = await stream(2);
      await createGroup(q, { groupName: "g", loadBalancingStrategy: "ROUND_ROBIN", heartbeatInterval: 200 });
      const a = await join(q, "g", "a");
      const b = await join(q, "g", "b");

      const msgs: Msg[] = [];
      const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/ws/queues/default/${q}`);
      ws.on("message", (data) => msgs.push(JSON.parse(data.toString()) as Msg));
      closers.push(() => ws.terminate());
      await until(() => msgs.find((m) => m.type === "welcome"), "welcome");
      ws.send(JSON.stringify({ type: "subscribe", consumerGroup: "g", memberId: "member-x" }));
      const refused = await until(() => msgs.find((m) => m.type === "error"), "refusal");
      assert.equal(refused.code, "RUNNEL_NOT_FOUND");
      ws.send(JSON.stringify({ type: "subscribe", consumerGroup: "g", memberId: a, ackMode: "auto" }));
      const subscribed = await until(() => msgs.find((m) => m.type === "subscribed"), "subscribed");
      assert.equal(subscribed.memberId, a);

      const sse: Msg[] = [];
      const es = new EventSource(`${server.url}/api/v1/queues/default/${q}/stream?consumerGroup=g&memberId=${b}`);
      closers.push(() => es.close());
      for (const type of ["connection", "message", "error"]) {
        es.addEventListener(type, (e) => {
          const data = (e as MessageEvent).data;
          if (typeof data === "string") sse.push({ event: type, ...(JSON.parse(data) as Msg) });
        });
      }
      await until(() => sse.find((m) => m.event === "connection"), "SSE connection");

      await append(q, [0, 1, 0, 1, 0, 1]);
      const wsData = () => msgs.filter((m) => m.type === "data");
      const sseData = () => sse.filter((m) => m.event === "message");
      await until(() => wsData().length >= 3 && sseData().length >= 3, "3 entries each");
      assert.deepEqual(wsData().map((m) => m.partition), [0, 0, 0]);
      assert.deepEqual(sseData().map((m) => m.partition), [1, 1, 1]);

      expect(await api.del(`${groups("default", q)}/g/members/${a}`), 200, "a leaves");
      const told = await until(() => msgs.filter((m) => m.type === "error").find((m) => /member/.test(m.message) && m !== refused), "a told");
      assert.equal(told.code, "RUNNEL_NOT_FOUND");
      await append(q, [0, 1]);
      await until(() => sseData().length >= 5, "b gets both partitions now");
      assert.deepEqual(sseData().slice(3).map((m) => m.partition).sort(), [0, 1]);
      assert.equal(wsData().length, 3, "nothing more for a");
    });

    it("a WebSocket member waiting on its own acks outlives the session timeout, and is told once it has not read for max_poll_interval_ms", async () => {
      const q = await stream(1);
      const bus = { group_name: "g", stream: q, session_timeout_ms: 30000, max_poll_interval_ms: 60000, auto_offset_reset: "earliest" };
      const { a, msgs } = await holdingMember(q, bus);

      // The client never acks its one entry: the subscription stops reading but keeps the member's heartbeat going.
      for (let elapsed = 10_000; elapsed <= 50_000; elapsed += 10_000) {
        clock.advance(10_000);
        const beat = clock.now();
        await until(async () => (await details(q, "g")).members[0]?.lastHeartbeat === beat, `a heartbeat at ${elapsed} ms`);
      }
      assert.deepEqual((await details(q, "g")).members.map((m: Msg) => m.memberId), [a], "50 s, past the 30 s session timeout");
      assert.equal(msgs.filter((m) => m.type === "data").length, 1);

      clock.advance(20_000);
      const told = await until(() => msgs.find((m) => m.type === "error"), "the member told it was evicted");
      assert.equal(told.code, "RUNNEL_NOT_FOUND");
      assert.match(told.message, /not reading for longer than max_poll_interval_ms/);
      assert.deepEqual((await details(q, "g")).members, []);
    });

    it("a WebSocket member waiting on its client sends heartbeats in the group's rhythm when that is short", async () => {
      const q = await stream(1);
      const bus = { group_name: "g", stream: q, session_timeout_ms: 300, heartbeat_interval_ms: 100, auto_offset_reset: "earliest" };
      const { a, msgs } = await holdingMember(q, bus);
      for (let elapsed = 200; elapsed <= 1000; elapsed += 200) {
        clock.advance(200);
        const beat = clock.now();
        await until(async () => (await details(q, "g")).members[0]?.lastHeartbeat === beat, `a heartbeat at ${elapsed} ms`);
      }
      assert.deepEqual((await details(q, "g")).members.map((m: Msg) => m.memberId), [a], "1 s, past the 300 ms session timeout");
      assert.equal(msgs.filter((m) => m.type === "error").length, 0);
    });

    it("assigns partitions added to the stream on the next read", async () => {
      const q = await stream(2);
      await createGroup(q, { groupName: "g", startId: "0" });
      const a = await join(q, "g", "a");
      const b = await join(q, "g", "b");
      expect(await api.patch(`/stream/${q}`, { partitions: 4 }), 200, "grow partitions");
      await append(q, [2, 3]);
      const got = [...(await read(q, "g", "ca", a)), ...(await read(q, "g", "cb", b))];
      assert.deepEqual(got.map((e) => e.partition).sort(), [2, 3]);
      assert.deepEqual(Object.values(await assignment(q, "g")).flat().sort(), [0, 1, 2, 3]);
    });

    if (backend.name === "postgres") {
      it("two nodes on one database evict a timed-out member once between them", async () => {
        const second = await startTestServer(store, { clock });
        try {
          const q = await stream(2);
          await createGroup(q, { groupName: "g", sessionTimeout: 30000 });
          await join(q, "g", "a");
          const b = await join(q, "g", "b");
          await age(q, "g", 20_000, [b]);
          const generation = (await details(q, "g")).generation;
          clock.advance(15_000);
          await Promise.all([
            server.engine.membership.sweep(),
            second.engine.membership.sweep(),
            server.engine.membership.sweep(),
            second.engine.membership.sweep(),
          ]);
          assert.equal((await details(q, "g")).generation, generation + 1);
        } finally {
          await second.close();
        }
      });
    }
  });
}
