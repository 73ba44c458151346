/**
 * What must be shown (issue 10): the store behind the relay is replaced by another one (a new
 * history, a new epoch) while a page is open. The page gets `reset`, shows exactly the new
 * state (no card of the old history left) and drops none of the new history's events, even
 * those whose position it had already seen live in the old one.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

const cardKeys = (view: OpenedPage) =>
  view.page.$$eval("article.card", (cards) => cards.map((c) => c.getAttribute("data-key")));

describe("a page whose relay's store was replaced", () => {
  const dirs = [mkdtempSync(join(tmpdir(), "e2e-old-")), mkdtempSync(join(tmpdir(), "e2e-new-"))];
  let relay: TestRelay | undefined;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    [relay, browser] = await Promise.all([
      startTestRelay({ dataDir: dirs[0], env: RELAY_ENV }),
      launchBrowser(),
    ]);
    await relay.postWebhook([row(1)]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("resets to exactly the new state and drops none of the new history's events", async () => {
    assert.ok(relay);
    const { port, url } = relay;
    view = await openPage(browser, `${url}/`);
    await waitForLive(view.page);
    // Events 2 to 5 of the old history arrive live: the page remembers their ids.
    await relay.postWebhook([row(2), row(3)]);
    await relay.postWebhook([row(1, { Statut: "Bloqué" })]);
    await relay.postWebhook([row(2, { Statut: "En attente" })]);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 3);
    await view.page.waitForSelector('[data-counter="bloque"] .counter__value:text-is("1")');

    // Another store, filled elsewhere with three events (positions 1 to 3).
    const other = await startTestRelay({ dataDir: dirs[1], env: RELAY_ENV });
    await other.postWebhook([row(11, { Statut: "En attente" }), row(12), row(13)]);
    await other.close();
    await view.page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });

    // The same address now serves that store: the page resumes with an id of the old one.
    await relay.close();
    relay = await startTestRelay({ port, dataDir: dirs[1], env: RELAY_ENV });
    await waitForLive(view.page, 15_000);
    await view.page.waitForFunction(
      () =>
        [...document.querySelectorAll("article.card")]
          .map((c) => c.getAttribute("data-key"))
          .sort()
          .join() === "11,12,13",
    );
    assert.deepEqual((await cardKeys(view)).sort(), ["11", "12", "13"], "no old card left");
    assert.equal(plain(await view.page.textContent('[data-counter="total"] .counter__value')), "3");
    assert.equal(
      plain(await view.page.textContent('[data-counter="bloque"] .counter__value')),
      "0",
    );

    // Positions 4 and 5 of the new history: the page saw "4" and "5" live in the old one.
    await relay.postWebhook([row(11, { Statut: "Bloqué" })]);
    await relay.postWebhook([row(14)]);
    await view.page.waitForSelector('article.card[data-key="14"]');
    await view.page.waitForSelector('[data-counter="bloque"] .counter__value:text-is("1")');
    assert.deepEqual((await cardKeys(view)).sort(), ["11", "12", "13", "14"]);
    assert.equal(plain(await view.page.textContent('[data-counter="total"] .counter__value')), "4");

    // The chronology holds the new history only.
    await view.page.click("#onglet-chronologie");
    await view.page.waitForSelector('.tl__item:has-text("INT-014")');
    const refs = await view.page.$$eval(".tl__item .tl__ref", (els) =>
      els.map((e) => e.textContent),
    );
    assert.deepEqual(
      [...new Set(refs)].sort(),
      ["INT-011", "INT-012", "INT-013", "INT-014"],
      "no event of the old history",
    );
    assert.equal(
      await view.page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload),
      true,
      "without reloading the page",
    );
    assert.deepEqual(view.errors, []);
  });
});
