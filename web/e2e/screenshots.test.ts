/**
 * What must be shown (issues 2/6 and 13): screenshots of each tab at 1280×800 and 390×844, with
 * a burst of notifications on screen, saved under test-artifacts/screenshots/. Each tab is also
 * checked to render under the CSP without errors and with no axe-core violation.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { FULL_MAPPING, GRIST_ROWS, gristDoubleScript } from "./grist-widget-double.ts";
import {
  axeViolations,
  cspViolations,
  launchBrowser,
  openPage,
  plain,
  RELAY_ENV,
  row,
  screenshot,
  waitForLive,
} from "./harness.ts";

const now = Math.floor(Date.now() / 1000);
const ROWS = [
  row(1, {
    Statut: "Bloqué",
    Priorite: "Urgente",
    Agent: "Marie Durand",
    Type: "Voirie",
    Localisation: "12 rue de la République, 13001 Marseille",
    Commentaire: "Chaussée effondrée, périmètre à sécuriser",
    Latitude: 43.2985,
    Longitude: 5.3745,
    Derniere_MAJ: now - 120,
  }),
  row(2, {
    Statut: "En cours",
    Priorite: "Urgente",
    Agent: "Paul Martin",
    Type: "Éclairage",
    Localisation: "Quai du Port, 13002 Marseille",
    Commentaire: "Candélabre tombé",
    Latitude: 43.2962,
    Longitude: 5.3698,
    Derniere_MAJ: now - 900,
  }),
  row(3, {
    Statut: "En cours",
    Priorite: "Haute",
    Agent: "Chloé Petit",
    Type: "Espaces verts",
    Localisation: "Parc Borély, 13008 Marseille",
    Commentaire: "Arbre menaçant",
    Latitude: 43.259,
    Longitude: 5.3775,
    Derniere_MAJ: now - 1_800,
  }),
  row(4, {
    Statut: "En attente",
    Priorite: "Haute",
    Agent: "David Roux",
    Type: "Voirie",
    Localisation: "Cours Lafayette, 69003 Lyon",
    Commentaire: "En attente du matériel",
    Latitude: 45.7621,
    Longitude: 4.8436,
    Derniere_MAJ: now - 3_600,
  }),
  row(5, {
    Statut: "En attente",
    Priorite: "Normale",
    Agent: "Emma Bernard",
    Type: "Propreté",
    Localisation: "Place Bellecour, 69002 Lyon",
    Commentaire: "",
    Latitude: 45.7578,
    Longitude: 4.832,
    Derniere_MAJ: now - 7_200,
  }),
  row(6, {
    Statut: "En cours",
    Priorite: "Normale",
    Agent: "Marie Durand",
    Type: "Signalisation",
    Localisation: "Rue de Rivoli, 75004 Paris",
    Commentaire: "Panneau à remplacer",
    Latitude: 48.8559,
    Longitude: 2.3581,
    Derniere_MAJ: now - 10_800,
  }),
  row(7, {
    Statut: "En cours",
    Priorite: "Basse",
    Agent: "Paul Martin",
    Type: "Propreté",
    Localisation: "Mairie annexe",
    Commentaire: "Tags sur la façade",
    Latitude: null,
    Longitude: null,
    Derniere_MAJ: now - 20_000,
  }),
  row(8, {
    Statut: "Terminé",
    Priorite: "Haute",
    Agent: "Chloé Petit",
    Type: "Voirie",
    Localisation: "Avenue du Prado, 13008 Marseille",
    Commentaire: "Réparé",
    Latitude: 43.27,
    Longitude: 5.39,
    Derniere_MAJ: now - 30_000,
  }),
  row(9, {
    Statut: "En attente",
    Priorite: "Normale",
    Agent: "Emma Bernard",
    Type: "Éclairage",
    Localisation: "Gare, 34000 Montpellier",
    Commentaire: "Devis demandé",
    Latitude: null,
    Longitude: null,
    Derniere_MAJ: now - 40_000,
  }),
];

const TABS = ["liste", "carte", "chronologie", "statistiques"] as const;

const VIEWPORTS = [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
];

/** What the relay holds, row by row, so each post changes only the fields it names. */
const current = new Map<number, Record<string, unknown>>(
  ROWS.map((fields) => [Number(fields.id), fields]),
);

function change(id: number, fields: Record<string, unknown>): Record<string, unknown> {
  const next = row(id, { ...current.get(id), ...fields });
  current.set(id, next);
  return next;
}

/** Three ordinary changes: comments only, so no count the assertions rely on moves. */
function commentBurst(label: string): Record<string, unknown>[] {
  return [6, 7, 3].map((id, i) => change(id, { Commentaire: `Point d'étape ${label}.${i + 1}` }));
}

describe("screenshots", () => {
  let relay: TestRelay;
  let browser: Browser;

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    await relay.postWebhook(ROWS);
    await relay.postWebhook([change(5, { Statut: "En cours", Commentaire: "Équipe sur place" })]);
    await relay.postWebhook([
      change(4, { Statut: "Bloqué", Priorite: "Urgente", Commentaire: "Accès impossible" }),
    ]);
    await relay.postWebhook([change(9, { Statut: "Terminé" })]);
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  for (const viewport of VIEWPORTS) {
    it(`renders every tab at ${viewport.width}×${viewport.height} without errors or CSP violations`, async () => {
      const view = await openPage(browser, `${relay.url}/`, { viewport });
      try {
        await waitForLive(view.page);
        await view.page.waitForFunction(
          () => document.querySelectorAll(".list article.card").length === 7,
        );
        // Two alarms (they stay until seen) for every screenshot of this size; other rows at
        // each size, since an alarm is raised by becoming urgent, once.
        const alarms = (viewport.width > 1000 ? [3, 6] : [7, 5]).map((id) =>
          change(id, { Priorite: "Urgente" }),
        );
        for (const alarm of alarms) await relay.postWebhook([alarm]);
        await view.page.waitForFunction(
          () => document.querySelectorAll('[role="alert"] .toast--alarm').length === 2,
        );
        let round = 0;
        for (const tab of TABS) {
          await view.page.click(`#onglet-${tab}`);
          round += 1;
          for (const change of commentBurst(`${viewport.width}-${round}`))
            await relay.postWebhook([change]);
          await view.page.waitForFunction(
            (text) =>
              document.querySelector(".toasts__changes")?.textContent?.includes(text) ||
              document.querySelector(".toast--group") !== null,
            `Point d'étape ${viewport.width}-${round}.3`,
          );
          if (tab === "carte") {
            // 6 active interventions have coordinates (nearby ones grouped, a group showing
            // its count); 1 is listed beside the map.
            await view.page.waitForFunction(
              () =>
                [...document.querySelectorAll(".leaflet-marker-icon.pin")].reduce(
                  (sum, pin) =>
                    sum + (pin.classList.contains("pin--cluster") ? Number(pin.textContent) : 1),
                  0,
                ) === 6,
            );
            assert.equal(await view.page.locator(".map__nocoord").count(), 1);
          }
          if (tab === "chronologie") {
            await view.page.waitForSelector(".tl__item");
            // Seconds, and the changed field's name marked (issue 13).
            assert.match(
              plain(await view.page.textContent(".tl__item >> nth=0 >> .tl__clock")),
              /^\d\d:\d\d:\d\d$/,
            );
            assert.equal(
              plain(await view.page.textContent(".tl__item >> nth=0 >> .tl__field")),
              "Commentaire",
            );
            assert.equal(await view.page.locator('.tl__item:has-text("Mise à jour")').count(), 0);
          }
          if (tab === "statistiques") {
            await view.page.waitForFunction(
              () =>
                [...document.querySelectorAll(".stats canvas")].filter((c) =>
                  c.getAttribute("aria-label"),
                ).length === 4,
            );
            const label = await view.page.getAttribute(
              ".stats__card >> nth=0 >> canvas",
              "aria-label",
            );
            assert.match(label ?? "", /^Interventions par statut\. .*En cours : 5/);
          }
          await view.page.evaluate(() => window.scrollTo(0, 0));
          if (tab === "liste") {
            // Notifications sit beside (or above) the cards, never over them (issue 13).
            const overlaps = await view.page.evaluate(() => {
              const boxes = (selector: string) =>
                [...document.querySelectorAll(selector)].map((e) => e.getBoundingClientRect());
              const toasts = boxes(".toasts .toast");
              return boxes("article.card").filter((card) =>
                toasts.some(
                  (t) =>
                    t.left < card.right &&
                    card.left < t.right &&
                    t.top < card.bottom &&
                    card.top < t.bottom,
                ),
              ).length;
            });
            assert.ok((await view.page.locator(".toasts .toast").count()) >= 3);
            assert.equal(overlaps, 0);
          }
          await screenshot(view.page, `standalone-${viewport.width}x${viewport.height}-${tab}`);
          assert.deepEqual(await axeViolations(view.page), [], `axe-core, onglet ${tab}`);
        }
        // The relay status panel (a loopback relay without auth answers /api/status).
        await view.page.click("#onglet-liste");
        await view.page.click(".relay__summary");
        await view.page.waitForSelector(".relay[open] .relay__row");
        assert.match((await view.page.textContent(".relay__list")) ?? "", /Abonnés connectés/);
        await screenshot(
          view.page,
          `standalone-${viewport.width}x${viewport.height}-etat-du-relais`,
        );
        assert.deepEqual(await cspViolations(view.page), []);
        assert.deepEqual(view.errors, []);
        // Nothing overflows sideways on a phone.
        const overflow = await view.page.evaluate(
          () => document.documentElement.scrollWidth - window.innerWidth,
        );
        assert.ok(overflow <= 0, `page is ${overflow}px wider than the viewport`);
      } finally {
        await view.context.close();
      }
    });
  }

  it("renders the widget in Grist's dark theme", async () => {
    const view = await openPage(browser, `${relay.url}/widget/`, {
      viewport: { width: 1280, height: 800 },
      initScript: gristDoubleScript(),
    });
    try {
      await view.page.waitForFunction(
        () =>
          (window as unknown as { __gristDouble?: { readyCalls: unknown[] } }).__gristDouble
            ?.readyCalls.length === 1,
      );
      await view.page.evaluate(
        ([rows, mapping]) => {
          const double = (
            window as unknown as {
              __gristDouble: {
                emitOptions(o: unknown, s: unknown): void;
                emitRecords(r: unknown, m: unknown): void;
              };
            }
          ).__gristDouble;
          double.emitOptions(null, {
            accessLevel: "read table",
            theme: {
              appearance: "dark",
              colors: {
                text: "#efefef",
                "text-light": "#a9a9b3",
                "page-panels-main-panel-bg": "#1f1f26",
                "page-bg": "#26262e",
                "table-body-border": "#3b3b45",
                "accent-text": "#17b378",
              },
            },
          });
          double.emitRecords(rows, mapping);
        },
        [GRIST_ROWS, FULL_MAPPING] as const,
      );
      await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 2);
      await waitForLive(view.page);
      await screenshot(view.page, "widget-1280x800-liste-sombre");
      assert.deepEqual(view.errors, []);
    } finally {
      await view.context.close();
    }
  });
});
