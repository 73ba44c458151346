/**
 * Issue 12: entries trimmed from the Redis stream before an instance read them (a long cut,
 * retention meanwhile) end its streams, which come back through the reset path instead of
 * silently missing events.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CuttableProxy, ThrowawayRedis } from "../support/redis.ts";
import { openSse } from "../support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../support/test-relay.ts";
import { waitFor } from "../support/wait.ts";

describe("a Redis follower that falls behind retention", () => {
  let redis: ThrowawayRedis;
  let proxy: CuttableProxy;
  let writer: TestRelay;
  let reader: TestRelay;
  before(async () => {
    redis = await ThrowawayRedis.start();
    proxy = await CuttableProxy.start(redis.url);
    const env = { STORE: "redis", REDIS_KEY_PREFIX: "gap:", REDIS_COMMAND_TIMEOUT_MS: "500" };
    writer = await startTestRelay({ env: { ...env, REDIS_URL: redis.url } });
    reader = await startTestRelay({ env: { ...env, REDIS_URL: proxy.url } });
  });
  after(async () => {
    await Promise.all([writer.close(), reader.close()]);
    await proxy.close();
    await redis.kill();
  });

  it("ends the streams of the instance that missed trimmed entries, and they resume with reset", async () => {
    assert.equal((await writer.postWebhook([1, 2, 3].map((id) => gristRow(id)))).status, 200);
    const stream = await openSse(`${reader.url}/events`);
    const snapshot = await stream.waitFor(
      (message) =>
        message.event === "snapshot" &&
        (message.json as { records: unknown[] }).records.length === 3,
    );
    const lastSeen = snapshot.id as string;

    proxy.cut();
    await waitFor("the reader to lose Redis", () => !reader.relay.store.isReady(), 10_000);
    for (let id = 4; id <= 10; id++)
      assert.equal((await writer.postWebhook([gristRow(id)])).status, 200);
    const dropped = await writer.relay.store.prune({ maxEvents: 2, maxAgeMs: 1e12 }, Date.now());
    assert.ok(dropped >= 5, `retention dropped ${dropped} events the reader never read`);

    proxy.restore();
    await stream.ended;
    const live = stream.messages.filter((message) => message.event.startsWith("record."));
    assert.deepEqual(live, [], "no event after the gap reached the old stream");

    // A browser retries until the relay is ready again; the test waits for it instead.
    await waitFor("the reader to be ready again", () => reader.relay.store.isReady(), 10_000);
    const resumed = await openSse(`${reader.url}/events`, { "Last-Event-ID": lastSeen });
    try {
      const first = await resumed.waitFor((message) => message.event !== "heartbeat");
      assert.equal(first.event, "reset");
      const fresh = await resumed.waitFor((message) => message.event === "snapshot");
      assert.equal((fresh.json as { records: unknown[] }).records.length, 10);
    } finally {
      resumed.close();
    }
  });
});
