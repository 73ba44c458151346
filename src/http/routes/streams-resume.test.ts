/**
 * Resuming with an id of another history of the store (issue 10): a store replaced by a new
 * one (memory on restart, SQLite in a new DATA_DIR, Redis after its keys were deleted) starts a
 * new epoch, and the stream answers `reset` then a snapshot instead of reading the old id as a
 * position in the new history.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { deleteKeys, ThrowawayRedis, uniqueTestPrefix } from "../../../test/support/redis.ts";
import { openSse, type SseMessage } from "../../../test/support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../../test/support/test-relay.ts";

/** The last event id a relay's store gave, read over the API as a client would. */
async function lastEventId(relay: TestRelay): Promise<string> {
  const body = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
    lastEventId: string;
  };
  return body.lastEventId;
}

/** Three events in the old history, five in the new: old positions all exist in the new one. */
const OLD_ROWS = [1, 2, 3].map((id) => gristRow(id, { Agent: "Ancien Agent" }));
const NEW_ROWS = [11, 12, 13, 14, 15].map((id) => gristRow(id));

function assertResetThenNewState(
  messages: SseMessage[],
  snapshot: SseMessage,
  oldId: string,
): void {
  assert.deepEqual(
    messages.slice(0, 2).map((m) => m.event),
    ["reset", "snapshot"],
  );
  assert.deepEqual(messages[0]?.json, { reason: "foreign-id", lastEventId: oldId });
  const records = (snapshot.json as { records: { id: number }[] }).records;
  assert.deepEqual(
    records.map((r) => r.id).sort((a, b) => a - b),
    [11, 12, 13, 14, 15],
  );
  assert.ok(!messages.some((m) => m.event.startsWith("record.")), "no event of the old reading");
}

describe("resuming with an id from a previous store", () => {
  const relays: TestRelay[] = [];
  after(async () => {
    for (const relay of relays) await relay.close();
  });

  for (const store of ["memory", "sqlite"] as const) {
    it(`answers reset then a snapshot of the new ${store} store`, async () => {
      const old = await startTestRelay({ env: { STORE: store } });
      relays.push(old);
      await old.postWebhook(OLD_ROWS);
      const oldId = await lastEventId(old);
      await old.close();
      // A restart (memory) or a new, empty DATA_DIR (SQLite): a new store.
      const fresh = await startTestRelay({ env: { STORE: store } });
      relays.push(fresh);
      await fresh.postWebhook(NEW_ROWS);
      const stream = await openSse(`${fresh.url}/events`, { "Last-Event-ID": oldId });
      const snapshot = await stream.waitFor((m) => m.event === "snapshot");
      assertResetThenNewState(stream.messages, snapshot, oldId);
      assert.equal(snapshot.id, await lastEventId(fresh), "resumable in the new history");
      stream.close();
    });
  }

  it("answers reset then a snapshot on the guide's stream too", async () => {
    const old = await startTestRelay();
    relays.push(old);
    await old.postWebhook(OLD_ROWS);
    const oldId = await lastEventId(old);
    const fresh = await startTestRelay();
    relays.push(fresh);
    await fresh.postWebhook(NEW_ROWS);
    const stream = await openSse(`${fresh.url}/webhook/sse-stream`, { "Last-Event-ID": oldId });
    const snapshot = await stream.waitFor((m) => m.event === "snapshot");
    assertResetThenNewState(stream.messages, snapshot, oldId);
    await fresh.postWebhook([gristRow(16)]);
    const next = await stream.waitFor((m) => m.event === "message");
    assert.equal((next.json as { data: { id: number } }).data.id, 16, "then live, as before");
    stream.close();
  });

  it("answers reset then a snapshot on Redis after the store's keys were deleted", async () => {
    const redis = await ThrowawayRedis.start();
    const prefix = uniqueTestPrefix();
    try {
      const relay = await startTestRelay({
        env: { STORE: "redis", REDIS_URL: redis.url, REDIS_KEY_PREFIX: prefix },
      });
      relays.push(relay);
      await relay.postWebhook(OLD_ROWS);
      const oldId = await lastEventId(relay);
      const live = await openSse(`${relay.url}/events`);
      await live.waitFor((m) => m.event === "snapshot");

      // FLUSHALL of this deployment's keys, the relay still running.
      assert.ok((await deleteKeys(redis.url, prefix)) > 0);
      await relay.postWebhook(NEW_ROWS);
      // A stream open across the deletion holds the old history: it is ended, to come back.
      await live.ended;

      const stream = await openSse(`${relay.url}/events`, { "Last-Event-ID": oldId });
      const snapshot = await stream.waitFor((m) => m.event === "snapshot");
      assertResetThenNewState(stream.messages, snapshot, oldId);
      stream.close();
      await relay.close();
      relays.pop();
    } finally {
      await redis.kill();
    }
  });
});
