/**
 * MAX_STREAMS_PER_IP with two relays on one Redis: the cap holds for the deployment, not
 * once per relay (which would let a client open twice as many streams).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ThrowawayRedis, uniqueTestPrefix } from "../support/redis.ts";
import { openSse, type SseConnection } from "../support/sse-client.ts";
import { startTestRelay, type TestRelay } from "../support/test-relay.ts";

describe("per-address stream limit with two relays on Redis", () => {
  let redis: ThrowawayRedis;
  let a: TestRelay;
  let b: TestRelay;
  const streams: SseConnection[] = [];

  before(async () => {
    redis = await ThrowawayRedis.start();
    const env = {
      STORE: "redis",
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniqueTestPrefix(),
      MAX_STREAMS_PER_IP: "2",
    };
    a = await startTestRelay({ env });
    b = await startTestRelay({ env });
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await Promise.all([a?.close(), b?.close()]);
    await redis?.kill();
  });

  async function open(relay: TestRelay): Promise<SseConnection> {
    const stream = await openSse(`${relay.url}/events`);
    streams.push(stream);
    return stream;
  }

  it("refuses the third stream of an address that holds one stream on each relay", async () => {
    assert.equal((await open(a)).status, 200);
    const onB = await open(b);
    assert.equal(onB.status, 200);
    const third = await open(a);
    assert.equal(third.status, 429);
    assert.equal(a.relay.hub.size, 1);

    // Once the stream on B ends, its slot serves a stream on A.
    onB.close();
    let retried = 429;
    const deadline = Date.now() + 10_000;
    while (retried !== 200 && Date.now() < deadline) {
      const attempt = await open(a);
      retried = attempt.status;
      if (retried !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(retried, 200);
    assert.equal(a.relay.hub.size, 2);
  });
});
