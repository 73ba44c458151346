import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startRelayProcess } from "../support/relay-process.ts";
import { gristRow } from "../support/test-relay.ts";
import { positionOf, RawSse, range, recordIds } from "./raw-sse.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-kill-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("a relay killed with SIGKILL during a webhook burst", () => {
  it("keeps every event it acknowledged with 200 and gives resumed clients every event once", async () => {
    const dataDir = join(dir, "data");
    const first = await startRelayProcess({ DATA_DIR: dataDir });
    const port = first.port;
    const clients = Array.from({ length: 20 }, () => new RawSse({ port }));
    await Promise.all(
      clients.map((c) => c.waitUntil(() => c.frames.length > 0, 10_000, "snapshot")),
    );

    // Four senders at once, like several Grist documents; each row is a new record.
    const acknowledged: number[] = [];
    let nextRow = 1;
    const sender = async () => {
      for (let row = nextRow++; row <= 3000; row = nextRow++) {
        try {
          const response = await fetch(`${first.url}/webhooks/grist`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify([gristRow(row)]),
          });
          await response.arrayBuffer();
          if (response.status === 200) acknowledged.push(row);
        } catch {
          return; // the process is gone
        }
      }
    };
    const burst = Promise.all([sender(), sender(), sender(), sender()]);
    // Every client is live and has events before the kill, so each one resumes by id.
    await Promise.all(
      clients.map((c) => c.waitUntil(() => recordIds(c.frames).length >= 50, 20_000, "50 events")),
    );
    assert.equal(await first.kill("SIGKILL"), null, "killed, not exited");
    await burst;
    await Promise.all(clients.map((c) => c.ended));
    assert.ok(acknowledged.length >= 50);

    const second = await startRelayProcess({ DATA_DIR: dataDir, PORT: String(port) });
    try {
      const { records, lastEventId } = (await (
        await fetch(`${second.url}/api/interventions`)
      ).json()) as { records: { id: number }[]; lastEventId: string };
      const stored = new Set(records.map((record) => record.id));
      const lost = acknowledged.filter((row) => !stored.has(row));
      assert.deepEqual(lost, [], "every row acknowledged with 200 survived the kill");

      const last = positionOf(lastEventId);
      const resumed = clients.map((c) => new RawSse({ port, lastEventId: c.lastId }));
      // A client that had already received the last stored event gets no replayed frame.
      await Promise.all(
        resumed.map((r, i) =>
          r.waitUntil(() => (r.lastId ?? clients[i]?.lastId) === lastEventId, 20_000, `id ${last}`),
        ),
      );
      clients.forEach((before, i) => {
        const resumedFrames = (resumed[i] as RawSse).frames;
        assert.ok(!resumedFrames.some((f) => f.event === "snapshot"), "resumed, not reset");
        assert.deepEqual(
          [...recordIds(before.frames), ...recordIds(resumedFrames)],
          range(1, last),
          `client ${i}: every event once, in order, across the kill`,
        );
      });
      for (const r of resumed) r.close();
    } finally {
      assert.equal(await second.kill("SIGTERM"), 0, "SIGTERM stops cleanly");
      assert.match(second.output(), /relay stopped/);
    }
  });
});
