// The seed 004 quick start against every backend: add, create a group, read, ack, info.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { backends } from "./helpers/backends.js";
import { client, unique } from "./helpers/http.js";
import { startTestServer } from "./helpers/server.js";
import type { RunningServer } from "../src/api/server.js";

for (const backend of await backends()) {
  describe(`seed 004 quick start (${backend.name})`, () => {
    let server: RunningServer;
    before(async () => {
      server = await startTestServer(await backend.fresh());
    });
    after(async () => {
      await server.close();
      await backend.cleanup();
    });

    it("adds, reads through a group, acks and reports info", async () => {
      const api = client(server.url);
      const stream = unique("test");
      const added = await api.post(`/stream/${stream}/add`, { hello: "world" });
      assert.equal(added.status, 201);
      assert.match(added.body.id, /^\d+-\d+$/);

      assert.equal((await api.post(`/stream/${stream}/group/workers`, { startId: "0" })).status, 201);
      const read = await api.get(`/stream/${stream}/group/workers/consumer/w1?count=10`);
      assert.equal(read.status, 200);
      assert.deepEqual(
        read.body.entries.map((e: any) => [e.id, e.payload]),
        [[added.body.id, { hello: "world" }]],
      );

      const ack = await api.post(`/stream/${stream}/group/workers/ack`, { ids: [added.body.id] });
      assert.deepEqual(ack.body, { acked: 1 });

      const info = await api.get(`/stream/${stream}/info`);
      assert.equal(info.body.length, 1);
      assert.equal(info.body.lastGeneratedId, added.body.id);
      assert.deepEqual(
        info.body.groups.map((g: any) => [g.name, g.pending, g.lag]),
        [["workers", 0, 0]],
      );
    });
  });
}
