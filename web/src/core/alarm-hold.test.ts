import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { alarmHoldMs } from "./alarm-hold.ts";

describe("alarmHoldMs", () => {
  it("keeps an alarm 2 minutes by default and for values that are not a duration", () => {
    for (const query of ["", "duree_alerte=", "duree_alerte=abc", "duree_alerte=-5"]) {
      assert.equal(alarmHoldMs(new URLSearchParams(query)), 120_000, query);
    }
  });

  it("reads seconds from the address, 0 meaning until acknowledged, at most a day", () => {
    assert.equal(alarmHoldMs(new URLSearchParams("duree_alerte=30")), 30_000);
    assert.equal(alarmHoldMs(new URLSearchParams("duree_alerte=0")), 0);
    assert.equal(alarmHoldMs(new URLSearchParams("duree_alerte=999999")), 86_400_000);
  });
});
