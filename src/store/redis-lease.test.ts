import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  CuttableProxy,
  deleteKeys,
  startTestRedis,
  ThrowawayRedis,
  uniqueTestPrefix,
} from "../../test/support/redis.ts";
import { waitFor } from "../../test/support/wait.ts";
import { RedisLease, type RedisLeaseOptions } from "./redis-lease.ts";

const prefixes: string[] = [];
const leases: RedisLease[] = [];
// This file's own redis-server (or REDIS_URL), stopped last by the hook below.
const fileRedis = await startTestRedis();
after(async () => {
  await Promise.all(leases.map((lease) => lease.stop()));
  for (const prefix of prefixes) await deleteKeys(fileRedis.url, prefix);
  await fileRedis.stop();
});

function lease(keyPrefix: string, options: Partial<RedisLeaseOptions> = {}): RedisLease {
  const created = new RedisLease({
    url: fileRedis.url,
    keyPrefix,
    name: "reconciliation",
    ttlMs: 600,
    renewEveryMs: 150,
    ...options,
  });
  leases.push(created);
  return created;
}

function freshPrefix(): string {
  const prefix = uniqueTestPrefix();
  prefixes.push(prefix);
  return prefix;
}

describe("redis lease", () => {
  it("gives the lease to exactly one of the instances that start together", async () => {
    const prefix = freshPrefix();
    const instances = [lease(prefix), lease(prefix), lease(prefix)];
    await Promise.all(instances.map((instance) => instance.start()));
    assert.equal(instances.filter((instance) => instance.isHolder()).length, 1);
  });

  it("runs exclusive work only on the holder and returns undefined elsewhere", async () => {
    const prefix = freshPrefix();
    const a = lease(prefix);
    const b = lease(prefix);
    await a.start();
    await b.start();
    const ran: string[] = [];
    const results = await Promise.all([
      a.runExclusive(() => {
        ran.push("a");
        return "done by a";
      }),
      b.runExclusive(() => {
        ran.push("b");
        return "done by b";
      }),
    ]);
    assert.deepEqual(ran, ["a"]);
    assert.deepEqual(results, ["done by a", undefined]);
  });

  it("moves to another instance within about a ttl when the holder dies, never with two holders", async () => {
    const prefix = freshPrefix();
    const a = lease(prefix);
    const b = lease(prefix);
    await a.start();
    await b.start();
    assert.ok(a.isHolder() && !b.isHolder());
    let twoHolders = false;
    const watch = setInterval(() => {
      if (a.isHolder() && b.isHolder()) twoHolders = true;
    }, 5);
    try {
      // Dying holder: renewals stop, nothing is released, the key has to expire.
      await a.stop({ release: false });
      assert.equal(b.isHolder(), false, "the key is still there, nobody else may hold it yet");
      await waitFor("b to take over", () => b.isHolder(), 600 + 150 + 1000);
    } finally {
      clearInterval(watch);
    }
    assert.equal(twoHolders, false);
    assert.equal(await b.runExclusive(() => "b works"), "b works");
  });

  it("never has two holders when the holder is alive but cut off from Redis", async () => {
    const prefix = freshPrefix();
    const proxy = await CuttableProxy.start(fileRedis.url);
    const a = lease(prefix, { url: proxy.url });
    const b = lease(prefix);
    let watch: ReturnType<typeof setInterval> | undefined;
    try {
      await a.start();
      await b.start();
      assert.ok(a.isHolder());
      let twoHolders = false;
      watch = setInterval(() => {
        if (a.isHolder() && b.isHolder()) twoHolders = true;
      }, 2);
      proxy.cut();
      // a still believes it holds until its own validity ends; b must wait for the key to expire.
      await waitFor("b to take over", () => b.isHolder(), 600 + 150 + 1000);
      assert.equal(twoHolders, false);
      assert.equal(a.isHolder(), false);
      // The watch goes on once a is back: holding again even for one renewal would show.
      proxy.restore();
      // Two SET NX from a reached Redis: a sends the next only once the previous answer (nil, b
      // holds the key) was handled, so a has tried and seen the lease taken.
      const attempts = () => proxy.sentSinceRestore.match(/\r\nNX\r\n/g)?.length ?? 0;
      await waitFor("a to try the lease twice once back online", () => attempts() >= 2, 3000);
      clearInterval(watch);
      assert.equal(twoHolders, false, "never two holders, before or after a is back");
      assert.equal(a.isHolder(), false, "back online, a finds the lease taken and stays out");
      assert.ok(b.isHolder());
    } finally {
      clearInterval(watch);
      await a.stop();
      await proxy.close();
    }
  });

  it("hands the lease over at once when the holder stops and releases it", async () => {
    const prefix = freshPrefix();
    const a = lease(prefix, { ttlMs: 60_000, renewEveryMs: 150 });
    const b = lease(prefix, { ttlMs: 60_000, renewEveryMs: 150 });
    await a.start();
    await b.start();
    await a.stop();
    // Well before the 60 s ttl: only a release explains the takeover.
    await waitFor("b to take over", () => b.isHolder(), 2000);
  });

  it("aborts the running work's signal when the lease is lost", async () => {
    const redis = await ThrowawayRedis.start();
    const holder = new RedisLease({
      url: redis.url,
      name: "alerts",
      ttlMs: 400,
      renewEveryMs: 100,
    });
    try {
      await holder.start();
      assert.ok(holder.isHolder());
      const outcome = holder.runExclusive(
        (signal) =>
          new Promise<string>((resolve) => {
            signal.addEventListener("abort", () => resolve("aborted"));
          }),
      );
      await redis.kill();
      assert.equal(await outcome, "aborted");
      assert.equal(holder.isHolder(), false, "no renewal without Redis, so no lease");
    } finally {
      await holder.stop();
      await redis.kill();
    }
  });
});
