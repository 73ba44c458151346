import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GeoplateformeDouble } from "../../test/support/geocoder/geoplateforme-double.ts";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { waitUntil } from "../../test/support/wait.ts";

const DOC = "docWriteBack0000000001";
const PRADO = "12 avenue du Prado, 13008 Marseille";
const LILLE = "3 rue Esquermoise, 59000 Lille";
const BORDEAUX = "5 quai des Chartrons, 33000 Bordeaux";

describe("GEOCODE_WRITE_BACK", () => {
  let grist: GristDouble;
  let geocoder: GeoplateformeDouble;
  let relay: TestRelay;
  before(async () => {
    geocoder = await GeoplateformeDouble.start();
    const place = { score: 0.95, postcode: "", citycode: "", city: "", context: "" };
    geocoder.know(PRADO, { ...place, latitude: 43.2804, longitude: 5.3862, label: PRADO });
    geocoder.know(LILLE, { ...place, latitude: 50.6386, longitude: 3.0614, label: LILLE });
    geocoder.know(BORDEAUX, { ...place, latitude: 44.85, longitude: -0.57, label: BORDEAUX });
    grist = await startGristDouble({
      apiKeys: ["k"],
      docs: [{ id: DOC, access: { k: "owners" } }],
    });
    grist.createTable(DOC, "Interventions", [
      { id: "ID", label: "ID", type: "Text" },
      { id: "Localisation", type: "Text" },
      { id: "Statut", type: "Choice" },
      { id: "Latitude", type: "Numeric" },
      { id: "Longitude", type: "Numeric" },
    ]);
    grist.addRows(DOC, "Interventions", [
      { ID2: "INT-1", Localisation: PRADO, Statut: "En cours", Latitude: 0, Longitude: 0 },
      // Typed by a person: never geocoded, never overwritten.
      {
        ID2: "INT-2",
        Localisation: BORDEAUX,
        Statut: "En cours",
        Latitude: 44.8412,
        Longitude: -0.5703,
      },
      { ID2: "INT-3", Localisation: LILLE, Statut: "En cours", Latitude: 0, Longitude: 0 },
    ]);
    relay = await startTestRelay({
      env: {
        STORE: "memory",
        GEOCODER: "geoplateforme",
        GEOCODER_URL: geocoder.url,
        GEOCODE_WRITE_BACK: "true",
        GRIST_URL: grist.url,
        GRIST_DOC_ID: DOC,
        GRIST_API_KEY: "k",
        RECONCILE_INTERVAL_MS: "150",
      },
    });
  });
  after(async () => {
    await relay?.close();
    await grist?.close();
    await geocoder?.close();
  });

  const patches = () => grist.writes.filter((write) => write.method === "PATCH");
  const writtenIds = () =>
    patches().flatMap((patch) =>
      (patch.body as { records: { id: number }[] }).records.map((r) => r.id),
    );

  it("writes the geocoded positions once, into empty cells only", async () => {
    // One address, one answer, one write: rows 1 and 3 may come in one PATCH or two.
    await waitUntil(() => writtenIds().length >= 2);
    const rows = new Map(grist.rows(DOC, "Interventions").map((row) => [row.ID2, row]));
    assert.deepEqual(
      [rows.get("INT-1")?.Latitude, rows.get("INT-1")?.Longitude],
      [43.2804, 5.3862],
    );
    assert.deepEqual(
      [rows.get("INT-3")?.Latitude, rows.get("INT-3")?.Longitude],
      [50.6386, 3.0614],
    );
    assert.deepEqual(
      [rows.get("INT-2")?.Latitude, rows.get("INT-2")?.Longitude],
      [44.8412, -0.5703],
    );
    assert.equal(geocoder.requestsFor(BORDEAUX).length, 0);
    assert.deepEqual(writtenIds().sort(), [1, 3]);

    // Reconciliations read the written cells back: the rows keep "adresse", nothing is asked
    // or written again.
    const seen = relay.relay.state.lastReconciliation;
    await waitUntil(() => relay.relay.state.lastReconciliation !== seen);
    const next = relay.relay.state.lastReconciliation;
    await waitUntil(() => relay.relay.state.lastReconciliation !== next);
    assert.deepEqual(writtenIds().sort(), [1, 3], "no second write");
    assert.equal(geocoder.requests.length, 2);
    const records = (
      (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
        records: { id: number; positionSource: string }[];
      }
    ).records;
    assert.deepEqual(records.map((r) => [r.id, r.positionSource]).sort(), [
      [1, "adresse"],
      [2, "grist"],
      [3, "adresse"],
    ]);
  });
});
