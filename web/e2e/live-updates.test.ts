/**
 * What must be shown (issue 2/6): a webhook changes the card, the counters and the chronology
 * without reload within 1 s, with a toast and a flash; hostile text stays text.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
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

describe("live updates in the standalone dashboard", () => {
  let relay: TestRelay;
  let browser: Browser;
  const opened: OpenedPage[] = [];

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    const response = await relay.postWebhook([
      row(1, { Statut: "En attente", Priorite: "Normale" }),
      row(2, {
        Agent: "Paul Martin",
        Statut: "En cours",
        Priorite: "Basse",
        Localisation: "3 rue Y, 69002 Lyon",
      }),
    ]);
    assert.equal(response.ok, true);
  });
  after(async () => {
    for (const { context } of opened) await context.close();
    await browser?.close();
    await relay?.close();
  });

  it("shows a webhook's change on the card, the counters and the chronology within 1 s, with a toast and a flash", async () => {
    const list = await openPage(browser, `${relay.url}/`);
    const chronology = await openPage(browser, `${relay.url}/?onglet=chronologie`);
    opened.push(list, chronology);
    await Promise.all([waitForLive(list.page), waitForLive(chronology.page)]);
    await list.page.waitForSelector('article.card[data-key="1"]');
    assert.equal(
      plain(await list.page.textContent('[data-counter="bloque"] .counter__value')),
      "0",
    );
    // A marker that a reload would erase.
    await list.page.evaluate(() => {
      (window as unknown as { __noReload: boolean }).__noReload = true;
    });

    const started = Date.now();
    const response = await relay.postWebhook([
      row(1, { Statut: "Bloqué", Priorite: "Urgente", Commentaire: "Accès impossible" }),
    ]);
    assert.equal(response.ok, true);
    await Promise.all([
      list.page.waitForFunction(
        () =>
          document
            .querySelector('article.card[data-key="1"] .status')
            ?.textContent?.includes("Bloqué"),
        undefined,
        { timeout: 1_000 },
      ),
      list.page.waitForFunction(
        () =>
          document.querySelector('[data-counter="bloque"] .counter__value')?.textContent === "1",
        undefined,
        { timeout: 1_000 },
      ),
      list.page.waitForSelector(".toast", { timeout: 1_000 }),
      list.page.waitForSelector('article.card[data-key="1"].card--flash', { timeout: 1_000 }),
      chronology.page.waitForFunction(
        () =>
          document
            .querySelector(".tl__item .tl__line")
            ?.textContent?.includes("Statut : En attente → Bloqué"),
        undefined,
        { timeout: 1_000 },
      ),
    ]);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1_000, `visible after ${elapsed} ms`);

    assert.equal(
      await list.page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload),
      true,
    );
    // Urgent change: the alarm styles and the card moved to the top of the list.
    assert.equal(
      await list.page.locator('article.card[data-key="1"].card--flash-alarm').count(),
      1,
    );
    assert.equal(await list.page.getAttribute("article.card >> nth=0", "data-key"), "1");
    assert.match(
      plain(await list.page.textContent(".toast--alarm")),
      /INT-001 · Marie Durand — Statut : En attente → Bloqué ; Priorité : Normale → Urgente/,
    );
    assert.equal(
      plain(await list.page.textContent('[data-counter="urgentes"] .counter__value')),
      "1",
    );
    const line = plain(await chronology.page.textContent(".tl__item .tl__line"));
    assert.match(
      line,
      /^Marie Durand — Statut : En attente → Bloqué ; Priorité : Normale → Urgente ; .* · à l.instant$/,
    );
    assert.deepEqual(await cspViolations(list.page), []);
  });

  it("renders a hostile comment as text, runs no script and opens no dialog", async () => {
    const view = await openPage(browser, `${relay.url}/`);
    opened.push(view);
    await waitForLive(view.page);
    const hostile = "<img src=x onerror=alert(1)>";
    await relay.postWebhook([
      row(3, { Commentaire: hostile, Agent: "<script>alert(2)</script>", ID2: "<b>INT-003</b>" }),
    ]);
    await view.page.waitForSelector('article.card[data-key="3"]');
    assert.equal(await view.page.textContent('article.card[data-key="3"] .card__comment'), hostile);
    assert.equal(
      await view.page.textContent('article.card[data-key="3"] .card__ref'),
      "<b>INT-003</b>",
    );
    assert.equal(
      await view.page
        .locator(
          'article.card[data-key="3"] img, article.card[data-key="3"] b, article.card[data-key="3"] script',
        )
        .count(),
      0,
    );
    await view.page.waitForSelector(".toast");
    assert.match((await view.page.textContent(".toasts")) ?? "", /<script>alert\(2\)<\/script>/);
    await view.page.click("#onglet-chronologie");
    await view.page.waitForSelector('.tl__item:has-text("<script>alert(2)</script>")');
    assert.equal(await view.page.locator(".tl img, .tl script").count(), 0);
    // Give an injected handler every chance to fire.
    await view.page.waitForTimeout(300);
    assert.deepEqual(view.dialogs, []);
    assert.deepEqual(view.errors, []);
  });
});

describe("a quiet stream", () => {
  let relay: TestRelay;
  let browser: Browser;

  before(async () => {
    [relay, browser] = await Promise.all([
      startTestRelay({ env: { ...RELAY_ENV, HEARTBEAT_MS: "1000" } }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
  });

  it("stays En direct through a silence longer than the stale threshold, without reconnecting", async () => {
    const view = await openPage(browser, `${relay.url}/`);
    const streams: string[] = [];
    view.page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/events") streams.push(request.url());
    });
    try {
      await waitForLive(view.page);
      streams.length = 0; // the first connection does not count
      // Stale after 2 × 1 s + 5 s without any frame: only the heartbeat events keep it live.
      await view.page.waitForTimeout(8_000);
      assert.equal(await view.page.getAttribute(".conn", "data-state"), "live");
      assert.deepEqual(streams, []);
    } finally {
      await view.context.close();
    }
  });
});
