import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LiveIds } from "./live-ids.ts";

describe("LiveIds", () => {
  it("accepts an id once", () => {
    const ids = new LiveIds();
    assert.equal(ids.add("41"), true);
    assert.equal(ids.add("41"), false);
  });

  it("accepts ids again once cleared, as after a reset", () => {
    const ids = new LiveIds();
    ids.add("kqzmbwta.4");
    ids.clear();
    assert.equal(ids.add("kqzmbwta.4"), true);
  });

  it("forgets the oldest ids beyond its capacity", () => {
    const ids = new LiveIds(2);
    ids.add("1");
    ids.add("2");
    ids.add("3");
    assert.equal(ids.add("1"), true);
    assert.equal(ids.add("3"), false);
  });
});
