/**
 * Issue 12, row 6: on SIGTERM the relay keeps its port open for SHUTDOWN_DRAIN_MS, answering
 * /readyz, webhooks and new streams with 503 + Retry-After, then closes; every webhook it
 * acknowledged is stored.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startRelayProcess } from "../support/relay-process.ts";
import { gristRow } from "../support/test-relay.ts";

const SECRET = "graceful-drain-secret";

async function post(url: string, id: number): Promise<number> {
  try {
    const response = await fetch(`${url}/webhooks/grist`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}` },
      body: JSON.stringify([gristRow(id)]),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 0; // connection refused or reset
  }
}

describe("graceful shutdown", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-drain-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("answers 503 with Retry-After during the drain instead of refusing connections, and keeps every acknowledged webhook", async () => {
    const env = { DATA_DIR: dataDir, WEBHOOK_SECRET: SECRET, SHUTDOWN_DRAIN_MS: "1500" };
    const relay = await startRelayProcess(env);
    const acknowledged: number[] = [];
    let stopLoad = false;
    let next = 1;
    // Load: four senders posting one row each, as fast as answers come, until refused.
    const senders = Array.from({ length: 4 }, async () => {
      while (!stopLoad) {
        const id = next++;
        const status = await post(relay.url, id);
        if (status === 200) acknowledged.push(id);
        if (status === 0) return;
      }
    });
    while (acknowledged.length < 20) await new Promise((resolve) => setTimeout(resolve, 10));

    const exited = relay.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ready = await fetch(`${relay.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.ok(ready.headers.get("retry-after"));
    assert.equal(((await ready.json()) as { shuttingDown: boolean }).shuttingDown, true);
    const webhook = await fetch(`${relay.url}/webhooks/grist`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}` },
      body: JSON.stringify([gristRow(100_000)]),
    });
    assert.equal(webhook.status, 503);
    assert.ok(webhook.headers.get("retry-after"));
    assert.equal(
      ((await webhook.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_SHUTTING_DOWN",
    );
    const stream = await fetch(`${relay.url}/events`);
    assert.equal(stream.status, 503);
    assert.ok(stream.headers.get("retry-after"));
    await stream.arrayBuffer();

    assert.equal(await exited, 0, "SIGTERM stops cleanly");
    stopLoad = true;
    await Promise.all(senders);

    const again = await startRelayProcess(env);
    try {
      const stored = (await (await fetch(`${again.url}/api/interventions`)).json()) as {
        records: { id: number }[];
      };
      const ids = new Set(stored.records.map((record) => record.id));
      const lost = acknowledged.filter((id) => !ids.has(id));
      assert.deepEqual(lost, [], `${acknowledged.length} acknowledged, all stored`);
    } finally {
      await again.kill("SIGTERM");
    }
  });
});
