import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention, relayEvent } from "../../test/support/alerts/events.ts";
import { eventForRule, ruleMatches, triggerMatches } from "./matching.ts";
import { type AlertRule, defaultAlertRules } from "./rules.ts";

const [urgence, blocage] = defaultAlertRules(["tchap"]) as [AlertRule, AlertRule];

function names(event: Parameters<typeof ruleMatches>[1]): string[] {
  return [urgence, blocage].filter((rule) => ruleMatches(rule, event)).map((rule) => rule.name);
}

describe("alert rule matching", () => {
  it("alerts on an intervention created urgent, not on one created normal", () => {
    const urgent = intervention({ priorite: "Urgente" });
    assert.deepEqual(names(relayEvent({ type: "record.added", record: urgent })), ["urgence"]);
    assert.deepEqual(names(relayEvent({ type: "record.added", record: intervention() })), []);
  });

  it("alerts when priorite changes to Urgente, not when it leaves Urgente", () => {
    const toUrgent = relayEvent({
      type: "record.updated",
      record: intervention({ priorite: "Urgente" }),
      changes: { priorite: { from: "Haute", to: "Urgente" } },
    });
    const fromUrgent = relayEvent({
      type: "record.updated",
      record: intervention({ priorite: "Haute" }),
      changes: { priorite: { from: "Urgente", to: "Haute" } },
    });
    assert.deepEqual(names(toUrgent), ["urgence"]);
    assert.deepEqual(names(fromUrgent), []);
  });

  it("does not alert again when another field of an urgent intervention changes", () => {
    const event = relayEvent({
      type: "record.updated",
      record: intervention({ priorite: "Urgente", commentaire: "en route" }),
      changes: { commentaire: { from: null, to: "en route" } },
    });
    assert.deepEqual(names(event), []);
  });

  it("alerts on statut changed to Bloqué even when the rule was typed with a decomposed accent", () => {
    const decomposed = "Bloque\u0301";
    const event = relayEvent({
      type: "record.updated",
      record: intervention({ statut: "Bloqué" }),
      changes: { statut: { from: "En cours", to: "Bloqué" } },
    });
    assert.ok(triggerMatches({ on: "change", field: "statut", to: decomposed }, event));
    assert.deepEqual(names(event), ["blocage"]);
  });

  it("uses the current value when the relay never saw the previous state", () => {
    const unknownPrevious = relayEvent({
      type: "record.updated",
      record: intervention({ priorite: "Urgente" }),
      changes: {},
    });
    assert.deepEqual(names(unknownPrevious), ["urgence"]);
    assert.ok(
      !triggerMatches(
        { on: "change", field: "priorite", from: "Haute", to: "Urgente" },
        unknownPrevious,
      ),
      "a `from` condition cannot be checked without the previous state",
    );
  });

  it("ignores the initial sync unless the rule asks for it", () => {
    const synced = relayEvent({
      type: "record.added",
      source: "sync",
      record: intervention({ priorite: "Urgente" }),
    });
    assert.deepEqual(names(synced), []);
    assert.ok(ruleMatches({ ...urgence, sources: ["sync"] }, synced));
  });

  it("restricts a rule to its départements and types", () => {
    const rule: AlertRule = { ...urgence, departements: ["2A", "84"], types: ["Voirie"] };
    const event = (departement: string, type: string) =>
      relayEvent({
        type: "record.added",
        record: intervention({ priorite: "Urgente", departement, type }),
      });
    assert.ok(ruleMatches(rule, event("2A", "Voirie")));
    assert.ok(!ruleMatches(rule, event("13", "Voirie")));
    assert.ok(!ruleMatches(rule, event("84", "Bâtiment")));
  });

  it("matches where-conditions on raw Grist columns and lists of values", () => {
    const event = relayEvent({
      type: "record.added",
      record: intervention({ fields: { Equipes: ["Nord", "Astreinte"] } }),
    });
    assert.ok(
      triggerMatches({ on: "record.added", where: { "fields.Equipes": "Astreinte" } }, event),
    );
    assert.ok(
      triggerMatches({ on: "record.added", where: { statut: ["Bloqué", "En cours"] } }, event),
    );
    assert.ok(!triggerMatches({ on: "record.added", where: { "fields.Equipes": "Sud" } }, event));
  });

  it("compares the operator's words as the dashboard does: case, accents and spaces ignored", () => {
    for (const statut of ["Bloque", "bloqué", " BLOQUÉ "]) {
      const event = relayEvent({
        type: "record.updated",
        record: intervention({ statut }),
        changes: { statut: { from: "En cours", to: statut } },
      });
      assert.ok(triggerMatches({ on: "change", field: "statut", to: "Bloqué" }, event), statut);
      assert.deepEqual(names(event), ["blocage"], statut);
    }
  });

  it("does not alert when an urgent intervention is closed, even raised to Urgente on the way", () => {
    const closing = relayEvent({
      type: "record.updated",
      record: intervention({ statut: "Terminé", priorite: "Urgente" }),
      changes: { statut: { from: "Bloqué", to: "Terminé" } },
    });
    const raisedAndClosed = relayEvent({
      type: "record.updated",
      record: intervention({ statut: "Annulé", priorite: "Urgente" }),
      changes: {
        statut: { from: "En cours", to: "Annulé" },
        priorite: { from: "Haute", to: "Urgente" },
      },
    });
    const unseenClosed = relayEvent({
      type: "record.updated",
      record: intervention({ statut: "Terminé", priorite: "Urgente" }),
      changes: {},
    });
    assert.deepEqual([names(closing), names(raisedAndClosed), names(unseenClosed)], [[], [], []]);
  });

  it("sees a record entering a rule's départements as added, without its former values", () => {
    const rule: AlertRule = {
      ...blocage,
      departements: ["13"],
      triggers: [{ on: "record.added" }, { on: "change", field: "statut" }],
    };
    const moved = relayEvent({
      type: "record.updated",
      record: intervention({
        statut: "Bloqué",
        departement: "13",
        localisation: "13002 Marseille",
      }),
      changes: {
        localisation: { from: "69002 Lyon", to: "13002 Marseille" },
        departement: { from: "69", to: "13" },
        statut: { from: "En cours", to: "Bloqué" },
      },
    });
    const seen = eventForRule(rule, moved);
    assert.equal(seen?.type, "record.added");
    assert.equal(seen?.changes, undefined);
    const back = relayEvent({
      type: "record.updated",
      record: intervention({ departement: "69" }),
      changes: { departement: { from: "13", to: "69" } },
    });
    assert.equal(eventForRule(rule, back), null, "leaving the départements alerts nothing");
  });
});
