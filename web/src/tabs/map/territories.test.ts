import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultTerritory, territoryOf } from "./territories.ts";

describe("map territories", () => {
  it("puts Marseille, Ajaccio and Bastia in mainland France and each overseas town in its own", () => {
    assert.equal(territoryOf(43.2965, 5.3698), "metropole");
    assert.equal(territoryOf(41.9192, 8.7386), "metropole");
    assert.equal(territoryOf(42.7028, 9.4503), "metropole");
    assert.equal(territoryOf(4.9224, -52.3135), "973");
    assert.equal(territoryOf(-20.8823, 55.4504), "974");
    assert.equal(territoryOf(16.2411, -61.5331), "971");
    assert.equal(territoryOf(14.6161, -61.0588), "972");
    assert.equal(territoryOf(-12.7806, 45.2279), "976");
    assert.equal(territoryOf(40.4168, -3.7038), "ailleurs", "Madrid");
  });

  it("opens on mainland France unless only overseas territories have markers", () => {
    assert.equal(defaultTerritory(new Map()), "metropole");
    assert.equal(
      defaultTerritory(
        new Map([
          ["metropole", 1],
          ["973", 9],
        ]),
      ),
      "metropole",
    );
    assert.equal(
      defaultTerritory(
        new Map([
          ["974", 2],
          ["973", 5],
        ]),
      ),
      "973",
    );
  });
});
