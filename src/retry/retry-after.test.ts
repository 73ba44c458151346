import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRetryAfter } from "./retry-after.ts";

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

describe("Retry-After", () => {
  it("reads delay-seconds as milliseconds", () => {
    assert.equal(parseRetryAfter("0", NOW), 0);
    assert.equal(parseRetryAfter(" 120 ", NOW), 120_000);
  });

  it("reads an HTTP-date as the time left until then, never negative", () => {
    assert.equal(parseRetryAfter("Sat, 28 Nov 2026 12:00:30 GMT", NOW), 30_000);
    assert.equal(parseRetryAfter("Sat, 28 Nov 2026 11:00:00 GMT", NOW), 0);
  });

  it("ignores an absent or unreadable header", () => {
    for (const header of [null, undefined, "", "soon", "-3", "1.5", "12abc"]) {
      assert.equal(parseRetryAfter(header, NOW), null, String(header));
    }
  });

  it("bounds an absurd delay to a year", () => {
    assert.equal(parseRetryAfter("9999999999", NOW), 365 * 24 * 3600 * 1000);
  });
});
