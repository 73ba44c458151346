import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CuttableProxy, ThrowawayRedis, uniqueTestPrefix } from "../../test/support/redis.ts";
import { RedisConnection } from "../store/redis-connection.ts";
import { RedisStreamSlots } from "./redis-stream-slots.ts";

describe("RedisStreamSlots", () => {
  let redis: ThrowawayRedis;
  const started: RedisStreamSlots[] = [];

  before(async () => {
    redis = await ThrowawayRedis.start();
  });
  after(async () => {
    await Promise.all(started.map((slots) => slots.stop()));
    await redis.kill();
  });

  async function slots(prefix: string, url = redis.url, ttlMs = 30_000) {
    const instance = new RedisStreamSlots({ url, keyPrefix: prefix, maxPerAddress: 3, ttlMs });
    await instance.start();
    started.push(instance);
    return instance;
  }

  it("holds one cap per address across two relays", async () => {
    const prefix = uniqueTestPrefix();
    const a = await slots(prefix);
    const b = await slots(prefix);
    const taken = [
      await a.acquire("198.51.100.1"),
      await b.acquire("198.51.100.1"),
      await a.acquire("198.51.100.1"),
    ];
    assert.ok(taken.every((release) => release !== null));
    assert.equal(await b.acquire("198.51.100.1"), null);
    assert.equal(await a.acquire("198.51.100.1"), null);
    // Another address has its own slots.
    assert.notEqual(await b.acquire("198.51.100.2"), null);
  });

  it("gives a slot back on release, to any relay", async () => {
    const prefix = uniqueTestPrefix();
    const a = await slots(prefix);
    const b = await slots(prefix);
    const releases = [await a.acquire("x"), await a.acquire("x"), await a.acquire("x")];
    assert.equal(await b.acquire("x"), null);
    releases[0]?.();
    let again: (() => void) | null = null;
    // The ZREM is sent without waiting for it: wait for its effect.
    for (let i = 0; i < 100 && again === null; i++) {
      again = await b.acquire("x");
      if (again === null) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.notEqual(again, null);
  });

  it("frees the slots of a relay cut from Redis once their time to live is over", async () => {
    const prefix = uniqueTestPrefix();
    const proxy = await CuttableProxy.start(redis.url);
    try {
      const doomed = await slots(prefix, proxy.url, 1000);
      const live = await slots(prefix, redis.url, 1000);
      for (let i = 0; i < 3; i++) assert.notEqual(await doomed.acquire("203.0.113.9"), null);
      assert.equal(await live.acquire("203.0.113.9"), null);
      // The doomed relay can no longer refresh nor release: as if it had died.
      proxy.cut();
      const cutAt = Date.now();
      let taken: (() => void) | null = null;
      while (taken === null && Date.now() - cutAt < 10_000) {
        taken = await live.acquire("203.0.113.9");
        if (taken === null) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.notEqual(taken, null, "the dead relay's slots never expired");
      // Not before the time to live: slots refreshed just before the cut last ~1 s after it.
      assert.ok(Date.now() - cutAt >= 300, `freed after ${Date.now() - cutAt} ms`);
    } finally {
      await proxy.close();
    }
  });

  it("keeps a live relay's slots beyond their time to live by refreshing them", async () => {
    const prefix = uniqueTestPrefix();
    // 1.5 s to live, refreshed every 0.5 s: room for a loaded machine to be late.
    const a = await slots(prefix, redis.url, 1500);
    const b = await slots(prefix, redis.url, 1500);
    for (let i = 0; i < 3; i++) assert.notEqual(await a.acquire("192.0.2.5"), null);
    const probe = new RedisConnection({ url: redis.url, role: "test-probe" });
    await probe.connect();
    try {
      const key = `${prefix}streams-per-address:192.0.2.5`;
      const expiries = async () =>
        ((await probe.send(["ZRANGE", key, "0", "-1", "WITHSCORES"])) as string[])
          .filter((_, i) => i % 2 === 1)
          .map(Number);
      const redisNow = async () => {
        const [seconds, micros] = (await probe.send(["TIME"])) as [string, string];
        return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      };
      const firstExpiry = Math.max(...(await expiries()));
      // Wait, on Redis's clock, until the first expiry has passed.
      while ((await redisNow()) <= firstExpiry + 50)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const now = await redisNow();
      assert.ok(
        (await expiries()).every((expiry) => expiry > now),
        "slots not refreshed",
      );
      assert.equal(await b.acquire("192.0.2.5"), null);
    } finally {
      await probe.close();
    }
  });
});
