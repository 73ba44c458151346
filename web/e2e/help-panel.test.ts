/**
 * The "?" help panel (issue 19): opened and closed from the keyboard, and explaining every
 * statut, priorité and connection state the dashboard can show. The kinds come from the
 * vocabulary modules, not from a list written here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { POSITION_SOURCES } from "../../src/domain/vocabulary.ts";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { CONNECTION_KINDS } from "../src/core/connection-status.ts";
import {
  PRIORITY_GLYPH,
  PRIORITY_KINDS,
  STATUS_GLYPH,
  STATUS_KINDS,
} from "../src/core/vocabulary.ts";
import {
  axeViolations,
  cspViolations,
  launchBrowser,
  openPage,
  plain,
  RELAY_ENV,
  row,
  waitForLive,
} from "./harness.ts";

describe("help panel", () => {
  let relay: TestRelay;
  let browser: Browser;

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    await relay.postWebhook([row(1, { Statut: "Bloqué", Priorite: "Urgente" })]);
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  it("opens from the keyboard, explains every statut, priorité, position origin and connection state, and closes on Escape", async () => {
    const view = await openPage(browser, `${relay.url}/`);
    const { page } = view;
    try {
      await waitForLive(page);
      await page.waitForSelector("article.card");
      assert.equal(await page.locator("dialog.help [data-legend]").count(), 0);

      await page.focus(".help-button");
      await page.keyboard.press("Enter");
      await page.waitForSelector("dialog.help[open]");
      assert.equal(await page.getAttribute(".help-button", "aria-expanded"), "true");
      assert.equal(
        await page.evaluate(() => document.querySelector("dialog.help")?.matches(":modal")),
        true,
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.closest("dialog.help") !== null),
        true,
        "focus moves into the panel",
      );

      for (const kind of STATUS_KINDS) {
        const item = page.locator(`[data-legend="statut"][data-kind="${kind}"]`);
        assert.equal(await item.count(), 1, `statut ${kind}`);
        assert.equal(await item.locator(`.badge.status--${kind}`).count(), 1, `badge ${kind}`);
        assert.equal(await item.locator(".badge__glyph").textContent(), STATUS_GLYPH[kind]);
        assert.ok(plain(await item.locator(".legend__meaning").textContent()).length > 20);
      }
      for (const kind of PRIORITY_KINDS) {
        const item = page.locator(`[data-legend="priorite"][data-kind="${kind}"]`);
        assert.equal(await item.count(), 1, `priorité ${kind}`);
        assert.equal(await item.locator(`.badge.prio--${kind}`).count(), 1, `badge ${kind}`);
        assert.equal(await item.locator(".badge__glyph").textContent(), PRIORITY_GLYPH[kind]);
        assert.ok(plain(await item.locator(".legend__meaning").textContent()).length > 20);
      }
      for (const source of POSITION_SOURCES) {
        const item = page.locator(`[data-legend="position"][data-kind="${source}"]`);
        assert.equal(await item.count(), 1, `position ${source}`);
        assert.ok(plain(await item.locator(".legend__meaning").textContent()).length > 20);
      }
      assert.equal(await page.locator('[data-legend="position"][data-kind="aucune"]').count(), 1);
      for (const kind of CONNECTION_KINDS) {
        const item = page.locator(`[data-legend="connexion"][data-kind="${kind}"]`);
        assert.equal(await item.count(), 1, `connexion ${kind}`);
        assert.match(plain(await item.textContent()), /À faire : \S/);
      }

      // The panel speaks the words the screen shows: the header's label right now, and the
      // badges of the card (a row written "Bloqué" / "Urgente" in Grist).
      const header = plain(await page.textContent(".conn__label"));
      const live = plain(
        await page.textContent('[data-legend="connexion"][data-kind="live"] .legend-conn'),
      );
      assert.equal(live, header);
      for (const [group, selector] of [
        ["statut", ".status--bloque"],
        ["priorite", ".prio--urgente"],
      ] as const) {
        const onCard = plain(await page.textContent(`article.card ${selector}`));
        const inPanel = plain(await page.textContent(`[data-legend="${group}"] ${selector}`));
        assert.equal(inPanel, onCard);
      }

      // This screen keeps alarms for the default 2 minutes, and the panel says so.
      assert.match(
        plain(await page.textContent("dialog.help")),
        /jusqu'au clic sur « Vu », ou 2 min sur cet écran/,
      );
      assert.deepEqual(await axeViolations(page), [], "axe-core with the panel open");

      await page.keyboard.press("Escape");
      // The dialog closes at once; its "close" event (which tidies up) is dispatched a task later.
      await page.waitForFunction(
        () =>
          document.querySelector("dialog.help")?.hasAttribute("open") === false &&
          document.querySelector(".help-button")?.getAttribute("aria-expanded") === "false",
      );
      assert.equal(
        await page.evaluate(() => document.activeElement?.classList.contains("help-button")),
        true,
        "focus returns to the button",
      );
      assert.equal(await page.getAttribute(".help-button", "aria-expanded"), "false");
      // Nothing of the legend stays in the page once closed.
      assert.equal(await page.locator("dialog.help [data-legend]").count(), 0);
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(view.errors, []);
    } finally {
      await view.context.close();
    }
  });

  it("opens with the ? key, except while typing in a field, and tells this screen's alarm hold", async () => {
    // A wall screen that keeps alarms until someone clicks "Vu".
    const view = await openPage(browser, `${relay.url}/?duree_alerte=0`);
    const { page } = view;
    try {
      await waitForLive(page);
      const search = page.locator('input[type="search"]').first();
      await search.focus();
      await page.keyboard.type("?");
      assert.equal(await search.inputValue(), "?");
      assert.equal(await page.locator("dialog.help[open]").count(), 0);

      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.keyboard.press("?");
      await page.waitForSelector("dialog.help[open]");
      assert.match(
        plain(await page.textContent("dialog.help")),
        /jusqu'au clic sur « Vu », et sonne/,
      );
      await page.click(".help__close");
      await page.waitForSelector("dialog.help:not([open])", { state: "attached" });
    } finally {
      await view.context.close();
    }
  });
});
