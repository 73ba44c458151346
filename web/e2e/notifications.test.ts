/**
 * What must be shown (issue 13): alarms stay in the assertive region through a burst of
 * ordinary changes; notifications, sound and counters follow the page's filters; closing an
 * urgent intervention raises no alarm and it moves to the "Terminées" view.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
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

const LYON = "3 rue Y, 69002 Lyon";

/**
 * Counts the oscillators the page starts: a subclass of the real AudioContext, so the sound
 * still goes through the browser's audio stack; it only records what the page asked for.
 */
const AUDIO_PROBE = `
  (() => {
    const Real = window.AudioContext;
    const probe = { contexts: [], oscillators: 0 };
    window.__audio = probe;
    window.AudioContext = class extends Real {
      constructor(...args) { super(...args); probe.contexts.push(this); }
      createOscillator() { probe.oscillators += 1; return super.createOscillator(); }
    };
  })();
`;

interface AudioProbe {
  contexts: AudioContext[];
  oscillators: number;
}

function oscillators(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __audio: AudioProbe }).__audio.oscillators);
}

async function counter(page: Page, key: string): Promise<string> {
  return plain(await page.textContent(`[data-counter="${key}"] .counter__value`));
}

/** Counters are redrawn a few ms after the notification: wait for the value. */
async function waitForCounter(page: Page, key: string, value: string): Promise<void> {
  await page.waitForFunction(
    ([k, v]) => document.querySelector(`[data-counter="${k}"] .counter__value`)?.textContent === v,
    [key, value] as const,
  );
}

describe("notifications for a control room", () => {
  let relay: TestRelay;
  let browser: Browser;
  const opened: OpenedPage[] = [];

  before(async () => {
    [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
    const rows = Array.from({ length: 6 }, (_, i) => row(i + 1, { Priorite: "Normale" }));
    assert.equal((await relay.postWebhook(rows)).ok, true);
  });
  after(async () => {
    for (const { context } of opened) await context.close();
    await browser?.close();
    await relay?.close();
  });

  it("keeps an urgent notification in the alert region through 12 ordinary changes over 6 s and 8 s more", async () => {
    const view = await openPage(browser, `${relay.url}/`);
    opened.push(view);
    await waitForLive(view.page);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 6);

    await relay.postWebhook([row(10, { ID2: "INT-URG", Priorite: "Urgente" })]);
    await view.page.waitForSelector('[role="alert"] .toast--alarm:has-text("INT-URG")');
    for (let i = 0; i < 12; i++) {
      await relay.postWebhook([
        row((i % 6) + 1, { Priorite: "Normale", Commentaire: `Passage ${i}` }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // The last ordinary change reached the page: the burst was folded into one line.
    await view.page.waitForSelector('[role="status"] .toast--group:has-text("12 changements")');
    await view.page.waitForTimeout(8_000);
    assert.equal(
      await view.page.locator('[role="alert"] .toast--alarm:has-text("INT-URG")').count(),
      1,
    );
    assert.match(await view.page.title(), /^\(1\) /);
    // Acknowledged by a click, it leaves, and so does the title's badge.
    await view.page.click('[role="alert"] .toast--alarm button:has-text("Vu")');
    assert.equal(await view.page.locator('[role="alert"] .toast').count(), 0);
    assert.doesNotMatch(await view.page.title(), /^\(\d+\) /);
  });

  it("gives no notification, sound or counter change for a 69 row under ?departement=13, and does for a 13 row", async () => {
    const view = await openPage(browser, `${relay.url}/?departement=13`, {
      initScript: AUDIO_PROBE,
    });
    opened.push(view);
    await waitForLive(view.page);
    await view.page.waitForSelector("article.card");
    // Switch the sound on (a click is the gesture browsers require) and wait until it can play.
    await view.page.click("button.sound");
    await view.page.waitForFunction(() =>
      (window as unknown as { __audio: AudioProbe }).__audio.contexts.some(
        (c) => c.state === "running",
      ),
    );
    const beepsBefore = await oscillators(view.page);
    const totalBefore = await counter(view.page, "total");
    const urgentBefore = await counter(view.page, "urgentes");
    const nationalBefore = plain(await view.page.textContent(".counter__national"));
    assert.match(nationalBefore, /^sur \d+ au total$/);

    await relay.postWebhook([
      row(30, { ID2: "INT-LYON", Localisation: LYON, Statut: "Bloqué", Priorite: "Urgente" }),
    ]);
    // The page received it: the national total (shown beside the filtered one) moved.
    await view.page.waitForFunction(
      (before) => document.querySelector(".counter__national")?.textContent !== before,
      nationalBefore,
    );
    assert.equal(await view.page.locator('.toasts :text("INT-LYON")').count(), 0);
    assert.equal(await oscillators(view.page), beepsBefore);
    assert.equal(await counter(view.page, "total"), totalBefore);
    assert.equal(await counter(view.page, "urgentes"), urgentBefore);
    assert.doesNotMatch(await view.page.title(), /^\(\d+\) /);

    await relay.postWebhook([row(31, { ID2: "INT-MRS", Statut: "Bloqué", Priorite: "Urgente" })]);
    await view.page.waitForSelector('[role="alert"] .toast--alarm:has-text("INT-MRS")');
    await view.page.waitForFunction(
      (before) => (window as unknown as { __audio: AudioProbe }).__audio.oscillators > before,
      beepsBefore,
    );
    await waitForCounter(view.page, "total", String(Number(totalBefore) + 1));
    await waitForCounter(view.page, "urgentes", String(Number(urgentBefore) + 1));
    assert.match(await view.page.title(), /^\(1\) /);

    // A second alarm right after: shown, but the sound rings at most once per few seconds.
    const beepsAfterFirst = await oscillators(view.page);
    await relay.postWebhook([row(32, { ID2: "INT-MRS2", Statut: "Bloqué", Priorite: "Urgente" })]);
    await view.page.waitForSelector('[role="alert"] .toast--alarm:has-text("INT-MRS2")');
    assert.equal(await oscillators(view.page), beepsAfterFirst);
  });

  it("raises no alarm when an urgent intervention is closed", async () => {
    await relay.postWebhook([
      row(40, { ID2: "INT-CLOS", Statut: "En cours", Priorite: "Urgente" }),
    ]);
    const view = await openPage(browser, `${relay.url}/`);
    opened.push(view);
    await waitForLive(view.page);
    await view.page.waitForSelector('article.card:has-text("INT-CLOS")');

    await relay.postWebhook([
      row(40, {
        ID2: "INT-CLOS",
        Statut: "Terminé",
        Priorite: "Urgente",
        Derniere_MAJ: Math.floor(Date.now() / 1000),
      }),
    ]);
    // The change was shown, as an ordinary one.
    await view.page.waitForSelector(
      '[role="status"] .toast--change:has-text("Statut : En cours → Terminé")',
    );
    assert.equal(await view.page.locator('[role="alert"] .toast').count(), 0);
    assert.doesNotMatch(await view.page.title(), /^\(\d+\) /);
    // It left the active list for the folded "Terminées aujourd'hui".
    await view.page.waitForSelector('.closed article.card:has-text("INT-CLOS")', {
      state: "attached",
    });
    assert.equal(await view.page.locator('.list article.card:has-text("INT-CLOS")').count(), 0);
    await view.page.waitForFunction(
      () => document.querySelector(".closed__title")?.textContent === "Terminées aujourd'hui (1)",
    );
    // Choosing "Terminé" in the Statut filter unfolds them: the option means something.
    assert.equal(await view.page.locator(".closed[open]").count(), 0);
    await view.page.selectOption("#filtre-statut", "Terminé");
    await view.page.waitForSelector(".closed[open] article.card:has-text('INT-CLOS')");
    assert.match(
      plain(await view.page.textContent(".list__empty")),
      /les interventions terminées sont listées ci-dessous/,
    );
  });
});
