import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gristRow, startTestRelay } from "../support/test-relay.ts";
import { positionOf, RawSse, range, recordIds } from "./raw-sse.ts";

describe("a subscriber that stops reading", () => {
  it("is cut off at its queue bound, then catches up with Last-Event-ID, missing nothing", async () => {
    const relay = await startTestRelay({ env: { SUBSCRIBER_QUEUE_BYTES: "65536" } });
    try {
      const slow = new RawSse({ port: relay.port });
      const healthy = new RawSse({ port: relay.port });
      for (const stream of [slow, healthy])
        await stream.waitUntil(() => stream.frames.length > 0, 5000, "snapshot");
      // Stops reading: the kernel buffers fill, then the relay's queue for it grows.
      slow.socket.pause();

      // ~100 KB frames (the comment appears in the record, its raw fields and the change).
      const comment = "x".repeat(25_000);
      let posted = 0;
      while (relay.relay.hub.size > 1 && posted < 500) {
        posted++;
        const response = await relay.postWebhook([
          // The number first: the relay keeps the first 10,000 characters of a comment.
          gristRow(1 + (posted % 20), { Commentaire: `${posted} ${comment}` }),
        ]);
        assert.equal(response.status, 200);
      }
      assert.equal(relay.relay.hub.size, 1, `cut off after ${posted} events`);
      const metrics = await (await fetch(`${relay.url}/metrics`)).text();
      assert.match(metrics, /relay_sse_disconnects_total\{reason="slow"\} 1/);
      const lastId = relay.relay.state.lastEventId;
      const last = positionOf(lastId);
      await healthy.waitUntil(() => healthy.lastId === lastId, 10_000, "healthy at the end");

      // It reads what reached it before the cut, then resumes from there.
      slow.socket.resume();
      await slow.ended;
      const before = recordIds(slow.frames);
      assert.ok(before.length < last, "the cut happened before the last event");
      const resumed = new RawSse({ port: relay.port, lastEventId: slow.lastId });
      await resumed.waitUntil(() => resumed.lastId === lastId, 10_000, `id ${last}`);
      assert.deepEqual([...before, ...recordIds(resumed.frames)], range(1, last));
      assert.deepEqual(recordIds(healthy.frames), range(1, last), "the reader was not held back");
      resumed.close();
      healthy.close();
    } finally {
      await relay.close();
    }
  });
});
