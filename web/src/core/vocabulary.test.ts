import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fold, isAlarming, isClosed, priorityRank, statusKind } from "./vocabulary.ts";

describe("vocabulary", () => {
  it("folds case, accents and spaces so Grist spellings compare equal", () => {
    assert.equal(fold("  TERMINÉ "), "termine");
    assert.equal(fold("En   attente"), "en attente");
  });

  it("recognises statuts written with or without accents", () => {
    assert.equal(statusKind("Terminé"), "termine");
    assert.equal(statusKind("Termine"), "termine");
    assert.equal(statusKind("bloqué"), "bloque");
    assert.equal(statusKind("En attente"), "en-attente");
    assert.equal(statusKind("A faire"), "autre");
    assert.equal(statusKind(null), "autre");
  });

  it("treats Terminé and Annulé as closed and everything else as active", () => {
    assert.equal(isClosed("Terminé"), true);
    assert.equal(isClosed("Annule"), true);
    assert.equal(isClosed("En cours"), false);
    assert.equal(isClosed(null), false);
  });

  it("ranks priorities Urgente, Haute, Normale, Basse, then unknown", () => {
    const ranks = ["Basse", "inconnue?", "Urgente", "normale", "HAUTE"].map(priorityRank);
    assert.deepEqual(ranks, [3, 4, 0, 2, 1]);
  });

  it("flags urgent or blocked interventions as alarming", () => {
    assert.equal(isAlarming({ statut: "En cours", priorite: "Urgente" }), true);
    assert.equal(isAlarming({ statut: "Bloqué", priorite: "Basse" }), true);
    assert.equal(isAlarming({ statut: "En cours", priorite: "Haute" }), false);
  });
});
