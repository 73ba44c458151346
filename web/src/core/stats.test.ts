import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention, liveEvent } from "../../../test/support/web/test-records.ts";
import { eventsPerHour, tallyBy } from "./stats.ts";

describe("tallyBy", () => {
  it("merges spellings, counts empty values apart and sorts largest first", () => {
    const tallies = tallyBy(
      [
        intervention({ statut: "Terminé" }),
        intervention({ statut: "termine" }),
        intervention({ statut: "En cours" }),
        intervention({ statut: null }),
      ],
      (r) => r.statut,
      "Sans statut",
    );
    assert.deepEqual(tallies, [
      { label: "Terminé", count: 2 },
      { label: "En cours", count: 1 },
      { label: "Sans statut", count: 1 },
    ]);
  });
});

describe("eventsPerHour", () => {
  it("counts events into 24 hourly buckets ending with the current hour", () => {
    const now = new Date(2026, 10, 24, 14, 35).getTime();
    const at = (h: number, m: number) => new Date(2026, 10, 24, h, m).toISOString();
    const series = eventsPerHour(
      [
        liveEvent({ time: at(14, 5) }),
        liveEvent({ time: at(14, 30) }),
        liveEvent({ time: at(13, 59) }),
        liveEvent({ time: at(15, 0) }), // next hour: beyond the last bucket (clock skew)
        liveEvent({ time: new Date(2026, 10, 23, 14, 59).toISOString() }), // 24 h ago: out
        liveEvent({ time: "not a date" }),
      ],
      now,
    );
    assert.equal(series.counts.length, 24);
    assert.equal(series.counts[23], 2);
    assert.equal(series.counts[22], 1);
    assert.equal(
      series.counts.reduce((a, b) => a + b, 0),
      3,
    );
    assert.equal(new Date(series.hourStarts[23] ?? 0).getHours(), 14);
  });
});
