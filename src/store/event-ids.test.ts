import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compareEventIds,
  formatEventId,
  isEpoch,
  newEpoch,
  positionIn,
  splitEventId,
} from "./event-ids.ts";
import { compareSequenceIds } from "./listeners.ts";

describe("event ids", () => {
  it("draws epochs of eight lowercase letters, different each time", () => {
    const epochs = new Set(Array.from({ length: 50 }, () => newEpoch()));
    assert.equal(epochs.size, 50);
    for (const epoch of epochs) assert.ok(isEpoch(epoch), epoch);
  });

  it("splits an id into its epoch and its position", () => {
    assert.deepEqual(splitEventId("kqzmbwta.42"), { epoch: "kqzmbwta", position: "42" });
    assert.deepEqual(splitEventId("kqzmbwta.1700000000000-3"), {
      epoch: "kqzmbwta",
      position: "1700000000000-3",
    });
    assert.equal(formatEventId("kqzmbwta", "42"), "kqzmbwta.42");
  });

  it("refuses what is not an id: bare positions, other shapes, control characters", () => {
    for (const bad of [
      "42",
      "",
      "KQZMBWTA.1",
      "kqzmbwt.1",
      "kqzmbwta.",
      "kqzmbwta.1\r\n",
      "a.b.c",
    ]) {
      assert.equal(splitEventId(bad), null, JSON.stringify(bad));
    }
    assert.equal(splitEventId(`kqzmbwta.${"1".repeat(42)}`), null, "bounded length");
  });

  it("gives a position only for ids of the given epoch", () => {
    assert.equal(positionIn("kqzmbwta", "kqzmbwta.7"), "7");
    assert.equal(positionIn("kqzmbwta", "abcdefgh.7"), null);
  });

  it("orders ids of the epoch by position, after every foreign id", () => {
    const compare = (a: string, b: string) => compareEventIds("kqzmbwta", a, b, compareSequenceIds);
    assert.ok(compare("kqzmbwta.9", "kqzmbwta.10") < 0);
    assert.ok(compare("abcdefgh.99", "kqzmbwta.1") < 0);
    assert.ok(compare("kqzmbwta.1", "garbage") > 0);
    assert.equal(compare("kqzmbwta.3", "kqzmbwta.3"), 0);
  });
});
