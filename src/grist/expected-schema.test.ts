import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  buildMappingFile,
  compareColumn,
  EXPECTED_COLUMNS,
  matchColumns,
  parseChoices,
  widgetOptionsWithChoices,
} from "./expected-schema.ts";
import type { GristColumn } from "./rest-client.ts";

const column = (
  id: string,
  type: string,
  extra: Partial<GristColumn["fields"]> = {},
): GristColumn => ({
  id,
  fields: { label: id, type, widgetOptions: "", ...extra },
});
const expected = (field: string) => {
  const found = EXPECTED_COLUMNS.find((c) => c.field === field);
  if (!found) throw new Error(field);
  return found;
};

describe("matchColumns", () => {
  it("finds the ID column under the id Grist gave it, by its label", () => {
    const matches = matchColumns([column("ID2", "Text", { label: "ID" }), column("Agent", "Text")]);
    assert.equal(matches.get("reference")?.id, "ID2");
    assert.equal(matches.get("agent")?.id, "Agent");
  });

  it("matches labels with accents and spaces loosely", () => {
    const matches = matchColumns([
      column("Derniere_mise_a_jour", "DateTime:Europe/Paris", { label: "Dernière MAJ" }),
      column("Priorite2", "Choice", { label: "Priorité" }),
    ]);
    assert.equal(matches.get("derniereMaj")?.id, "Derniere_mise_a_jour");
    assert.equal(matches.get("priorite")?.id, "Priorite2");
  });

  it("uses a real column for one field only", () => {
    const matches = matchColumns([column("Type", "Choice")]);
    assert.equal(matches.get("type")?.id, "Type");
    assert.equal([...matches.values()].filter((c) => c.id === "Type").length, 1);
  });
});

describe("choices in widgetOptions", () => {
  it("reads choices from the JSON string and tolerates empty or broken options", () => {
    assert.deepEqual(parseChoices('{"choices": ["A", "B"]}'), ["A", "B"]);
    assert.deepEqual(parseChoices(""), []);
    assert.deepEqual(parseChoices("{broken"), []);
  });

  it("appends choices and keeps every other option", () => {
    const updated = widgetOptionsWithChoices('{"choices":["A"],"alignment":"left"}', ["B"]);
    assert.deepEqual(JSON.parse(updated ?? ""), { choices: ["A", "B"], alignment: "left" });
    assert.equal(widgetOptionsWithChoices("{broken", ["B"]), null);
  });
});

describe("compareColumn", () => {
  it("asks for the missing choices only, keeping accent-free variants", () => {
    const result = compareColumn(
      expected("statut"),
      column("Statut", "Choice", { widgetOptions: '{"choices":["En cours","Termine"]}' }),
    );
    assert.deepEqual(result.missingChoices, ["En attente", "Bloqué"]);
    assert.match(result.notices.join(), /« Termine » est conservé/);
  });

  it("reports a type difference and never proposes a conversion", () => {
    const result = compareColumn(expected("priorite"), column("Priorite", "Text"));
    assert.deepEqual(result.missingChoices, []);
    assert.match(result.notices.join(), /type Text \(attendu Choice\)/);
  });
});

describe("buildMappingFile", () => {
  it("maps fields to real ids and lists every date column", () => {
    const columns = [
      column("ID2", "Text", { label: "ID" }),
      column("Derniere_MAJ", "DateTime:Europe/Paris"),
      column("Echeance", "Date"),
    ];
    assert.deepEqual(buildMappingFile(matchColumns(columns), columns), {
      reference: "ID2",
      derniereMaj: "Derniere_MAJ",
      dateColumns: ["Derniere_MAJ", "Echeance"],
    });
  });
});
