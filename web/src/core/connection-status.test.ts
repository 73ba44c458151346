import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectionView, staleAfterMs } from "./connection-status.ts";
import { formatClock, formatClockSeconds } from "./relative-time.ts";

const now = Date.parse("2026-11-24T12:00:00Z");
const base = { nowMs: now, lastEventAt: null, staleAfterMs: staleAfterMs(30_000), online: true };

describe("connectionView", () => {
  it("says En direct only while open and recently heard", () => {
    assert.deepEqual(
      connectionView({ ...base, state: { phase: "open", lastSignalAt: now - 10_000 } }),
      {
        kind: "live",
        label: "En direct",
      },
    );
    const stale = connectionView({ ...base, state: { phase: "open", lastSignalAt: now - 70_000 } });
    assert.equal(stale.kind, "reconnecting");
  });

  it("announces the next attempt while reconnecting", () => {
    const next = now + 4_000;
    const view = connectionView({
      ...base,
      state: {
        phase: "waiting",
        nextAttemptAt: next,
        failures: 1,
        since: now - 1_000,
        authProblem: null,
      },
    });
    assert.equal(view.kind, "reconnecting");
    assert.equal(view.label, `Reconnexion… (prochaine tentative à ${formatClockSeconds(next)})`);
  });

  it("switches to Hors ligne with the last event time after repeated failures or when the browser is offline", () => {
    const lastEventAt = now - 120_000;
    const state = {
      phase: "waiting",
      nextAttemptAt: now + 20_000,
      failures: 4,
      since: now - 40_000,
      authProblem: null,
    } as const;
    const view = connectionView({ ...base, lastEventAt, state });
    assert.equal(view.kind, "offline");
    assert.ok(
      view.label.startsWith(`Hors ligne — dernier événement à ${formatClock(lastEventAt)}`),
    );
    const offline = connectionView({
      ...base,
      online: false,
      state: { ...state, failures: 1, since: now },
    });
    assert.equal(offline.kind, "offline");
    assert.ok(offline.label.includes("aucun événement reçu"));
  });

  it("names a token problem", () => {
    const view = connectionView({
      ...base,
      state: {
        phase: "waiting",
        nextAttemptAt: now,
        failures: 1,
        since: now,
        authProblem: "unauthorized",
      },
    });
    assert.ok(view.label.includes("jeton manquant ou expiré"));
  });

  it("keeps En direct during a planned reconnection but not during a first connection", () => {
    assert.equal(
      connectionView({ ...base, state: { phase: "connecting", quiet: true, everOpened: true } })
        .kind,
      "live",
    );
    assert.equal(
      connectionView({ ...base, state: { phase: "connecting", quiet: false, everOpened: false } })
        .label,
      "Connexion…",
    );
    assert.equal(
      connectionView({ ...base, state: { phase: "connecting", quiet: false, everOpened: true } })
        .label,
      "Reconnexion…",
    );
  });
});
