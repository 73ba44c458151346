import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatAge, formatAgeIso } from "./relative-time.ts";

const now = Date.parse("2026-11-24T12:00:00Z");
/** Intl puts a no-break space between number and unit; compare with plain spaces. */
const plain = (text: string | null) => text?.replace(/\s/g, " ") ?? null;
const ago = (ms: number) => plain(formatAge(now - ms, now));

describe("formatAge", () => {
  it("says à l'instant for the last seconds and for clock skew into the future", () => {
    assert.equal(ago(10_000), "à l'instant");
    assert.equal(formatAge(now + 60_000, now), "à l'instant");
  });

  it("uses short French units", () => {
    assert.equal(ago(2 * 60_000), "il y a 2 min");
    assert.equal(ago(3 * 3_600_000), "il y a 3 h");
    assert.equal(ago(24 * 3_600_000), "hier");
    assert.equal(ago(5 * 24 * 3_600_000), "il y a 5 j");
  });

  it("returns null for missing or unreadable dates", () => {
    assert.equal(formatAgeIso(null, now), null);
    assert.equal(formatAgeIso("pas une date", now), null);
    assert.equal(plain(formatAgeIso("2026-11-24T11:58:00Z", now)), "il y a 2 min");
  });
});
