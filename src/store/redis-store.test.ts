import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  commitRecords,
  describeEventStoreContract,
  sampleRecord,
} from "../../test/support/event-store-contract.ts";
import {
  CuttableProxy,
  countKeys,
  deleteKeys,
  startTestRedis,
  ThrowawayRedis,
  uniqueTestPrefix,
} from "../../test/support/redis.ts";
import { waitFor } from "../../test/support/wait.ts";
import type { RelayEvent } from "../domain/events.ts";
import { RedisConnection } from "./redis-connection.ts";
import { storeKeys } from "./redis-keys.ts";
import { RedisStore, type RedisStoreOptions } from "./redis-store.ts";
import { StoreUnavailableError } from "./store-unavailable.ts";

const prefixes: string[] = [];
const opened: RedisStore[] = [];
// This file's own redis-server (or REDIS_URL), stopped last by the hook below.
const fileRedis = await startTestRedis();
after(async () => {
  // A failed assertion skips a test's own close: close here too, or sockets keep node alive.
  await Promise.all(opened.map((store) => store.close()));
  for (const prefix of prefixes) await deleteKeys(fileRedis.url, prefix);
  await fileRedis.stop();
});

function freshPrefix(): string {
  const prefix = uniqueTestPrefix();
  prefixes.push(prefix);
  return prefix;
}

async function open(options: Partial<RedisStoreOptions> = {}): Promise<RedisStore> {
  const store = await RedisStore.open({
    url: fileRedis.url,
    ...options,
    keyPrefix: options.keyPrefix ?? freshPrefix(),
  });
  opened.push(store);
  return store;
}

/** Collects the ids a store's listeners receive. */
function listen(store: RedisStore): string[] {
  const seen: string[] = [];
  store.onAppended((events) => {
    for (const event of events) seen.push(event.id);
  });
  return seen;
}

describeEventStoreContract("redis", () => open());

describe("redis store across instances", () => {
  it("stores each event once when two instances commit the same batches at the same moment", async () => {
    const keyPrefix = freshPrefix();
    const a = await open({ keyPrefix });
    const b = await open({ keyPrefix });
    const committed: RelayEvent[] = [];
    for (const statut of ["En attente", "En cours", "Terminée"]) {
      const batch = Array.from({ length: 20 }, (_, i) => sampleRecord(i + 1, statut));
      // Each instance also commits the batch in several overlapping pieces, as Grist retries do.
      const results = await Promise.all([
        commitRecords(a, batch),
        commitRecords(b, batch),
        commitRecords(a, batch.slice(0, 10)),
        commitRecords(b, batch.slice(5, 15)),
      ]);
      committed.push(...results.flat());
    }
    assert.equal(committed.length, 60, "20 records × 3 statuses, each change stored once");
    const stored = await a.readLatest(1000);
    assert.deepEqual(
      stored.map((event) => event.id),
      committed.map((event) => event.id).sort((x, y) => a.compareIds(x, y)),
    );
    const perRecordAndStatus = new Set(stored.map((e) => `${e.record.id}/${e.record.statut}`));
    assert.equal(perRecordAndStatus.size, 60, "no change appears twice");
    assert.ok((await b.snapshot()).records.every((record) => record.statut === "Terminée"));
    await Promise.all([a.close(), b.close()]);
  });

  it("keeps the first outbox entry when two instances write the same key at once", async () => {
    const keyPrefix = freshPrefix();
    const a = await open({ keyPrefix });
    const b = await open({ keyPrefix });
    const commitWithAlert = (store: RedisStore, from: string) =>
      store.commit(
        ["1"],
        () => [{ type: "record.added", source: "webhook", record: sampleRecord(1) }],
        {
          outbox: () => [{ key: "1:tchap", destination: "tchap", payload: { from } }],
        },
      );
    await Promise.all([commitWithAlert(a, "a"), commitWithAlert(b, "b")]);
    const items = await a.list({ limit: 10 });
    assert.equal(items.length, 1);
    assert.equal((await b.readLatest(10)).length, 2, "both decisions were appended");
    await Promise.all([a.close(), b.close()]);
  });

  it("tells listeners of instance B about events committed on A, in id order", async () => {
    const keyPrefix = freshPrefix();
    const a = await open({ keyPrefix });
    const b = await open({ keyPrefix });
    const seenOnB = listen(b);
    const committed: string[] = [];
    for (let round = 0; round < 5; round++) {
      const events = await commitRecords(a, [
        sampleRecord(round * 2 + 1),
        sampleRecord(round * 2 + 2),
      ]);
      committed.push(...events.map((event) => event.id));
    }
    await waitFor("B to see every event", () => seenOnB.length >= committed.length);
    assert.deepEqual(seenOnB, committed);
    await Promise.all([a.close(), b.close()]);
  });

  it("starts listeners after the newest event so a new instance does not replay history", async () => {
    const keyPrefix = freshPrefix();
    const a = await open({ keyPrefix });
    const [old] = await commitRecords(a, [sampleRecord(1)]);
    const b = await open({ keyPrefix });
    const replaying = await open({ keyPrefix, followAfterId: "0-0" });
    const seenOnB = listen(b);
    const seenReplaying = listen(replaying);
    const [fresh] = await commitRecords(a, [sampleRecord(2)]);
    await waitFor(
      "both to see the new event",
      () => seenOnB.length > 0 && seenReplaying.length > 1,
    );
    assert.deepEqual(seenOnB, [fresh?.id]);
    assert.deepEqual(seenReplaying, [old?.id, fresh?.id]);
    await Promise.all([a.close(), b.close(), replaying.close()]);
  });

  it("skips a stream entry it cannot read and keeps delivering the next ones", async () => {
    const keyPrefix = freshPrefix();
    const store = await open({ keyPrefix });
    const seen = listen(store);
    const raw = new RedisConnection({ url: fileRedis.url, role: "test-raw" });
    await raw.connect();
    await raw.send(["XADD", storeKeys(keyPrefix).events, "*", "other", "x"]);
    await raw.close();
    const [event] = await commitRecords(store, [sampleRecord(1)]);
    await waitFor("the event after the foreign entry", () => seen.length > 0);
    assert.deepEqual(seen, [event?.id]);
    await store.close();
  });
});

describe("redis store history", () => {
  it("reports a gap for ids removed by the approximate length cap and serves the rest", async () => {
    const store = await open({ maxLenApprox: 50 });
    const events: RelayEvent[] = [];
    for (let i = 0; i < 6; i++) {
      events.push(
        ...(await commitRecords(
          store,
          Array.from({ length: 50 }, (_, j) => sampleRecord(i * 50 + j + 1)),
        )),
      );
    }
    const retained = await store.readLatest(1000);
    assert.ok(retained.length < events.length, "the cap removed old entries");
    assert.ok(retained.length >= 50, "never below the cap");
    assert.equal((await store.readAfter(events[0]?.id as string, 10)).kind, "gap");
    const firstKept = retained[0] as RelayEvent;
    const fromFirstKept = await store.readAfter(firstKept.id, 1000);
    assert.deepEqual(
      fromFirstKept.kind === "events" ? fromFirstKept.events.map((event) => event.id) : null,
      retained.slice(1).map((event) => event.id),
    );
    assert.equal((await store.snapshot()).records.length, 300, "trimming never touches state");
    await store.close();
  });

  it("stores the event JSON without id and time and rebuilds both from the entry id", async () => {
    const keyPrefix = freshPrefix();
    const store = await open({ keyPrefix });
    const [event] = await commitRecords(store, [sampleRecord(1)]);
    const raw = new RedisConnection({ url: fileRedis.url, role: "test-raw" });
    await raw.connect();
    const [[id, fields]] = (await raw.send(["XRANGE", storeKeys(keyPrefix).events, "-", "+"])) as [
      [string, string[]],
    ];
    await raw.close();
    assert.equal(`${store.epoch}.${id}`, event?.id);
    assert.deepEqual(fields.slice(2), ["epoch", store.epoch]);
    const stored = JSON.parse(fields[1] as string);
    assert.equal(stored.id, undefined);
    assert.equal(stored.time, undefined);
    assert.equal(event?.time, new Date(Number(id.split("-")[0])).toISOString());
    assert.deepEqual((await store.readLatest(1))[0], event);
    await store.close();
  });

  it("leaves no key behind once its prefix is cleaned up", async () => {
    const keyPrefix = uniqueTestPrefix();
    const store = await open({ keyPrefix });
    await store.commit(
      ["1"],
      () => [{ type: "record.added", source: "webhook", record: sampleRecord(1) }],
      {
        outbox: () => [{ key: "k", destination: "tchap", payload: {} }],
      },
    );
    await store.close();
    assert.ok((await countKeys(fileRedis.url, keyPrefix)) > 0);
    await deleteKeys(fileRedis.url, keyPrefix);
    assert.equal(await countKeys(fileRedis.url, keyPrefix), 0);
  });
});

describe("redis store after its keys were deleted", () => {
  it("starts a new epoch, so ids of the lost history are foreign, not positions", async () => {
    const redis = await ThrowawayRedis.start();
    try {
      const keyPrefix = freshPrefix();
      const store = await open({ url: redis.url, keyPrefix });
      const before = await commitRecords(
        store,
        [1, 2, 3].map((id) => sampleRecord(id)),
      );
      const oldEpoch = store.epoch;
      // FLUSHALL of this store: every key under its prefix goes, the epoch key included.
      assert.ok((await deleteKeys(redis.url, keyPrefix)) > 0);
      const after = await commitRecords(
        store,
        [1, 2, 3, 4, 5].map((id) => sampleRecord(id, "En cours")),
      );
      assert.equal(after.length, 5, "the emptied store sees every row as new");
      assert.notEqual(store.epoch, oldEpoch);
      assert.ok(after.every((event) => event.id.startsWith(`${store.epoch}.`)));
      assert.deepEqual(await store.readAfter(before[0]?.id as string, 10), { kind: "foreign" });
      assert.equal((await store.snapshot()).lastEventId, after[4]?.id);
      await store.close();
    } finally {
      await redis.kill();
    }
  });
});

describe("redis store during a Redis outage", () => {
  it("rejects commits with a 503 while Redis is down, then resumes listeners without gap or duplicate", async () => {
    const redis = await ThrowawayRedis.start();
    const options = { url: redis.url, keyPrefix: "outage:", maxReconnectDelayMs: 200 };
    const writer = await open(options);
    const reader = await open(options);
    try {
      const seen = listen(reader);
      const before = await commitRecords(writer, [sampleRecord(1), sampleRecord(2)]);
      await waitFor("the reader to follow", () => seen.length === 2);

      await redis.kill();
      await waitFor("both stores to notice", () => !writer.isReady() && !reader.isReady());
      const refused = await commitRecords(writer, [sampleRecord(3)]).catch((error) => error);
      assert.ok(refused instanceof StoreUnavailableError, String(refused));

      // Memory-only server: it comes back empty, as after a loss, and the writer starts over
      // with ids still above what the reader delivered (the Redis clock moved on).
      await redis.restart();
      await waitFor("both stores to reconnect", () => writer.isReady() && reader.isReady());
      const afterOutage = await commitRecords(writer, [sampleRecord(3), sampleRecord(4)]);
      await waitFor("the reader to resume", () => seen.length >= 4);
      assert.deepEqual(
        seen,
        [...before, ...afterOutage].map((event) => event.id),
      );
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await redis.kill();
    }
  });

  it("delivers the events appended while it was cut off from Redis, once each, in order", async () => {
    const keyPrefix = freshPrefix();
    const proxy = await CuttableProxy.start(fileRedis.url);
    const writer = await open({ keyPrefix });
    const reader = await open({ url: proxy.url, keyPrefix, maxReconnectDelayMs: 100 });
    try {
      const seen = listen(reader);
      const first = await commitRecords(writer, [sampleRecord(1)]);
      await waitFor("the reader to follow", () => seen.length === 1);

      proxy.cut();
      await waitFor("the reader to notice", () => !reader.isReady());
      const during: RelayEvent[] = [];
      for (let i = 2; i <= 6; i++) during.push(...(await commitRecords(writer, [sampleRecord(i)])));
      assert.equal(seen.length, 1, "nothing reached the reader while cut off");
      const refused = await commitRecords(reader, [sampleRecord(7)]).catch((error) => error);
      assert.ok(refused instanceof StoreUnavailableError, "the cut-off instance refuses writes");

      proxy.restore();
      await waitFor("the reader to catch up", () => seen.length >= 6);
      const later = await commitRecords(writer, [sampleRecord(8)]);
      await waitFor("the next event", () => seen.length >= 7);
      assert.deepEqual(
        seen,
        [...first, ...during, ...later].map((event) => event.id),
      );
      await waitFor("the reader to be ready again", () => reader.isReady());
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await proxy.close();
    }
  });

  it("closes without waiting for Redis to come back", async () => {
    const redis = await ThrowawayRedis.start();
    const store = await RedisStore.open({ url: redis.url, keyPrefix: "closing:" });
    try {
      await redis.kill();
      await waitFor("the store to notice", () => !store.isReady());
      // A close that waited for Redis would never settle and the file would time out.
      await store.close();
      assert.equal(store.isReady(), false);
    } finally {
      await store.close();
    }
  });

  it("fails to open when Redis cannot be reached at startup", async () => {
    const redis = await ThrowawayRedis.start();
    await redis.kill();
    await assert.rejects(
      RedisStore.open({ url: redis.url, initialAttempts: 1, maxReconnectDelayMs: 50 }),
    );
  });
});
