import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention } from "../../../test/support/web/test-records.ts";
import {
  distinctValues,
  EMPTY_VALUE,
  filtersFromSearch,
  filtersToSearch,
  hasActiveFilter,
  matchesFilters,
  NO_FILTERS,
} from "./filters.ts";

describe("filters", () => {
  it("round-trips through the URL and keeps unrelated parameters", () => {
    const filters = { ...NO_FILTERS, departement: "13", statut: "En cours", q: "fuite eau" };
    const search = filtersToSearch(filters, new URLSearchParams("onglet=carte&statut=Bloqué"));
    assert.equal(search.get("onglet"), "carte");
    assert.equal(search.get("agent"), null);
    assert.deepEqual(filtersFromSearch(search), filters);
  });

  it("bounds the length of values read from the URL", () => {
    const filters = filtersFromSearch(new URLSearchParams({ q: "x".repeat(5000) }));
    assert.equal(filters.q.length, 200);
  });

  it("matches select filters ignoring case and accents", () => {
    const record = intervention({ statut: "Terminé", departement: "13" });
    assert.equal(matchesFilters(record, { ...NO_FILTERS, statut: "termine" }), true);
    assert.equal(matchesFilters(record, { ...NO_FILTERS, statut: "En cours" }), false);
    assert.equal(
      matchesFilters(record, { ...NO_FILTERS, departement: "13", statut: "TERMINÉ" }),
      true,
    );
  });

  it("selects records with an empty field through the empty value", () => {
    assert.equal(
      matchesFilters(intervention({ departement: null }), {
        ...NO_FILTERS,
        departement: EMPTY_VALUE,
      }),
      true,
    );
    assert.equal(
      matchesFilters(intervention({ departement: "13" }), {
        ...NO_FILTERS,
        departement: EMPTY_VALUE,
      }),
      false,
    );
  });

  it("requires every word of the free text somewhere in the record", () => {
    const record = intervention({
      commentaire: "Fuite d'eau sous la chaussée",
      agent: "Marie Durand",
    });
    assert.equal(matchesFilters(record, { ...NO_FILTERS, q: "chaussee marie" }), true);
    assert.equal(matchesFilters(record, { ...NO_FILTERS, q: "chaussee paul" }), false);
  });

  it("tells whether any filter is set", () => {
    assert.equal(hasActiveFilter(NO_FILTERS), false);
    assert.equal(hasActiveFilter({ ...NO_FILTERS, agent: "Marie Durand" }), true);
  });

  it("offers each distinct value once, sorted, plus a selection no record has any more", () => {
    const { values, hasEmpty } = distinctValues(
      [
        intervention({ type: "Voirie" }),
        intervention({ type: "voirie" }),
        intervention({ type: "Éclairage" }),
        intervention({ type: null }),
      ],
      "type",
      "Espaces verts",
    );
    assert.deepEqual(values, ["Éclairage", "Espaces verts", "Voirie"]);
    assert.equal(hasEmpty, true);
  });
});
