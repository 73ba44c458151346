import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention } from "../../../test/support/web/test-records.ts";
import { closedToday } from "./closed.ts";

describe("closedToday", () => {
  it("lists today's closed interventions, latest first, and counts the older or undated ones", () => {
    const now = new Date(2026, 10, 28, 15, 0).getTime();
    const at = (h: number) => new Date(2026, 10, 28, h, 0).toISOString();
    const split = closedToday(
      [
        intervention({ id: 1, statut: "Terminé", derniereMaj: at(9) }),
        intervention({ id: 2, statut: "Annulé", derniereMaj: at(14) }),
        intervention({ id: 3, statut: "En cours", derniereMaj: at(10) }),
        intervention({
          id: 4,
          statut: "termine",
          derniereMaj: new Date(2026, 10, 27, 23).toISOString(),
        }),
        intervention({ id: 5, statut: "Terminé", derniereMaj: null }),
      ],
      now,
    );
    assert.deepEqual(
      split.today.map((r) => r.id),
      [2, 1],
    );
    assert.equal(split.older, 2);
  });
});
