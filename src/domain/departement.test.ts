import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { departementFromAddress, departementFromPostcode } from "./departement.ts";

describe("departementFromPostcode", () => {
  it("takes the first two digits in metropolitan France", () => {
    assert.equal(departementFromPostcode("13001"), "13");
    assert.equal(departementFromPostcode("01000"), "01");
    assert.equal(departementFromPostcode("95000"), "95");
  });
  it("splits Corsica into 2A and 2B", () => {
    assert.equal(departementFromPostcode("20000"), "2A");
    assert.equal(departementFromPostcode("20137"), "2A");
    assert.equal(departementFromPostcode("20200"), "2B");
    assert.equal(departementFromPostcode("20600"), "2B");
  });
  it("keeps three digits overseas, 971 to 976", () => {
    assert.equal(departementFromPostcode("97110"), "971");
    assert.equal(departementFromPostcode("97411"), "974");
    assert.equal(departementFromPostcode("97600"), "976");
    assert.equal(departementFromPostcode("97700"), null);
  });
  it("refuses codes that are no département", () => {
    assert.equal(departementFromPostcode("00123"), null);
    assert.equal(departementFromPostcode("96000"), null);
    assert.equal(departementFromPostcode("99000"), null);
    assert.equal(departementFromPostcode("1300"), null);
  });
});

describe("departementFromAddress", () => {
  it("finds the postcode at the end of an address", () => {
    assert.equal(departementFromAddress("12 rue de la République, 13001 Marseille"), "13");
    assert.equal(departementFromAddress("Route de Bastia 20600 Furiani"), "2B");
    assert.equal(departementFromAddress("5 rue Juliette Dodu, 97400 Saint-Denis"), "974");
  });
  it("ignores longer digit runs and addresses without postcode", () => {
    assert.equal(departementFromAddress("Batiment A, salle 12"), null);
    assert.equal(departementFromAddress("Dossier 1234567"), null);
    assert.equal(departementFromAddress(null), null);
  });
});
