import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sampleRecord } from "../../test/support/event-store-contract.ts";
import type { RelayEvent } from "../domain/events.ts";
import { buildFilter, NO_FILTER, recordMatches, visibility } from "./record-filter.ts";

describe("record filters", () => {
  it("matches values case- and accent-insensitively, comma-separated", () => {
    const filter = buildFilter({ statut: "bloque,En cours" }, null);
    assert.ok(recordMatches(sampleRecord(1, "Bloqué"), filter));
    assert.ok(recordMatches(sampleRecord(1, "en cours"), filter));
    assert.ok(!recordMatches(sampleRecord(1, "Terminé"), filter));
  });

  it("restricts to the token's départements even without a query filter", () => {
    const scoped = buildFilter({}, ["69"]);
    assert.ok(!recordMatches(sampleRecord(1), scoped), "a Marseille record is outside scope 69");
    assert.ok(recordMatches(sampleRecord(1), buildFilter({}, ["13"])));
    assert.ok(recordMatches(sampleRecord(1), NO_FILTER));
  });

  it("sends a record that leaves the scope as a removal, never its new content", () => {
    const before = sampleRecord(1);
    const after = sampleRecord(1, "En attente", { Localisation: "3 rue Y, 69001 Lyon" });
    const event: RelayEvent = {
      id: "2",
      type: "record.updated",
      time: new Date().toISOString(),
      source: "webhook",
      record: after,
      changes: {
        localisation: { from: before.localisation, to: after.localisation },
        departement: { from: "13", to: "69" },
      },
    };
    assert.equal(visibility(event, buildFilter({}, ["13"])), "leaves");
    assert.equal(visibility(event, buildFilter({}, ["69"])), "enters");
    assert.equal(visibility(event, buildFilter({}, ["75"])), "hidden");
  });
});
