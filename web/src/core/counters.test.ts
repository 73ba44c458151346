import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention } from "../../../test/support/web/test-records.ts";
import { computeCounters } from "./counters.ts";

describe("computeCounters", () => {
  it("counts every record by statut and open urgent ones", () => {
    const counters = computeCounters([
      intervention({ id: 1, statut: "En cours", priorite: "Urgente" }),
      intervention({ id: 2, statut: "En attente" }),
      intervention({ id: 3, statut: "Bloqué", priorite: "Urgente" }),
      intervention({ id: 4, statut: "Terminé", priorite: "Urgente" }),
      intervention({ id: 5, statut: "Termine" }),
      intervention({ id: 6, statut: "A faire" }),
    ]);
    assert.deepEqual(counters, {
      total: 6,
      enCours: 1,
      enAttente: 1,
      bloque: 1,
      termine: 2,
      urgentes: 2,
    });
  });

  it("gives zeros for no records", () => {
    assert.deepEqual(computeCounters([]), {
      total: 0,
      enCours: 0,
      enAttente: 0,
      bloque: 0,
      termine: 0,
      urgentes: 0,
    });
  });
});
