import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { groupByCell, type Placed, samePoint } from "./clusters.ts";

function point(key: string, x: number, y: number, latitude = y, longitude = x): Placed<string> {
  return { key, item: key, x, y, latitude, longitude };
}

describe("grid clustering", () => {
  it("groups markers that share a cell and leaves distant ones alone", () => {
    const groups = groupByCell(
      [point("b", 10, 10), point("a", 50, 30), point("c", 200, 10), point("d", 59, 59)],
      60,
    );
    assert.deepEqual(
      groups.map((g) => g.members.map((m) => m.key)),
      [["a", "b", "d"], ["c"]],
    );
    assert.equal(groups[0]?.key, "a|b|d");
    assert.equal(groups[0]?.latitude, (10 + 30 + 59) / 3);
  });

  it("tells a group of rows placed on one point (a département's) from one that zooming splits", () => {
    const [same] = groupByCell([point("1", 5, 5, 43.5, 5.1), point("2", 6, 6, 43.5, 5.1)], 60);
    const [apart] = groupByCell([point("1", 5, 5, 43.5, 5.1), point("2", 6, 6, 43.51, 5.1)], 60);
    assert.equal(same && samePoint(same), true);
    assert.equal(apart && samePoint(apart), false);
  });
});
