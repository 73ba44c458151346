import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention, liveEvent } from "../../../test/support/web/test-records.ts";
import { eventsPerHour, sortedByLabel, tallyBy, tallyByStatus } from "./stats.ts";

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

describe("tallyByStatus", () => {
  it("keeps the counters' order whatever the counts, shows the working statuses at zero and puts unknown ones after", () => {
    const tallies = tallyByStatus([
      intervention({ statut: "termine" }),
      intervention({ statut: "Terminé" }),
      intervention({ statut: "Bloqué" }),
      intervention({ statut: "Suspendu" }),
      intervention({ statut: null }),
      intervention({ statut: "Annulé" }),
    ]);
    assert.deepEqual(
      tallies.map((t) => [t.kind, t.label, t.count]),
      [
        ["en-cours", "En cours", 0],
        ["en-attente", "En attente", 0],
        ["bloque", "Bloqué", 1],
        ["termine", "termine", 2],
        ["annule", "Annulé", 1],
        ["autre", "Suspendu", 1],
        ["autre", "Sans statut", 1],
      ],
    );
  });
});

describe("sortedByLabel", () => {
  it("orders départements as numbers and puts the empty label last", () => {
    const sorted = sortedByLabel(
      [
        { label: "Sans département", count: 9 },
        { label: "69", count: 5 },
        { label: "2A", count: 1 },
        { label: "13", count: 2 },
      ],
      "Sans département",
    );
    assert.deepEqual(
      sorted.map((t) => t.label),
      ["2A", "13", "69", "Sans département"],
    );
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
