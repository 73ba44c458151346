/**
 * What must be shown (issue 2/6): stopping and restarting the relay shows "Reconnexion…" then
 * "En direct", and what Grist delivers meanwhile (its retries) appears exactly once.
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

describe("reconnection after a relay restart", () => {
  let dataDir: string;
  let relay: TestRelay | undefined;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-e2e-"));
    [relay, browser] = await Promise.all([
      startTestRelay({ dataDir, env: RELAY_ENV }),
      launchBrowser(),
    ]);
    await relay.postWebhook([
      row(1, { Statut: "En cours" }),
      row(2, { Statut: "En attente", Agent: "Paul Martin" }),
    ]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("says Reconnexion… while the relay is down, then En direct, and shows each missed change once", async () => {
    assert.ok(relay);
    const { port, url } = relay;
    view = await openPage(browser, `${url}/?onglet=chronologie`);
    await waitForLive(view.page);
    await view.page.waitForSelector('.tl__item:has-text("INT-002")');
    await view.page.evaluate(() => {
      const page = window as unknown as { __noReload: boolean; __labels: string[] };
      page.__noReload = true;
      // In an empty network namespace (how CI runs the tests) Chromium reports
      // navigator.onLine = false, and the page rightly says "Hors ligne" at once. This test is
      // about the relay going away while the browser's own network is up: say it is.
      Object.defineProperty(Navigator.prototype, "onLine", { get: () => true });
      // Every text the indicator shows, recorded as it changes: on a loaded machine the page
      // may pass from "Reconnexion…" to "Hors ligne" between two polls of the test.
      page.__labels = [];
      const label = document.querySelector(".conn__label");
      if (label)
        new MutationObserver(() => page.__labels.push(label.textContent ?? "")).observe(label, {
          childList: true,
          characterData: true,
          subtree: true,
        });
    });

    await relay.close();
    relay = undefined;
    const reconnecting = await view.page.waitForFunction(
      () =>
        (window as unknown as { __labels: string[] }).__labels.find(
          // The time of the next attempt is filled in just after the word: wait for both.
          (text) => text.startsWith("Reconnexion…") && text.includes("tentative"),
        ) ?? false,
      undefined,
      { timeout: 10_000 },
    );
    assert.match(
      plain(String(await reconnecting.jsonValue())),
      /^Reconnexion… \(prochaine tentative à \d\d:\d\d:\d\d\)$/,
    );

    // Grist's delivery fails while the relay is down; it will retry the same batch later.
    const missed = [
      row(1, { Statut: "Bloqué" }),
      row(3, { Agent: "Chloé Petit", Statut: "En attente" }),
    ];
    await assert.rejects(
      fetch(`${url}/webhooks/grist`, { method: "POST", body: JSON.stringify(missed) }),
    );

    relay = await startTestRelay({ port, dataDir, env: RELAY_ENV });
    // The retry, delivered twice as Grist may do after a timeout.
    assert.equal((await relay.postWebhook(missed)).ok, true);
    assert.equal((await relay.postWebhook(missed)).ok, true);

    await waitForLive(view.page, 15_000);
    await view.page.waitForSelector('.tl__item:has-text("INT-003")');
    await view.page.waitForSelector('.tl__item:has-text("Statut : En cours → Bloqué")');
    // Let any duplicate arrive before counting.
    await view.page.waitForTimeout(500);
    assert.equal(
      await view.page.locator('.tl__item:has-text("Statut : En cours → Bloqué")').count(),
      1,
    );
    assert.equal(
      await view.page.locator('.tl__item:has-text("Nouvelle intervention INT-003")').count(),
      1,
    );
    assert.equal(plain(await view.page.textContent('[data-counter="total"] .counter__value')), "3");
    assert.equal(
      plain(await view.page.textContent('[data-counter="bloque"] .counter__value')),
      "1",
    );
    assert.equal(
      await view.page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload),
      true,
    );
    assert.deepEqual(view.errors, []);
  });
});

describe("reset after the relay lost its history", () => {
  let relay: TestRelay | undefined;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    await relay.postWebhook([row(1), row(2), row(3)]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
  });

  it("replaces the whole state with the new snapshot instead of keeping stale cards", async () => {
    assert.ok(relay);
    const { port, url } = relay;
    view = await openPage(browser, `${url}/`);
    await waitForLive(view.page);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 3);

    // Same address, empty store: the page's last event id means nothing there any more.
    await relay.close();
    relay = await startTestRelay({ port, env: RELAY_ENV });
    await waitForLive(view.page, 15_000);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 0);
    assert.equal(plain(await view.page.textContent('[data-counter="total"] .counter__value')), "0");

    await relay.postWebhook([row(7, { ID2: "INT-007" })]);
    await view.page.waitForSelector('article.card[data-key="7"]');
    assert.equal(await view.page.locator("article.card").count(), 1);
    // The chronology was rebuilt from the new relay's history too.
    await view.page.click("#onglet-chronologie");
    await view.page.waitForSelector('.tl__item:has-text("INT-007")');
    assert.deepEqual(
      await view.page.$$eval(".tl__item .tl__ref", (els) => els.map((e) => e.textContent)),
      ["INT-007"],
    );
    assert.deepEqual(view.errors, []);
  });
});
