import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startGristDouble } from "../../test/support/grist-double/grist-double.ts";
import { openSse } from "../../test/support/sse-client.ts";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { waitUntil } from "../../test/support/wait.ts";
import { buildColumnMapping } from "../domain/column-mapping.ts";
import { NOOP_METRICS } from "../metrics/metrics.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { Ingestor } from "./ingest.ts";

function setup() {
  const store = new MemoryStore();
  const ingestor = new Ingestor({ store, mapping: buildColumnMapping(), metrics: NOOP_METRICS });
  return { store, ingestor };
}

const row = (id: number, Statut: string) => ({ id, ID2: `INT-${id}`, Statut });

describe("Ingestor and reconciliation reads", () => {
  it("keeps a webhook change that landed after the reconciliation began reading Grist", async () => {
    const { store, ingestor } = setup();
    await ingestor.ingest([row(1, "En attente")], { source: "sync" });
    const readStartedAt = Date.now() - 1;
    await ingestor.ingest([row(1, "Bloqué")], { source: "webhook" });
    // The reconciliation read Grist before the webhook: its row is older.
    const result = await ingestor.ingest([row(1, "En attente")], {
      source: "reconciliation",
      readStartedAt,
    });
    assert.equal(result.events.length, 0);
    assert.equal((await store.snapshot()).records[0]?.statut, "Bloqué");
  });

  it("does not remove a row a webhook added after the read began", async () => {
    const { store, ingestor } = setup();
    await ingestor.ingest([row(1, "En attente")], { source: "sync" });
    const readStartedAt = Date.now() - 1;
    await ingestor.ingest([row(2, "En cours")], { source: "webhook" });
    const removed = await ingestor.removeMissing(new Set(["1"]), "reconciliation", readStartedAt);
    assert.deepEqual(removed, []);
    assert.equal((await store.snapshot()).records.length, 2);
  });

  it("corrects and removes rows no webhook touched since the read", async () => {
    const { store, ingestor } = setup();
    await ingestor.ingest([row(1, "En attente"), row(2, "En cours")], { source: "webhook" });
    const readStartedAt = Date.now() + 1;
    const fixed = await ingestor.ingest([row(1, "Terminé")], {
      source: "reconciliation",
      readStartedAt,
    });
    assert.equal(fixed.events[0]?.source, "reconciliation");
    const removed = await ingestor.removeMissing(new Set(["1"]), "reconciliation", readStartedAt);
    assert.equal(removed[0]?.type, "record.removed");
    assert.deepEqual(
      (await store.snapshot()).records.map((r) => r.statut),
      ["Terminé"],
    );
  });
});

/**
 * An agent corrects a date to an earlier one and changes the status: the webhook row's
 * `Derniere_MAJ` moves backward. It used to be dropped silently (`{"events":0}`).
 */
describe("a webhook row whose Derniere_MAJ moves backward", () => {
  const NINE = Date.parse("2026-11-24T09:00:00Z") / 1000;
  const EIGHT = Date.parse("2026-11-24T08:00:00Z") / 1000;
  const SEVEN = Date.parse("2026-11-24T07:00:00Z") / 1000;
  const gristRow = (Statut: string, at: number) => ({
    id: 1,
    ID2: "INT-001",
    Agent: "Marie Durand",
    Statut,
    Derniere_MAJ: at,
  });
  const olderRows = async (relay: TestRelay, outcome: string) => {
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    const line = text
      .split("\n")
      .find((l) => l.startsWith(`relay_webhook_rows_older_total{outcome="${outcome}"}`));
    return Number(line?.split(" ")[1] ?? 0);
  };

  it("logs it once with the row id, whether Grist's re-read works or not", async () => {
    const logged: object[] = [];
    const logger = { warn: (details: object) => logged.push(details) };
    const store = new MemoryStore();
    const failing = new Ingestor({
      store,
      mapping: buildColumnMapping(),
      metrics: NOOP_METRICS,
      logger,
      reread: () => Promise.reject(new Error("Grist unreachable")),
    });
    await failing.ingest([gristRow("En cours", NINE)], { source: "webhook" });
    const result = await failing.ingest([gristRow("Bloqué", EIGHT)], { source: "webhook" });
    assert.deepEqual(
      result.events.map((e) => e.changes?.statut),
      [{ from: "En cours", to: "Bloqué" }],
      "applied when Grist cannot answer",
    );
    assert.equal(logged.length, 1);
    assert.equal((logged[0] as { rowId: number }).rowId, 1);
  });

  it("applies it without Grist (last write wins), counts it and streams record.updated", async () => {
    const relay = await startTestRelay();
    try {
      await relay.postWebhook([gristRow("En cours", NINE)]);
      const stream = await openSse(`${relay.url}/events`);
      await stream.waitFor((m) => m.event === "snapshot");
      const answer = await relay.postWebhook([gristRow("Bloqué", EIGHT)]);
      assert.deepEqual(await answer.json(), { received: 1, events: 1 });
      const update = await stream.waitFor((m) => m.event === "record.updated");
      const changes = (update.json as { changes: Record<string, unknown> }).changes;
      assert.deepEqual(changes.statut, { from: "En cours", to: "Bloqué" });
      assert.equal(await olderRows(relay, "applied"), 1);
      stream.close();
    } finally {
      await relay.close();
    }
  });

  it("re-reads the row from Grist and keeps what Grist says now", async () => {
    const grist = await startGristDouble({
      apiKeys: [KEY],
      docs: [{ id: DOC, access: { [KEY]: "owners" } }],
    });
    grist.createTable(DOC, "Interventions", [
      { id: "ID", type: "Text" },
      { id: "Agent", type: "Text" },
      { id: "Statut", type: "Choice" },
      { id: "Derniere_MAJ", type: "DateTime:Europe/Paris" },
    ]);
    const [rowId] = grist.addRows(DOC, "Interventions", [
      { ID2: "INT-001", Agent: "Marie Durand", Statut: "En cours", Derniere_MAJ: NINE },
    ]);
    assert.equal(rowId, 1);
    const relay = await startTestRelay({
      env: {
        GRIST_URL: grist.url,
        GRIST_DOC_ID: DOC,
        GRIST_API_KEY: KEY,
        RECONCILE_INTERVAL_MS: "3600000",
      },
    });
    try {
      await waitUntil(() => relay.relay.state.lastReconciliation?.ok === true);
      const stream = await openSse(`${relay.url}/events`);
      await stream.waitFor((m) => m.event === "snapshot");
      // Grist now holds the agent's correction: an earlier date and a new status.
      grist.updateRow(DOC, "Interventions", 1, { Statut: "Bloqué", Derniere_MAJ: EIGHT });
      // A webhook that looks older still: an old batch redelivered after the correction.
      const answer = await relay.postWebhook([gristRow("En attente", SEVEN)]);
      assert.deepEqual(await answer.json(), { received: 1, events: 1 });
      const update = await stream.waitFor((m) => m.event === "record.updated");
      const changes = (update.json as { changes: Record<string, unknown> }).changes;
      assert.deepEqual(
        changes.statut,
        { from: "En cours", to: "Bloqué" },
        "Grist's row, not the webhook's",
      );
      assert.equal(await olderRows(relay, "reread"), 1);
      assert.equal(await olderRows(relay, "applied"), 0);
      stream.close();
    } finally {
      await relay.close();
      await grist.close();
    }
  });
});

const DOC = "docOlder000000000000001";
const KEY = "older-api-key";
