/**
 * The widget and the standalone page show the same Grist row identically. The captured rows
 * of test/fixtures/grist/ go both ways: the standalone path (webhook or REST row → the relay's
 * Grist decoding and normaliser → JSON on the wire → the page's check) and the widget path
 * (`onRecords` row → `grist.mapColumnNames` → the widget's conversion).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { buildColumnMapping } from "../../../src/domain/column-mapping.ts";
import { normalizeRecord } from "../../../src/domain/normalize.ts";
import { decodeRow } from "../../../src/grist/decode.ts";
import { parseIntervention } from "../core/parse.ts";
import type { Intervention } from "../core/types.ts";
import { interventionFromMappedRow, WIDGET_COLUMNS } from "./columns.ts";

type Row = Record<string, unknown> & { id: number };

const probe = JSON.parse(
  readFileSync(
    new URL("../../../test/fixtures/grist/custom_widget_api_probe.json", import.meta.url),
    "utf8",
  ),
) as { received: { path: string; json_body: unknown }[] };

function received(path: string): unknown[] {
  return probe.received.filter((r) => r.path === path).map((r) => r.json_body);
}

/** The creator's mapping in the guide's table: each widget column on its Grist column. */
const MAPPING: Record<string, string> = {
  Reference: "ID2",
  Agent: "Agent",
  Localisation: "Localisation",
  Type: "Type",
  Statut: "Statut",
  Priorite: "Priorite",
  Derniere_MAJ: "Derniere_MAJ",
  Commentaire: "Commentaire",
};

/**
 * What the widget receives: the capture went through JSON, where Grist's plugin API had given
 * a `Date` for the DateTime column; then `grist.mapColumnNames` keeps the id and renames each
 * mapped column to its widget name (grist.md §4).
 */
function widgetPath(row: Row): Intervention | null {
  const mapped: Record<string, unknown> = { id: row.id };
  for (const column of WIDGET_COLUMNS) {
    const source = MAPPING[column.name];
    if (source === undefined) continue;
    const value = row[source];
    mapped[column.name] =
      source === "Derniere_MAJ" && typeof value === "string" ? new Date(value) : value;
  }
  return interventionFromMappedRow(mapped);
}

/** What the standalone page shows: the relay's record, over the wire, through its check. */
function standalonePath(row: Row): Intervention | null {
  const mapping = buildColumnMapping();
  const { id, ...cells } = row;
  const record = normalizeRecord(id, decodeRow(cells, mapping.dateColumns), mapping);
  return parseIntervention(JSON.parse(JSON.stringify(record)));
}

/** Everything a card shows; `fields` (raw columns) is the relay's extra, not on a card. */
function card(record: Intervention | null) {
  assert.ok(record);
  const { fields: _raw, ...shown } = record;
  return shown;
}

function rowsOfColumns(table: Record<string, unknown[]>): Row[] {
  const ids = table.id as number[];
  return ids.map((_id, index) =>
    Object.fromEntries(Object.entries(table).map(([col, values]) => [col, values[index]])),
  ) as Row[];
}

describe("one Grist row, two paths", () => {
  it("shows every captured row the same in the widget and on the standalone page", () => {
    // Before the widget's own write: its first onRecords and docApi.fetchTable (raw encoding).
    const [firstOnRecords] = received("/widget/onRecords") as { records: Row[] }[];
    const [table] = received("/widget/fetchTable") as Record<string, unknown[]>[];
    assert.ok(firstOnRecords && table);
    const restRows = new Map(rowsOfColumns(table).map((row) => [row.id, row]));
    // After it: the webhook Grist sent for row 3, and the onRecords call that followed.
    const [, , lastOnRecords] = received("/widget/onRecords") as { records: Row[] }[];
    const [hookRows] = received("/hook/all") as Row[][];
    const hookRow = hookRows?.[0];
    const onRecordsRow = lastOnRecords?.records.find((r) => r.id === hookRow?.id);
    assert.ok(hookRow && onRecordsRow);

    const pairs: [Row, Row][] = firstOnRecords.records.map((row) => [
      row,
      restRows.get(row.id) as Row,
    ]);
    pairs.push([onRecordsRow, hookRow]);
    assert.equal(pairs.length, 6);
    for (const [widgetRow, gristRow] of pairs) {
      assert.deepEqual(
        card(widgetPath(widgetRow)),
        card(standalonePath(gristRow)),
        `row ${widgetRow.id}`,
      );
    }
    // The capture holds the cases where the two used to differ: empty text.
    const empty = card(widgetPath(firstOnRecords.records.find((r) => r.id === 5) as Row));
    assert.equal(empty.localisation, null);
    assert.equal(empty.commentaire, null);
  });

  it("reads coordinates, blank text and lists the same way on both paths", () => {
    const cells = {
      ID2: "INT-9",
      Agent: ["Alice", "Bob"],
      Localisation: "  ",
      Statut: " BLOQUÉ ",
      Priorite: "Urgente",
      Derniere_MAJ: 1795485600,
      Commentaire: "x".repeat(12_000),
      Latitude: "43,29",
      Longitude: "5,37",
    };
    const mapping = { ...MAPPING, Latitude: "Latitude", Longitude: "Longitude" };
    const mapped: Record<string, unknown> = { id: 9 };
    for (const [name, source] of Object.entries(mapping)) {
      const value = cells[source as keyof typeof cells];
      mapped[name] = source === "Derniere_MAJ" ? new Date((value as number) * 1000) : value;
    }
    const widget = card(interventionFromMappedRow(mapped));
    const standalone = card(standalonePath({ id: 9, ...cells }));
    assert.deepEqual(widget, standalone);
    assert.deepEqual([widget.latitude, widget.longitude], [43.29, 5.37]);
    assert.equal(widget.localisation, null);
    assert.equal(widget.commentaire?.length, 10_000);
  });
});
