/**
 * Issue 12: with several relays on one Redis, a reconciliation read that began before a
 * webhook reached ANOTHER instance does not undo that webhook.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildColumnMapping } from "../../src/domain/column-mapping.ts";
import { Ingestor } from "../../src/grist/ingest.ts";
import { NOOP_METRICS } from "../../src/metrics/metrics.ts";
import { RedisStore } from "../../src/store/redis-store.ts";
import { ThrowawayRedis } from "../support/redis.ts";
import { gristRow } from "../support/test-relay.ts";

function row(statut: string) {
  const { id, ...columns } = gristRow(1, { Statut: statut });
  return { id: id as number, columns };
}

describe("the stale-read shield across instances", () => {
  let redis: ThrowawayRedis;
  let first: RedisStore;
  let second: RedisStore;
  before(async () => {
    redis = await ThrowawayRedis.start();
    first = await RedisStore.open({ url: redis.url, keyPrefix: "shield:" });
    second = await RedisStore.open({ url: redis.url, keyPrefix: "shield:" });
  });
  after(async () => {
    await Promise.all([first.close(), second.close()]);
    await redis.kill();
  });

  it("keeps a webhook taken by one instance when another reconciles with an older read", async () => {
    const mapping = buildColumnMapping();
    const webhooks = new Ingestor({ store: first, mapping, metrics: NOOP_METRICS });
    const reconciler = new Ingestor({ store: second, mapping, metrics: NOOP_METRICS });
    await webhooks.ingestRows([row("En attente")], { source: "webhook" });

    // The reconciling instance reads Grist ("En attente")…
    const readStartedAt = Date.now();
    // …a webhook reaches the other instance meanwhile…
    const changed = await webhooks.ingestRows([row("En cours")], { source: "webhook" });
    assert.equal(changed.events.length, 1);
    // …then the older read is ingested.
    const result = await reconciler.ingestRows([row("En attente")], {
      source: "reconciliation",
      readStartedAt,
    });
    assert.equal(result.events.length, 0, "the older read changed nothing");
    const { records } = await second.snapshot();
    assert.equal(records[0]?.statut, "En cours");
    // And the row is not taken for deleted by a read that began before it changed.
    const removed = await reconciler.removeMissing(new Set(), "reconciliation", readStartedAt);
    assert.deepEqual(removed, []);
  });
});
