import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  interventionFromMappedRow,
  missingColumns,
  parseWidgetOptions,
  WIDGET_COLUMNS,
} from "./columns.ts";

const allMapped = Object.fromEntries(WIDGET_COLUMNS.map((c) => [c.name, c.name]));

describe("widget columns", () => {
  it("declares the guide's columns, with coordinates optional", () => {
    assert.deepEqual(
      WIDGET_COLUMNS.filter((c) => !c.optional).map((c) => c.name),
      [
        "Reference",
        "Agent",
        "Localisation",
        "Type",
        "Statut",
        "Priorite",
        "Derniere_MAJ",
        "Commentaire",
      ],
    );
    assert.deepEqual(
      WIDGET_COLUMNS.filter((c) => c.optional).map((c) => c.name),
      ["Latitude", "Longitude"],
    );
  });

  it("lists the required columns left unmapped, by their French title", () => {
    assert.deepEqual(missingColumns(allMapped), []);
    assert.deepEqual(missingColumns({ ...allMapped, Statut: null, Latitude: null }), ["Statut"]);
    assert.equal(missingColumns(null).length, 8);
  });
});

describe("interventionFromMappedRow", () => {
  it("converts Grist's decoded values (Date objects) and derives the département", () => {
    const record = interventionFromMappedRow({
      id: 4,
      Reference: "INT-004",
      Agent: "Alice Martin",
      Localisation: "3 place X, 2A000 Ajaccio 20000",
      Type: "Maintenance",
      Statut: "En cours",
      Priorite: "Urgente",
      Derniere_MAJ: new Date("2026-11-24T02:03:20.000Z"),
      Commentaire: "Urgent: equipe 2",
    });
    assert.equal(record?.reference, "INT-004");
    assert.equal(record?.derniereMaj, "2026-11-24T02:03:20.000Z");
    assert.equal(record?.departement, "2A");
    // No coordinates in the row: the card is placed at its département's reference point,
    // marked as such (the map draws it hollow, "position approximative"). Ajaccio is in 2A.
    assert.equal(record?.positionSource, "departement");
    assert.ok(record && record.latitude !== null && record.longitude !== null);
    assert.ok(record.latitude > 41.3 && record.latitude < 42.4, `latitude ${record.latitude}`);
    assert.ok(record.longitude > 8.5 && record.longitude < 9.6, `longitude ${record.longitude}`);
  });

  it("accepts epoch seconds, numeric text coordinates and turns error cells into null", () => {
    const record = interventionFromMappedRow({
      id: 2,
      Reference: 17,
      Derniere_MAJ: 1795485600,
      Latitude: "43,29",
      Longitude: 5.37,
      Commentaire: { name: "ZeroDivisionError" },
      Agent: ["Alice", "Bob"],
    });
    assert.equal(record?.reference, "17");
    assert.equal(record?.derniereMaj, new Date(1795485600 * 1000).toISOString());
    assert.equal(record?.latitude, 43.29);
    assert.equal(record?.commentaire, null);
    assert.equal(record?.agent, "Alice, Bob");
  });

  it("refuses rows without a positive integer id", () => {
    assert.equal(interventionFromMappedRow({ id: "x" }), null);
    assert.equal(interventionFromMappedRow({ id: 0 }), null);
  });
});

describe("parseWidgetOptions", () => {
  it("keeps a trimmed, bounded title and the default tab", () => {
    assert.deepEqual(
      parseWidgetOptions({ title: "  Astreinte  ", defaultTab: "carte", other: 1 }),
      {
        title: "Astreinte",
        defaultTab: "carte",
      },
    );
    assert.deepEqual(parseWidgetOptions(null), { title: null, defaultTab: null });
    assert.equal(parseWidgetOptions({ title: "x".repeat(500) }).title?.length, 120);
  });
});
