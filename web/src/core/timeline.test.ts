import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention, liveEvent } from "../../../test/support/web/test-records.ts";
import { describeEvent, toastText } from "./timeline.ts";

describe("describeEvent", () => {
  it("writes a status change as 'Statut : from → to' after the agent", () => {
    const line = describeEvent(
      liveEvent({
        record: intervention({ agent: "Marie Durand", statut: "Terminé" }),
        changes: { statut: { from: "En cours", to: "Terminé" } },
      }),
    );
    assert.equal(`${line.actor} — ${line.text}`, "Marie Durand — Statut : En cours → Terminé");
  });

  it("lists several changes with the most telling first, shows empty values and leaves out Derniere_MAJ", () => {
    const line = describeEvent(
      liveEvent({
        changes: {
          derniereMaj: { from: null, to: null },
          commentaire: { from: null, to: "RAS" },
          priorite: { from: "Normale", to: "Urgente" },
        },
      }),
    );
    assert.equal(line.text, "Priorité : Normale → Urgente ; Commentaire : (vide) → RAS");
    assert.deepEqual(
      line.changes?.map((part) => part.field),
      ["priorite", "commentaire"],
    );
  });

  it("says an edit that only touched Derniere_MAJ updated the intervention", () => {
    const line = describeEvent(
      liveEvent({ changes: { derniereMaj: { from: "2026-11-28T10:00:00Z", to: null } } }),
    );
    assert.equal(line.text, "Intervention INT-001 mise à jour");
  });

  it("describes additions and removals, including out-of-scope ones", () => {
    assert.equal(
      describeEvent(
        liveEvent({
          type: "record.added",
          record: intervention({ reference: "INT-009", type: "Voirie", statut: "En attente" }),
        }),
      ).text,
      "Nouvelle intervention INT-009 (Voirie) · En attente",
    );
    const outOfScope = liveEvent({
      type: "record.removed",
      reason: "out-of-scope",
      record: intervention({ id: 4, agent: null, reference: null }),
    });
    assert.deepEqual(describeEvent(outOfScope), {
      actor: "Ligne 4",
      text: "Intervention sortie du périmètre",
    });
  });

  it("says in one sentence that the relay placed a row from its address", () => {
    const line = describeEvent(
      liveEvent({
        source: "geocoding",
        record: intervention({ positionSource: "adresse", positionScore: 0.96 }),
        changes: {
          latitude: { from: 43.5433, to: 43.2804 },
          longitude: { from: 5.0857, to: 5.3862 },
          positionSource: { from: "departement", to: "adresse" },
          positionScore: { from: null, to: 0.96 },
        },
      }),
    );
    assert.equal(line.text, "Position INT-001 trouvée d'après l'adresse");
  });

  it("names a position's origin in words when a person typed coordinates", () => {
    const line = describeEvent(
      liveEvent({
        changes: { positionSource: { from: "departement", to: "grist" } },
      }),
    );
    assert.equal(
      line.text,
      "Origine de la position : centre du département (approximative) → saisie dans Grist",
    );
  });

  it("shortens very long values", () => {
    const line = describeEvent(
      liveEvent({ changes: { commentaire: { from: "", to: "x".repeat(500) } } }),
    );
    assert.ok(line.text.length < 200);
    assert.ok(line.text.endsWith("…"));
  });

  it("prefixes the toast of an update with the reference", () => {
    const text = toastText(liveEvent({ changes: { statut: { from: "En cours", to: "Bloqué" } } }));
    assert.equal(text, "INT-001 · Marie Durand — Statut : En cours → Bloqué");
  });
});
