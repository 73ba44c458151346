import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  alarmRaisedBy,
  fold,
  isAlarming,
  isClosed,
  priorityRank,
  statusKind,
} from "./vocabulary.ts";

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

  const record = (statut: string, priorite: string) => ({ statut, priorite });

  it("raises an alarm for a record added urgent or blocked", () => {
    const added = (statut: string, priorite: string) =>
      alarmRaisedBy({ type: "record.added", record: record(statut, priorite) });
    assert.equal(added("En cours", "Urgente"), "urgente");
    assert.equal(added(" BLOQUÉ ", "Basse"), "bloque");
    assert.equal(added("En cours", "Haute"), null);
  });

  it("raises an alarm only when an update makes the record urgent or blocked", () => {
    const became = alarmRaisedBy({
      type: "record.updated",
      record: record("Bloque", "Normale"),
      changes: { statut: { from: "En cours", to: "Bloque" } },
    });
    assert.equal(became, "bloque");
    const raised = alarmRaisedBy({
      type: "record.updated",
      record: record("En cours", "Urgente"),
      changes: { priorite: { from: "Haute", to: "Urgente" } },
    });
    assert.equal(raised, "urgente");
  });

  it("stays silent on other updates of an urgent record, on closing it and on removal", () => {
    const commentOnly = alarmRaisedBy({
      type: "record.updated",
      record: record("En cours", "Urgente"),
      changes: { commentaire: { from: "a", to: "b" } },
    });
    const closing = alarmRaisedBy({
      type: "record.updated",
      record: record("Terminé", "Urgente"),
      changes: { statut: { from: "Bloqué", to: "Terminé" } },
    });
    const stillBlocked = alarmRaisedBy({
      type: "record.updated",
      record: record("Bloqué", "Urgente"),
      changes: { statut: { from: "bloque", to: "Bloqué" } },
    });
    const removed = alarmRaisedBy({ type: "record.removed", record: record("Bloqué", "Urgente") });
    assert.deepEqual([commentOnly, closing, stillBlocked, removed], [null, null, null, null]);
  });
});
