import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_COLUMNS } from "./column-mapping.ts";
import { InterventionSchema } from "./intervention.ts";
import {
  alarmRaisedBy,
  alarmsRaisedBy,
  FIELD_LABELS,
  FIELD_SPECS,
  sameWord,
  TRACKED_FIELDS,
} from "./vocabulary.ts";

describe("the vocabulary", () => {
  it("gives the intervention schema exactly its fields, in its order", () => {
    assert.deepEqual(Object.keys(InterventionSchema.shape), ["id", ...TRACKED_FIELDS, "fields"]);
    assert.equal(InterventionSchema.shape.latitude.safeParse("43").success, false);
    assert.equal(InterventionSchema.shape.statut.safeParse(3).success, false);
  });

  it("is where the relay's default column candidates and the French labels come from", () => {
    assert.deepEqual(DEFAULT_COLUMNS.reference, ["ID2", "ID", "Reference", "Ref"]);
    assert.equal(FIELD_SPECS.priorite.widgetColumn, "Priorite");
    assert.equal(FIELD_LABELS.derniereMaj, "Dernière mise à jour");
    assert.equal(FIELD_LABELS.departement, "Département");
  });

  it("compares a user's word with the data ignoring case, accents and spaces", () => {
    assert.ok(sameWord(" BLOQUÉ ", "Bloqué"));
    assert.ok(sameWord("Bloque\u0301", "bloque"));
    assert.ok(sameWord(13, "13"));
    assert.ok(!sameWord(null, "Bloqué"));
    assert.ok(!sameWord("Bloqué", "Terminé"));
  });

  it("raises both alarms, blocked first, when a record becomes urgent and blocked at once", () => {
    const record = { statut: "Bloqué", priorite: "Urgente" };
    assert.deepEqual(alarmsRaisedBy({ type: "record.added", record }), ["bloque", "urgente"]);
    assert.equal(alarmRaisedBy({ type: "record.added", record }), "bloque");
  });

  it("counts an update of a row the relay never saw as added, unless it is closed", () => {
    const unseen = (statut: string) =>
      alarmsRaisedBy({
        type: "record.updated",
        record: { statut, priorite: "Urgente" },
        changes: {},
      });
    assert.deepEqual(unseen("En cours"), ["urgente"]);
    assert.deepEqual(unseen("Terminé"), []);
  });
});
