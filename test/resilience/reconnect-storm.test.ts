import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startRelayProcess } from "../support/relay-process.ts";
import { gristRow } from "../support/test-relay.ts";
import { positionOf, RawSse, range, recordIds } from "./raw-sse.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-storm-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** This process opens one socket per client; the relay runs in another process. */
function clientBudget(wanted: number): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const hard = Number(line?.split(/\s+/)[4] ?? 1024);
  return Number.isFinite(hard) ? Math.min(wanted, hard - 300) : wanted;
}

async function post(url: string, rows: number[]): Promise<void> {
  for (const row of rows) {
    const response = await fetch(`${url}/webhooks/grist`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([gristRow(row)]),
    });
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
}

describe("a reconnection storm", () => {
  it("resumes 2,000 clients reconnecting at once after a restart, with no gap", async (t) => {
    const count = clientBudget(2000);
    if (count < 2000) t.diagnostic(`file descriptor limit: ${count} clients instead of 2,000`);
    const env = { DATA_DIR: join(dir, "data"), MAX_STREAMS: "5000", MAX_STREAMS_PER_IP: "5000" };
    const first = await startRelayProcess(env);
    const port = first.port;
    await post(first.url, range(1, 10));

    const clients: RawSse[] = [];
    for (let i = 0; i < count; i += 200) {
      const batch = Array.from({ length: Math.min(200, count - i) }, () => new RawSse({ port }));
      await Promise.all(
        batch.map((c) => c.waitUntil(() => c.frames.length > 0, 20_000, "snapshot")),
      );
      clients.push(...batch);
    }
    await post(first.url, range(11, 20));
    const at = (n: number) => (c: RawSse) => positionOf(c.lastId) === n;
    await Promise.all(clients.map((c) => c.waitUntil(() => at(20)(c), 20_000, "id 20")));

    // A deploy: the relay stops (streams end with a retry hint) and comes back on its port.
    assert.equal(await first.kill("SIGTERM"), 0);
    await Promise.all(clients.map((c) => c.ended));
    const second = await startRelayProcess({ ...env, PORT: String(port) });
    try {
      // Everyone at once, while new events arrive.
      const resumed = clients.map((c) => new RawSse({ port, lastEventId: c.lastId }));
      await post(second.url, range(21, 30));
      await Promise.all(resumed.map((r) => r.waitUntil(() => at(30)(r), 60_000, "id 30")));
      clients.forEach((before, i) => {
        const again = resumed[i] as RawSse;
        assert.equal(again.status, 200, `client ${i} was let back in`);
        assert.equal(before.frames[0]?.event, "snapshot");
        assert.equal(positionOf(before.frames[0]?.id), 10);
        assert.ok(!again.frames.some((f) => f.event === "snapshot" || f.event === "reset"));
        assert.deepEqual(
          [...recordIds(before.frames), ...recordIds(again.frames)],
          range(11, 30),
          `client ${i}: every event once, in order`,
        );
      });
      for (const r of resumed) r.close();
    } finally {
      assert.equal(await second.kill("SIGTERM"), 0);
    }
  });
});
