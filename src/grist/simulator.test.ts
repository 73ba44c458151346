import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { departementFromAddress } from "../domain/departement.ts";
import { EXPECTED_COLUMNS } from "./expected-schema.ts";
import { createRandom, FieldSimulator, PLACES, type SimulatedEvent } from "./simulator.ts";
import { GristWebhookBodySchema } from "./webhook-payload.ts";

const START = 1_795_478_400; // 2026-11-24T00:00:00Z

function run(
  seed: number,
  count: number,
  options: { withCoordinates?: boolean } = {},
): SimulatedEvent[] {
  const simulator = new FieldSimulator({ seed, ...options });
  return Array.from({ length: count }, (_, i) => simulator.next(START + i * 30));
}

const choices = (field: string) => EXPECTED_COLUMNS.find((c) => c.field === field)?.choices ?? [];

describe("createRandom", () => {
  it("repeats the same sequence for the same seed and stays in [0, 1)", () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const values = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      values.slice(0, 5),
      Array.from({ length: 5 }, () => b()),
    );
    assert.ok(values.every((v) => v >= 0 && v < 1));
    assert.notDeepEqual(values.slice(0, 5), Array.from({ length: 5 }, createRandom(43)));
  });
});

describe("FieldSimulator", () => {
  it("produces the same events for the same seed and clock", () => {
    assert.deepEqual(run(7, 200), run(7, 200));
    assert.notDeepEqual(run(7, 50), run(8, 50));
  });

  it("produces rows the relay accepts as a Grist webhook body, with the guide's columns", () => {
    for (const event of run(1, 300)) {
      const parsed = GristWebhookBodySchema.safeParse([event.row]);
      assert.ok(parsed.success, JSON.stringify(event.row));
      assert.deepEqual(Object.keys(event.row), [
        "id",
        "manualSort",
        "ID2",
        "Agent",
        "Localisation",
        "Type",
        "Statut",
        "Priorite",
        "Derniere_MAJ",
        "Commentaire",
        "Latitude",
        "Longitude",
      ]);
      assert.ok(choices("type").includes(String(event.row.Type)));
      assert.ok(choices("statut").includes(String(event.row.Statut)));
      assert.ok(choices("priorite").includes(String(event.row.Priorite)));
      assert.equal(typeof event.row.Derniere_MAJ, "number");
    }
  });

  it("adds a row once, then only updates it, with statuses in the guide's order", () => {
    const seen = new Map<unknown, string[]>();
    for (const event of run(3, 500)) {
      const history = seen.get(event.row.id);
      assert.equal(event.kind, history ? "update" : "add");
      seen.set(event.row.id, [...(history ?? []), String(event.row.Statut)]);
    }
    const allowed: Record<string, string[]> = {
      "En attente": ["En attente", "En cours"],
      "En cours": ["En cours", "Terminé", "Bloqué"],
      Bloqué: ["Bloqué", "En cours"],
      Terminé: [],
    };
    for (const statuses of seen.values()) {
      assert.equal(statuses[0], "En attente");
      statuses.slice(1).forEach((status, i) => {
        assert.ok(allowed[statuses[i] as string]?.includes(status), `${statuses[i]} → ${status}`);
      });
    }
    const finals = new Set([...seen.values()].map((s) => s.at(-1)));
    for (const status of ["En attente", "En cours", "Terminé", "Bloqué"])
      assert.ok(finals.has(status), status);
  });

  it("places interventions in several départements, Corsica and overseas included", () => {
    const departements = new Set(
      run(11, 600).map((e) => departementFromAddress(String(e.row.Localisation))),
    );
    assert.ok(!departements.has(null));
    for (const code of ["13", "75", "2A", "2B", "971", "974"])
      assert.ok(departements.has(code), code);
  });

  it("puts coordinates within about a kilometre of the address's city", () => {
    for (const { row } of run(5, 200)) {
      const place = PLACES.find((p) =>
        String(row.Localisation).includes(`${p.postcode} ${p.city}`),
      );
      assert.ok(place, String(row.Localisation));
      assert.ok(Math.abs(Number(row.Latitude) - place.lat) <= 0.011);
      assert.ok(Math.abs(Number(row.Longitude) - place.lon) <= 0.011);
    }
  });

  it("leaves coordinates out when asked, and uses the given column ids", () => {
    const simulator = new FieldSimulator({
      seed: 1,
      withCoordinates: false,
      columns: {
        reference: "Ref",
        agent: "Agent",
        localisation: "Adresse",
        type: "Type",
        statut: "Statut",
        priorite: "Priorite",
        derniereMaj: "MAJ",
        commentaire: "Notes",
        latitude: "Lat",
        longitude: "Lon",
      },
    });
    const { row } = simulator.next(START);
    assert.equal("Lat" in row, false);
    assert.match(String(row.Ref), /^INT-2026-0001$/);
    assert.equal(row.MAJ, START);
    assert.equal(typeof row.Adresse, "string");
  });
});
