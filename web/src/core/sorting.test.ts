import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention } from "../../../test/support/web/test-records.ts";
import { activeSorted } from "./sorting.ts";

describe("activeSorted", () => {
  it("drops closed interventions and sorts by priority then most recent update", () => {
    const sorted = activeSorted([
      intervention({ id: 1, priorite: "Basse", derniereMaj: "2026-11-24T12:00:00Z" }),
      intervention({ id: 2, priorite: "Urgente", derniereMaj: "2026-11-24T08:00:00Z" }),
      intervention({ id: 3, priorite: "Haute", derniereMaj: "2026-11-24T09:00:00Z" }),
      intervention({ id: 4, priorite: "Haute", derniereMaj: "2026-11-24T11:00:00Z" }),
      intervention({ id: 5, priorite: "Urgente", statut: "Terminé" }),
      intervention({ id: 6, priorite: null, derniereMaj: "2026-11-24T13:00:00Z" }),
      intervention({ id: 7, priorite: "Haute", derniereMaj: null }),
    ]);
    assert.deepEqual(
      sorted.map((r) => r.id),
      [2, 4, 3, 7, 1, 6],
    );
  });
});
