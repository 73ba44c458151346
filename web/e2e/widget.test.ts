/**
 * What must be shown (issue 2/6): the widget page works with a test double of `window.grist`
 * injected before load (records via onRecords, column mapping, options), and keeps the relay
 * stream for change events.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { FULL_MAPPING, GRIST_ROWS, gristDoubleScript } from "./grist-widget-double.ts";
import {
  cspViolations,
  launchBrowser,
  type OpenedPage,
  openPage,
  plain,
  RELAY_ENV,
  row,
  waitForLive,
} from "./harness.ts";

function double(page: Page) {
  type Double = {
    readyCalls: {
      requiredAccess: string;
      columns: { name: string; optional?: boolean }[];
      hasCustomOptions: boolean;
    }[];
    savedOptions: unknown[];
    emitRecords(rows: unknown[], mappings: unknown): void;
    emitOptions(options: unknown, settings: unknown): void;
    openConfiguration(): void;
  };
  const get = () => (window as unknown as { __gristDouble: Double }).__gristDouble;
  return {
    readyCalls: () =>
      page.evaluate(
        () => (window as unknown as { __gristDouble: Double }).__gristDouble.readyCalls,
      ),
    savedOptions: () =>
      page.evaluate(
        () => (window as unknown as { __gristDouble: Double }).__gristDouble.savedOptions,
      ),
    emitRecords: (rows: unknown[], mappings: unknown) =>
      page.evaluate(
        ([r, m]) =>
          (window as unknown as { __gristDouble: Double }).__gristDouble.emitRecords(
            r as unknown[],
            m,
          ),
        [rows, mappings] as const,
      ),
    emitOptions: (options: unknown, settings: unknown) =>
      page.evaluate(
        ([o, s]) =>
          (window as unknown as { __gristDouble: Double }).__gristDouble.emitOptions(o, s),
        [options, settings] as const,
      ),
    openConfiguration: () =>
      page.evaluate(() =>
        (window as unknown as { __gristDouble: Double }).__gristDouble.openConfiguration(),
      ),
    get,
  };
}

const DARK_THEME = {
  appearance: "dark",
  colors: {
    text: "#eeeeee",
    "text-light": "#a9a9a9",
    "page-panels-main-panel-bg": "#1e1e24",
    "table-body-border": "#3a3a44",
  },
};

describe("Grist custom widget", () => {
  let relay: TestRelay;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    // The relay knows a row the Grist section does not show: the widget must not list it.
    await relay.postWebhook([row(9, { ID2: "INT-RELAY-ONLY" })]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
  });

  it("declares its columns to Grist and asks only for read access on an open relay", async () => {
    view = await openPage(browser, `${relay.url}/widget/`, { initScript: gristDoubleScript() });
    const grist = double(view.page);
    await view.page.waitForFunction(
      () =>
        (window as unknown as { __gristDouble: { readyCalls: unknown[] } }).__gristDouble.readyCalls
          .length === 1,
    );
    const [ready] = await grist.readyCalls();
    assert.equal(ready?.requiredAccess, "read table");
    assert.equal(ready?.hasCustomOptions, true);
    assert.deepEqual(
      ready?.columns.map((c) => `${c.name}${c.optional ? "?" : ""}`),
      [
        "Reference",
        "Agent",
        "Localisation",
        "Type",
        "Statut",
        "Priorite",
        "Derniere_MAJ",
        "Commentaire",
        "Latitude?",
        "Longitude?",
      ],
    );
  });

  it("shows Grist's rows through the user's column mapping and follows Grist's theme and options", async () => {
    const grist = double(view.page);
    await grist.emitOptions(
      { title: "Astreinte Marseille" },
      { accessLevel: "read table", theme: DARK_THEME },
    );
    await grist.emitRecords(GRIST_ROWS, FULL_MAPPING);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 2);
    // Termine (closed) is counted but not listed; the urgent blocked one comes first.
    assert.deepEqual(
      await view.page.$$eval("article.card .card__ref", (els) => els.map((e) => e.textContent)),
      ["INT-102", "INT-101"],
    );
    assert.equal(plain(await view.page.textContent('[data-counter="total"] .counter__value')), "3");
    assert.equal(
      plain(await view.page.textContent('[data-counter="termine"] .counter__value')),
      "1",
    );
    assert.equal(await view.page.locator('article.card:has-text("INT-RELAY-ONLY")').count(), 0);
    assert.equal(plain(await view.page.textContent(".topbar__title")), "Astreinte Marseille");
    assert.equal(
      await view.page.evaluate(() => document.documentElement.classList.contains("in-grist")),
      true,
    );
    assert.equal(
      await view.page.evaluate(() => getComputedStyle(document.body).color),
      "rgb(238, 238, 238)",
    );
    assert.match(
      plain(await view.page.textContent('article.card[data-key="1"] .card__dep')),
      /^13$/,
    );
  });

  it("asks to map the columns when a required one is not mapped", async () => {
    const grist = double(view.page);
    await grist.emitRecords(GRIST_ROWS, { ...FULL_MAPPING, Statut: null });
    await view.page.waitForSelector(".notice:not([hidden])");
    assert.match(
      plain(await view.page.textContent(".notice")),
      /^Veuillez associer les colonnes du widget .* Statut\.$/,
    );
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 0);
    // Optional coordinates may stay unmapped.
    await grist.emitRecords(GRIST_ROWS, { ...FULL_MAPPING, Latitude: null, Longitude: null });
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 2);
    assert.equal(await view.page.isHidden(".notice"), true);
  });

  it("keeps the relay stream for change notifications and the chronology", async () => {
    await waitForLive(view.page);
    await relay.postWebhook([
      row(1, { ID2: "INT-101", Statut: "Bloqué", Priorite: "Urgente", Agent: "Alice Martin" }),
    ]);
    await view.page.waitForSelector(".toast--alarm");
    assert.match(
      plain(await view.page.textContent(".toast--alarm")),
      /Alice Martin — Nouvelle intervention INT-101/,
    );
    await view.page.waitForSelector('article.card[data-key="1"].card--flash');
    await view.page.click("#onglet-chronologie");
    await view.page.waitForSelector('.tl__item:has-text("INT-101")');
  });

  it("saves options from its configuration panel through Grist", async () => {
    const grist = double(view.page);
    await grist.openConfiguration();
    await view.page.waitForSelector("dialog.options[open]");
    await view.page.fill("#opt-title", "Astreinte de nuit");
    await view.page.selectOption("#opt-tab", "carte");
    await view.page.click('dialog.options button[type="submit"]');
    await view.page.waitForSelector("dialog.options", { state: "detached" });
    assert.deepEqual(await grist.savedOptions(), [
      { title: "Astreinte de nuit", defaultTab: "carte" },
    ]);
    assert.equal(plain(await view.page.textContent(".topbar__title")), "Astreinte de nuit");
    // Grist's theme arrives as an inline <style>: the widget's CSP must let it through.
    assert.deepEqual(await cspViolations(view.page), []);
    assert.deepEqual(view.errors, []);
  });
});
