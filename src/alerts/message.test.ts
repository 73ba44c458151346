import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention, relayEvent } from "../../test/support/alerts/events.ts";
import {
  dashboardLink,
  displayValue,
  escapeHtml,
  renderAlert,
  toMatrixContent,
} from "./message.ts";

const dashboardUrl = "https://relais.exemple.gouv.fr";

const becameUrgent = relayEvent({
  type: "record.updated",
  record: intervention({ priorite: "Urgente", commentaire: "Conduite d'eau rompue" }),
  changes: {
    priorite: { from: "Haute", to: "Urgente" },
    derniereMaj: { from: "2026-11-24T09:00:00.000Z", to: "2026-11-24T09:30:00.000Z" },
  },
});

describe("alert message", () => {
  it("renders the reference, the change, agent, localisation and a dashboard link in French", () => {
    const alert = renderAlert(becameUrgent, "🚨 Intervention urgente", { dashboardUrl });
    assert.equal(
      alert.text,
      [
        "🚨 Intervention urgente : INT-007",
        "Priorité : Haute → Urgente",
        "Agent : Marie Durand",
        "Localisation : 1 quai du Port, 13002 Marseille",
        "Type : Voirie",
        "Statut : En cours",
        "Commentaire : Conduite d'eau rompue",
        "Tableau de bord : https://relais.exemple.gouv.fr/?q=INT-007",
      ].join("\n"),
    );
    assert.equal(
      alert.html,
      "<p><strong>🚨 Intervention urgente : INT-007</strong></p><ul>" +
        "<li><b>Priorité :</b> Haute → Urgente</li>" +
        "<li><b>Agent :</b> Marie Durand</li>" +
        "<li><b>Localisation :</b> 1 quai du Port, 13002 Marseille</li>" +
        "<li><b>Type :</b> Voirie</li>" +
        "<li><b>Statut :</b> En cours</li>" +
        "<li><b>Commentaire :</b> Conduite d&#39;eau rompue</li></ul>" +
        '<p><a href="https://relais.exemple.gouv.fr/?q=INT-007">Voir dans le tableau de bord</a></p>',
    );
  });

  it("is an m.text with a plain body and an org.matrix.custom.html body", () => {
    const alert = renderAlert(becameUrgent, "Alerte", {});
    assert.deepEqual(toMatrixContent(alert), {
      msgtype: "m.text",
      body: alert.text,
      format: "org.matrix.custom.html",
      formatted_body: alert.html,
    });
  });

  it("escapes a hostile comment so no markup reaches the HTML body", () => {
    const hostile = relayEvent({
      type: "record.added",
      record: intervention({ commentaire: "<img src=x onerror=alert(1)>", agent: 'a"b&c' }),
    });
    const alert = renderAlert(hostile, "Alerte", { dashboardUrl });
    assert.ok(alert.html.includes("&lt;img src=x onerror=alert(1)&gt;"));
    assert.ok(alert.html.includes("a&quot;b&amp;c"));
    assert.doesNotMatch(alert.html, /<img/);
    assert.ok(
      alert.text.includes("Commentaire : <img src=x onerror=alert(1)>"),
      "plain stays text",
    );
  });

  it("keeps each value on one line so a comment cannot forge another field", () => {
    const forged = relayEvent({
      type: "record.added",
      record: intervention({ commentaire: "RAS\nAgent : Faux Agent\u202e\r\n" }),
    });
    const lines = renderAlert(forged, "Alerte", {}).text.split("\n");
    assert.equal(lines.filter((line) => line.startsWith("Agent :")).length, 1);
    assert.ok(lines.includes("Commentaire : RAS Agent : Faux Agent"));
  });

  it("bounds long values", () => {
    assert.equal(displayValue("x".repeat(1000)).length, 301);
    assert.equal(displayValue(null), "(vide)");
    assert.equal(displayValue(["L", 1]), '["L",1]');
  });

  it("links only to an http(s) dashboard and encodes the reference", () => {
    assert.equal(dashboardLink("javascript:alert(1)", "INT-1"), null);
    assert.equal(dashboardLink(undefined, "INT-1"), null);
    assert.equal(
      dashboardLink("https://d.example/tableau", 'A&B "x"'),
      "https://d.example/tableau/?q=A%26B+%22x%22",
    );
    const alert = renderAlert(
      relayEvent({ type: "record.added", record: intervention({ reference: 'X"><script>' }) }),
      "Alerte",
      { dashboardUrl },
    );
    assert.ok(alert.html.includes('href="https://relais.exemple.gouv.fr/?q=X%22%3E%3Cscript%3E"'));
    assert.doesNotMatch(alert.html, /<script/);
  });

  it("names new and removed interventions, and updates whose previous state is unknown", () => {
    const second = (type: "record.added" | "record.removed" | "record.updated") =>
      renderAlert(relayEvent({ type, changes: {} }), "Alerte", {}).text.split("\n")[1];
    assert.equal(second("record.added"), "Nouvelle intervention");
    assert.equal(second("record.removed"), "Intervention supprimée");
    assert.equal(second("record.updated"), "Mise à jour (état précédent inconnu du relais)");
  });

  it("falls back to the row id when the intervention has no reference", () => {
    const alert = renderAlert(
      relayEvent({ type: "record.added", record: intervention({ reference: null, id: 12 }) }),
      "Alerte",
      { dashboardUrl },
    );
    assert.equal(alert.title, "Alerte : intervention n° 12");
    assert.equal(alert.link, "https://relais.exemple.gouv.fr/?q=12");
  });

  it("escapes the five HTML-significant characters", () => {
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>`),
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });
});
