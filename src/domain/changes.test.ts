import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideEvents } from "./changes.ts";
import { buildColumnMapping } from "./column-mapping.ts";
import type { Intervention } from "./intervention.ts";
import { normalizeRecord } from "./normalize.ts";

const mapping = buildColumnMapping();
const row = (id: number, fields: Record<string, unknown>) =>
  normalizeRecord(
    id,
    { ID2: "INT-1", Statut: "En attente", Derniere_MAJ: "2026-11-24T08:00:00.000Z", ...fields },
    mapping,
  );

describe("decideEvents", () => {
  it("adds unknown rows and updates known ones with what changed", () => {
    const current = new Map([["1", row(1, {})]]);
    const events = decideEvents([row(1, { Statut: "En cours" }), row(2, {})], current, {
      source: "webhook",
      mapping,
    });
    assert.deepEqual(
      events.map((e) => e.type),
      ["record.updated", "record.added"],
    );
    assert.deepEqual(events[0]?.changes, { statut: { from: "En attente", to: "En cours" } });
  });

  it("reports a change in a column the mapping does not use as fields.<column>", () => {
    const current = new Map([["1", row(1, { Equipe: "Nord" })]]);
    const [event] = decideEvents([row(1, { Equipe: "Sud" })], current, {
      source: "webhook",
      mapping,
    });
    assert.deepEqual(event?.changes, { "fields.Equipe": { from: "Nord", to: "Sud" } });
  });

  it("applies several versions of a row in one batch in order", () => {
    const events = decideEvents(
      [row(1, {}), row(1, { Statut: "Bloqué" }), row(1, { Statut: "Bloqué" })],
      new Map(),
      {
        source: "webhook",
        mapping,
      },
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ["record.added", "record.updated"],
    );
  });

  it("applies a webhook row that looks older and lists it, unless told to hold it back", () => {
    const current = new Map([
      ["1", row(1, { Statut: "Terminé", Derniere_MAJ: "2026-11-24T09:00:00.000Z" })],
    ]);
    const older = row(1, { Statut: "En cours", Derniere_MAJ: "2026-11-24T08:00:00.000Z" });
    const stats = { unchanged: 0, older: [] as Intervention[] };
    const applied = decideEvents([older], current, { source: "webhook", mapping }, stats);
    assert.deepEqual(
      applied.map((e) => [e.type, e.changes?.statut]),
      [["record.updated", { from: "Terminé", to: "En cours" }]],
      "last write wins",
    );
    assert.deepEqual(
      stats.older.map((r) => r.id),
      [1],
    );
    const held = { unchanged: 0, older: [] as Intervention[] };
    const options = { source: "webhook", mapping, older: "hold" } as const;
    assert.deepEqual(decideEvents([older], current, options, held), []);
    assert.deepEqual(
      held.older.map((r) => r.id),
      [1],
      "held back for a re-read, still listed",
    );
    assert.equal(
      decideEvents([older], current, { source: "reconciliation", mapping }).length,
      1,
      "Grist's truth wins",
    );
  });
});
