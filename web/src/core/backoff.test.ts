import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs } from "./backoff.ts";

const options = { baseMs: 1_000, capMs: 30_000 };

describe("backoffDelayMs", () => {
  it("doubles the ceiling per failure and never exceeds the cap", () => {
    const ceilings = [0, 1, 2, 3, 4, 5, 10, 100].map((attempt) =>
      backoffDelayMs(attempt, options, () => 0.999999),
    );
    assert.deepEqual(ceilings, [999, 1999, 3999, 7999, 15999, 29999, 29999, 29999]);
  });

  it("draws uniformly from zero (full jitter)", () => {
    assert.equal(
      backoffDelayMs(3, options, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(3, options, () => 0.5),
      4000,
    );
  });

  it("treats a negative attempt as the first one", () => {
    assert.equal(
      backoffDelayMs(-5, options, () => 0.5),
      500,
    );
  });
});
