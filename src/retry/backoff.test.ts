import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backoffDelayMs } from "./backoff.ts";

describe("retry backoff", () => {
  it("doubles after each failure, between half and all of the step", () => {
    const low = () => 0;
    const high = () => 1;
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, { baseMs: 1000 }, low)),
      [500, 1000, 2000, 4000],
    );
    assert.deepEqual(
      [1, 2, 3, 4].map((attempt) => backoffDelayMs(attempt, { baseMs: 1000 }, high)),
      [1000, 2000, 4000, 8000],
    );
  });

  it("spreads a full-jitter wait between zero and the step", () => {
    const options = { baseMs: 250, maxMs: 10_000, jitter: "full" } as const;
    assert.equal(
      backoffDelayMs(3, options, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(3, options, () => 0.5),
      500,
    );
    assert.equal(
      backoffDelayMs(3, options, () => 0.999),
      999,
    );
  });

  it("never exceeds the ceiling, even after many failures", () => {
    assert.equal(
      backoffDelayMs(60, { baseMs: 2000, maxMs: 300_000 }, () => 1),
      300_000,
    );
    assert.equal(
      backoffDelayMs(10_000, {}, () => 1),
      300_000,
    );
  });
});
