import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../../test/support/relay-process.ts";
import { gristRow, startTestRelay } from "../../test/support/test-relay.ts";
import { SQLITE_FILE_NAME } from "./backup-command.ts";

describe("grist-realtime backup", () => {
  const work = mkdtempSync(join(tmpdir(), "grist-realtime-backup-"));
  after(() => rmSync(work, { recursive: true, force: true }));

  it("refuses the Redis store and says what to back up instead", async () => {
    const result = await runCli(["backup", "--to", join(work, "x.db")], { STORE: "redis" });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /AOF/);
    assert.ok(!existsSync(join(work, "x.db")));
  });

  it("refuses to overwrite an existing file", async () => {
    const dataDir = join(work, "refuse");
    const relay = await startTestRelay({ dataDir });
    await relay.close();
    const target = join(work, "existing.db");
    copyFileSync(join(dataDir, SQLITE_FILE_NAME), target);
    const result = await runCli(["backup", "--to", target, "--data-dir", dataDir]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /existe déjà/);
  });

  it("taken while webhooks arrive at 100/s, restores every event acknowledged before it began", {
    timeout: 120_000,
  }, async (t) => {
    const live = await startTestRelay({ dataDir: join(work, "live") });
    const acked: number[] = [];
    const inFlight = new Set<Promise<void>>();
    let next = 1;
    const send = () => {
      const id = next++;
      const request = live.postWebhook([gristRow(id)], { event: "add" }).then(async (r) => {
        await r.arrayBuffer();
        if (r.status === 200) acked.push(id);
      });
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    };
    // 100 webhooks per second, one row each, never waiting for the answers.
    const timer = setInterval(send, 10);
    let stopped = false;
    try {
      // 50 one-row batches stay in the WAL (SQLite checkpoints every 1 000 pages): a copy of
      // the main file alone would miss them, which is what this test must catch.
      while (acked.length < 50) await new Promise((resolve) => setTimeout(resolve, 20));
      const ackedBefore = [...acked];
      const target = join(work, "backup.db");
      const backup = await runCli(["backup", "--to", target], {
        DATA_DIR: join(work, "live"),
      });
      const ackedDuring = acked.length - ackedBefore.length;
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stdout, /Sauvegarde écrite/);
      // Webhooks kept arriving while the backup ran: the copy was taken under writes.
      assert.ok(ackedDuring > 0, "no webhook acknowledged during the backup");
      t.diagnostic(`${ackedBefore.length} acknowledged before the backup, ${ackedDuring} during`);

      clearInterval(timer);
      await Promise.all(inFlight);
      await live.close();
      stopped = true;

      const restoredDir = join(work, "restored");
      mkdirSync(restoredDir);
      copyFileSync(target, join(restoredDir, SQLITE_FILE_NAME));
      const restored = await startTestRelay({ dataDir: restoredDir });
      try {
        const body = (await (await fetch(`${restored.url}/api/interventions`)).json()) as {
          records: { id: number | string }[];
        };
        const served = new Set(body.records.map((r) => Number(r.id)));
        const missing = ackedBefore.filter((id) => !served.has(id));
        assert.deepEqual(missing, [], `${missing.length} of ${ackedBefore.length} missing`);

        // The newest 1 000 events: more than this test sends, so the whole history.
        const page = (await (await fetch(`${restored.url}/api/events?limit=1000`)).json()) as {
          events: { type: string; record: { id: number | string } }[];
        };
        assert.ok(page.events.length < 1000, "history larger than one page");
        const events = page.events
          .filter((event) => event.type === "record.added")
          .map((event) => Number(event.record.id));
        const inHistory = new Set(events);
        assert.deepEqual(
          ackedBefore.filter((id) => !inHistory.has(id)),
          [],
          "events missing from the restored history",
        );
      } finally {
        await restored.close();
      }
    } finally {
      clearInterval(timer);
      await Promise.all(inFlight);
      if (!stopped) await live.close();
    }
  });
});
