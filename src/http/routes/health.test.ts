import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openSse } from "../../../test/support/sse-client.ts";
import { gristRow, startTestRelay } from "../../../test/support/test-relay.ts";

describe("health and metrics", () => {
  it("is live and ready, then not ready while shutting down", async () => {
    const relay = await startTestRelay();
    assert.equal((await fetch(`${relay.url}/livez`)).status, 200);
    assert.equal((await fetch(`${relay.url}/healthz`)).status, 200);
    const ready = await fetch(`${relay.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready", store: "ok", shuttingDown: false });
    relay.relay.state.shuttingDown = true;
    assert.equal((await fetch(`${relay.url}/readyz`)).status, 503);
    const webhook = await relay.postWebhook([gristRow(1)]);
    assert.equal(webhook.status, 503, "Grist keeps the batch and retries elsewhere or later");
    assert.ok(webhook.headers.get("retry-after"));
    relay.relay.state.shuttingDown = false;
    await relay.close();
  });

  it("exposes Prometheus metrics for streams, events, latency and webhook errors", async () => {
    const relay = await startTestRelay({ env: { WEBHOOK_SECRET: "metrics-test-secret-1234" } });
    const stream = await openSse(`${relay.url}/events`);
    await stream.waitFor((m) => m.event === "snapshot");
    await relay.postWebhook([gristRow(1)]);
    await stream.waitFor((m) => m.event === "record.added");
    await fetch(`${relay.url}/webhooks/grist`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "[]",
    });
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    assert.match(text, /relay_sse_clients 1/);
    assert.match(text, /relay_events_ingested_total\{source="webhook"\} 1/);
    assert.match(text, /relay_events_delivered_total 1/);
    assert.match(text, /relay_delivery_latency_seconds_count 1/);
    assert.match(
      text,
      /relay_webhook_requests_total\{status="401",code="RELAY_ERR_WEBHOOK_SECRET"\} 1/,
    );
    assert.match(text, /relay_message_bytes_count 1/);
    stream.close();
    await relay.close();
  });

  it("ends open streams with a retry hint when stopping", async () => {
    const relay = await startTestRelay({ env: { RETRY_MS: "2000" } });
    const stream = await openSse(`${relay.url}/events`);
    await stream.waitFor((m) => m.event === "snapshot");
    const stopped = relay.close();
    await stream.ended;
    await stopped;
    assert.ok((stream.retry ?? 0) >= 2000, "a spread retry hint arrived before the end");
  });
});
