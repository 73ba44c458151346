import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { POSITION_SOURCES } from "../../../src/domain/vocabulary.ts";
import { type ConnectionKind, connectionView, type StreamPhase } from "./connection-status.ts";
import { CONNECTION_LEGEND, POSITION_LEGEND, PRIORITY_LEGEND, STATUS_LEGEND } from "./legend.ts";
import { PRIORITY_KINDS, priorityKind, STATUS_KINDS, statusKind } from "./vocabulary.ts";

const NOW = 1_700_000_000_000;

/** One situation per indicator state, written out by hand. */
const PHASE_OF: Record<ConnectionKind, { state: StreamPhase; online: boolean }> = {
  live: { state: { phase: "open", lastSignalAt: NOW - 1_000 }, online: true },
  connecting: { state: { phase: "connecting", quiet: false, everOpened: false }, online: true },
  reconnecting: { state: { phase: "connecting", quiet: false, everOpened: true }, online: true },
  offline: {
    state: {
      phase: "waiting",
      nextAttemptAt: NOW + 5_000,
      failures: 1,
      since: NOW - 1_000,
      authProblem: null,
    },
    online: false,
  },
};

describe("help legend", () => {
  it("explains every statut kind of the vocabulary, once, in its order", () => {
    assert.deepEqual(
      STATUS_LEGEND.map((entry) => entry.kind),
      [...STATUS_KINDS],
    );
    for (const entry of STATUS_LEGEND) assert.ok(entry.meaning.length > 20, entry.kind);
  });

  it("explains every priorité kind of the vocabulary, once, in its order", () => {
    assert.deepEqual(
      PRIORITY_LEGEND.map((entry) => entry.kind),
      [...PRIORITY_KINDS],
    );
    for (const entry of PRIORITY_LEGEND) assert.ok(entry.meaning.length > 20, entry.kind);
  });

  it("draws each badge from a value the dashboard classifies as that kind", () => {
    for (const entry of STATUS_LEGEND) assert.equal(statusKind(entry.sample), entry.kind);
    for (const entry of PRIORITY_LEGEND) assert.equal(priorityKind(entry.sample), entry.kind);
  });

  it("names each connection state with the words the header indicator shows in it", () => {
    assert.deepEqual(
      CONNECTION_LEGEND.map((entry) => entry.kind),
      ["live", "connecting", "reconnecting", "offline"],
    );
    for (const entry of CONNECTION_LEGEND) {
      const { state, online } = PHASE_OF[entry.kind];
      const view = connectionView({
        state,
        nowMs: NOW,
        lastEventAt: null,
        staleAfterMs: 15_000,
        online,
      });
      assert.equal(view.kind, entry.kind);
      assert.ok(view.label.startsWith(entry.label), `${view.label} / ${entry.label}`);
      assert.ok(entry.action.length > 0);
    }
  });

  it("explains every origin of a position, then the record without one", () => {
    assert.deepEqual(
      POSITION_LEGEND.map((entry) => entry.source),
      [...POSITION_SOURCES, null],
    );
    const approximate = POSITION_LEGEND.find((entry) => entry.source === "departement");
    assert.equal(approximate?.mark, "○");
    assert.match(approximate?.meaning ?? "", /approximative/);
  });
});
