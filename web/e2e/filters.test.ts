/**
 * What must be shown (issues 2/6 and 13): filters reduce the list and the counters and survive a
 * reload through the URL.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import {
  launchBrowser,
  type OpenedPage,
  openPage,
  plain,
  RELAY_ENV,
  row,
  waitForLive,
} from "./harness.ts";

describe("filters", () => {
  let relay: TestRelay;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    await relay.postWebhook([
      row(1, { Statut: "Bloqué", Localisation: "1 quai du Port, 13002 Marseille" }),
      row(2, { Statut: "En cours", Localisation: "8 bd Y, 13008 Marseille", Agent: "Paul Martin" }),
      row(3, { Statut: "Bloqué", Localisation: "3 rue Z, 69002 Lyon", Agent: "Chloé Petit" }),
      row(4, { Statut: "En attente", Localisation: "Mairie, 75004 Paris", Type: "Éclairage" }),
    ]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
  });

  const cardKeys = () =>
    view.page.$$eval("article.card", (cards) =>
      cards.map((c) => c.getAttribute("data-key")).sort(),
    );

  it("reduces the list, keeps the choice in the URL and restores it after a reload", async () => {
    view = await openPage(browser, `${relay.url}/`);
    await waitForLive(view.page);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 4);

    await view.page.selectOption("#filtre-departement", "13");
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 2);
    assert.deepEqual(await cardKeys(), ["1", "2"]);
    await view.page.selectOption("#filtre-statut", "Bloqué");
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 1);
    assert.deepEqual(await cardKeys(), ["1"]);
    const query = new URL(view.page.url()).searchParams;
    assert.equal(query.get("departement"), "13");
    assert.equal(query.get("statut"), "Bloqué");
    // Counters follow the filters (issue 13), with the national total beside them.
    assert.equal(plain(await view.page.textContent('[data-counter="total"] .counter__value')), "1");
    assert.equal(plain(await view.page.textContent(".counter__national")), "sur 4 au total");

    await view.page.reload();
    await waitForLive(view.page);
    await view.page.waitForSelector("article.card");
    assert.deepEqual(await cardKeys(), ["1"]);
    assert.equal(await view.page.inputValue("#filtre-departement"), "13");
    assert.equal(await view.page.inputValue("#filtre-statut"), "Bloqué");
    assert.equal(
      plain(await view.page.textContent(".list__summary")),
      "1 intervention active sur 4 (filtres appliqués)",
    );

    // Free text, typed with the keyboard, narrows the unfiltered list too.
    await view.page.click(".filters__reset");
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 4);
    assert.equal(new URL(view.page.url()).search, "");
    await view.page.focus("#filtre-q");
    await view.page.keyboard.type("chloe lyon");
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 1);
    assert.deepEqual(await cardKeys(), ["3"]);
    assert.equal(new URL(view.page.url()).searchParams.get("q"), "chloe lyon");
  });

  it("moves between tabs with the arrow keys and keeps the tab in the URL", async () => {
    await view.page.focus("#onglet-liste");
    await view.page.keyboard.press("ArrowRight");
    await view.page.keyboard.press("ArrowRight");
    assert.equal(await view.page.getAttribute("#onglet-chronologie", "aria-selected"), "true");
    assert.equal(await view.page.evaluate(() => document.activeElement?.id), "onglet-chronologie");
    assert.equal(await view.page.isVisible("#panneau-chronologie"), true);
    assert.equal(await view.page.isVisible("#panneau-liste"), false);
    assert.equal(new URL(view.page.url()).searchParams.get("onglet"), "chronologie");
    // The chronology follows the same filters.
    await view.page.waitForSelector(".tl__item");
    const refs = await view.page.$$eval(".tl__item .tl__ref", (els) => [
      ...new Set(els.map((e) => e.textContent)),
    ]);
    assert.deepEqual(refs, ["INT-003"]);
  });
});
