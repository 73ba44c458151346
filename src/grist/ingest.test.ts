import assert from "node:assert/strict";
import { describe, it } from "node:test";
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
