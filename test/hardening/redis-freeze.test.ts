/**
 * Issue 12, row 2: a Redis that keeps its sockets open but answers nothing (SIGSTOP) makes
 * webhooks, the API and new streams answer 503 RELAY_ERR_STORE_UNAVAILABLE with Retry-After
 * within REDIS_COMMAND_TIMEOUT_MS, /readyz 503 as fast, and everything works again once Redis
 * answers, without restarting the relay.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ThrowawayRedis } from "../support/redis.ts";
import { gristRow, startTestRelay, type TestRelay } from "../support/test-relay.ts";
import { waitFor } from "../support/wait.ts";

const TIMEOUT_MS = 1000;

async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("a frozen Redis", () => {
  let redis: ThrowawayRedis;
  let relay: TestRelay;
  before(async () => {
    redis = await ThrowawayRedis.start();
    relay = await startTestRelay({
      env: {
        STORE: "redis",
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: "freeze:",
        REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS),
      },
    });
  });
  after(async () => {
    redis.thaw();
    await relay.close();
    await redis.kill();
  });

  it("gives 503 with Retry-After within the command timeout, /readyz 503, and recovers without restart", async () => {
    assert.equal((await relay.postWebhook([gristRow(1)])).status, 200);
    assert.equal((await fetch(`${relay.url}/readyz`)).status, 200);

    redis.freeze();
    const frozenAt = performance.now();
    // Bounded by the client too: before the fix this request hung for as long as Redis slept.
    const webhook = await fetch(`${relay.url}/webhooks/grist`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([gristRow(2)]),
      signal: AbortSignal.timeout(4 * TIMEOUT_MS),
    });
    const firstRefusalMs = performance.now() - frozenAt;
    assert.equal(webhook.status, 503);
    assert.ok(webhook.headers.get("retry-after"));
    assert.equal(await errorOf(webhook), "RELAY_ERR_STORE_UNAVAILABLE");

    await waitFor(
      "/readyz to say not ready",
      async () => (await fetch(`${relay.url}/readyz`)).status === 503,
      4 * TIMEOUT_MS,
    );
    const readyzMs = performance.now() - frozenAt;

    const api = await fetch(`${relay.url}/api/interventions`, {
      signal: AbortSignal.timeout(4 * TIMEOUT_MS),
    });
    assert.equal(api.status, 503);
    assert.equal(await errorOf(api), "RELAY_ERR_STORE_UNAVAILABLE");
    // A new stream is refused as JSON before it starts, not left with a lone `retry:`.
    const stream = await fetch(`${relay.url}/events`, {
      signal: AbortSignal.timeout(4 * TIMEOUT_MS),
    });
    assert.equal(stream.status, 503);
    assert.ok(stream.headers.get("retry-after"));
    assert.equal(await errorOf(stream), "RELAY_ERR_STORE_UNAVAILABLE");

    redis.thaw();
    await waitFor(
      "/readyz to say ready again",
      async () => (await fetch(`${relay.url}/readyz`)).status === 200,
      10_000,
    );
    assert.equal((await relay.postWebhook([gristRow(3)])).status, 200);
    const records = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
      records: { id: number }[];
    };
    assert.ok(records.records.some((record) => record.id === 3));
    console.log(
      `# frozen Redis: first 503 after ${Math.round(firstRefusalMs)} ms, /readyz 503 after ${Math.round(readyzMs)} ms (timeout ${TIMEOUT_MS} ms)`,
    );
  });
});
