import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { buildColumnMapping } from "./column-mapping.ts";
import { asIsoTime, asPosition, asText, normalizeRecord } from "./normalize.ts";

const mapping = buildColumnMapping();

describe("the normaliser", () => {
  it("reads empty and blank text as no value, whatever wrote it", () => {
    assert.deepEqual(
      ["", "   ", null, undefined, [], [""]].map((v) => asText(v)),
      [null, null, null, null, null, null],
    );
    assert.equal(asText(" Bloqué "), " Bloqué ", "text is kept as typed; comparisons fold it");
  });

  it("joins lists, shows numbers as text and never an object", () => {
    assert.equal(asText(["Alice", null, "Bob"]), "Alice, Bob");
    assert.equal(asText(17), "17");
    assert.equal(asText({ error: "ZeroDivisionError", message: null }), null);
    assert.equal(asText(Number.NaN), null);
  });

  it("caps text at 10 000 characters", () => {
    assert.equal(asText("x".repeat(20_000))?.length, 10_000);
    assert.equal(asText(["x".repeat(8_000), "y".repeat(8_000)])?.length, 10_000);
  });

  it("reads a time given as epoch seconds, ISO text or a Date the same way", () => {
    const iso = "2026-11-24T02:03:20.000Z";
    const seconds = Date.parse(iso) / 1000;
    assert.deepEqual(
      [asIsoTime(seconds), asIsoTime(iso), asIsoTime(new Date(iso))],
      [iso, iso, iso],
    );
    assert.equal(asIsoTime("pas une date"), null);
    assert.equal(asIsoTime(""), null);
  });

  it("has no position for (0, 0), out-of-range or half coordinates, and reads 43,29", () => {
    const none = { latitude: null, longitude: null };
    assert.deepEqual(asPosition(0, 0), none, "Grist's empty Numeric cells");
    assert.deepEqual(asPosition("0", "0,0"), none);
    assert.deepEqual(asPosition(91, 5), none);
    assert.deepEqual(asPosition(43.3, 181), none);
    assert.deepEqual(asPosition(43.3, null), none);
    assert.deepEqual(asPosition("43,29", "5,37"), { latitude: 43.29, longitude: 5.37 });
    assert.deepEqual(asPosition(0, 5.37), { latitude: 0, longitude: 5.37 }, "the equator is real");
  });

  it("maps Grist columns to stable names and derives the département", () => {
    const record = normalizeRecord(
      5,
      {
        ID2: "INT-5",
        Agent: "Léa",
        Localisation: "Cours Napoléon, 20000 Ajaccio",
        Latitude: "41.92",
        Longitude: 8.73,
        Commentaire: "",
      },
      mapping,
    );
    assert.equal(record.reference, "INT-5");
    assert.equal(record.departement, "2A");
    assert.deepEqual([record.latitude, record.longitude], [41.92, 8.73]);
    assert.equal(record.commentaire, null, "empty text is null, as Grist writes it either way");
  });

  it("honours a mapping written by setup", () => {
    const custom = buildColumnMapping({ reference: "Code", statut: ["Etat"] });
    const record = normalizeRecord(1, { Code: "X-1", Etat: "Bloqué" }, custom);
    assert.equal(record.reference, "X-1");
    assert.equal(record.statut, "Bloqué");
  });
});

describe("positions through the relay", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.close());

  it("does not read empty Numeric cells (0, 0) as a position: the row stands at its département", async () => {
    const response = await relay.postWebhook([
      gristRow(1, { Latitude: 0, Longitude: 0 }),
      gristRow(2, { Latitude: 43.2965, Longitude: 5.3698 }),
    ]);
    assert.equal(response.status, 200);
    const { records } = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
      records: {
        id: number;
        latitude: number | null;
        longitude: number | null;
        positionSource: string | null;
      }[];
    };
    const byId = new Map(records.map((r) => [r.id, [r.latitude, r.longitude, r.positionSource]]));
    const [lat, lon, source] = byId.get(1) ?? [];
    assert.equal(source, "departement");
    assert.notDeepEqual([lat, lon], [0, 0]);
    assert.deepEqual(byId.get(2), [43.2965, 5.3698, "grist"]);
  });
});
