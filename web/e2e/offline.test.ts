/**
 * What must be shown (issue 13): with the relay gone, the data is dimmed and dated, the relay
 * panel says unreachable and "Réessayer maintenant" is offered; once the relay is back, a click
 * (or the browser back online, or the tab shown again) brings "En direct" within 2 s instead of
 * waiting for the backoff.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { launchBrowser, type OpenedPage, openPage, plain, RELAY_ENV, row } from "./harness.ts";

/** A long backoff (up to 30 s): only the button can explain a reconnection within 2 s. */
const ENV = { ...RELAY_ENV, RETRY_MS: "60000" };

/** Waits until the indicator announces the next attempt ("… tentative à 14:02:31") later than `ms`. */
async function waitForAttemptLaterThan(page: Page, ms: number): Promise<void> {
  await page.waitForFunction(
    (margin) => {
      const label = document.querySelector(".conn__label")?.textContent ?? "";
      const match = /tentative à (\d\d):(\d\d):(\d\d)/.exec(label);
      if (!match) return false;
      const at = new Date();
      at.setHours(Number(match[1]), Number(match[2]), Number(match[3]), 0);
      return at.getTime() - Date.now() > margin;
    },
    ms,
    { timeout: 90_000, polling: 200 },
  );
}

/**
 * When the page's own backoff would try again (from "nouvelle tentative à HH:MM:SS"), so a test
 * can prove a reconnection came from its trigger: it happened before that time.
 */
async function scheduledAttemptAt(page: Page): Promise<number> {
  const label = (await page.textContent(".conn__label")) ?? "";
  const match = /tentative à (\d\d):(\d\d):(\d\d)/.exec(label);
  assert.ok(match, `no scheduled attempt in ${JSON.stringify(label)}`);
  const at = new Date();
  at.setHours(Number(match[1]), Number(match[2]), Number(match[3]), 0);
  return at.getTime();
}

/**
 * Waits for "En direct" after `trigger`, and checks it came before the page's next automatic
 * attempt (a second's margin for the label's precision): only the trigger can explain it. The
 * issue's goal is 2 s; the time is reported, the causality is what is asserted, so a loaded
 * machine cannot fail a correct page.
 */
async function liveBeforeBackoff(page: Page, what: string, trigger: () => Promise<unknown>) {
  const due = await scheduledAttemptAt(page);
  const started = Date.now();
  await trigger();
  await page.waitForFunction(
    () => document.querySelector(".conn")?.getAttribute("data-state") === "live",
    undefined,
    { timeout: Math.max(1_000, due - 1_000 - Date.now()) },
  );
  const liveAt = Date.now();
  assert.ok(liveAt < due - 1_000, `En direct only at the automatic attempt, not after ${what}`);
  process.stdout.write(`# En direct ${liveAt - started} ms after ${what}\n`);
}

describe("offline state", () => {
  let dataDir: string;
  let relay: TestRelay | undefined;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-e2e-"));
    [relay, browser] = await Promise.all([startTestRelay({ dataDir, env: ENV }), launchBrowser()]);
    await relay.postWebhook([row(1), row(2, { Agent: "Paul Martin" })]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("dims the data, says the relay is unreachable, and reconnects within 2 s of a click once it is back", async () => {
    assert.ok(relay);
    const { port } = relay;
    view = await openPage(browser, `${relay.url}/`, { viewport: { width: 1280, height: 800 } });
    await view.page.waitForFunction(
      () => document.querySelector(".conn")?.getAttribute("data-state") === "live",
    );
    await view.page.waitForSelector(".relay:not([hidden])");
    assert.equal(await view.page.locator(".offline:not([hidden])").count(), 0);
    assert.equal(await view.page.locator(".app--stale").count(), 0);

    await relay.close();
    relay = undefined;
    await view.page.waitForSelector(".offline:not([hidden])", { timeout: 10_000 });
    assert.equal(await view.page.locator("#app.app--stale").count(), 1);
    assert.match(
      plain(await view.page.textContent(".offline")),
      /^Relais injoignable — données au \d\d:\d\d:\d\d, elles ont pu changer depuis\.Réessayer maintenant$/,
    );
    assert.equal(
      plain(await view.page.textContent(".relay__summary")),
      "État du relais : injoignable",
    );
    // The dimmed cards are still there, to be read as a past state.
    assert.equal(await view.page.locator("article.card").count(), 2);

    // While the relay is still down, let automatic attempts fail until the next one is far
    // enough away that only the click can explain a reconnection within 2 s.
    await waitForAttemptLaterThan(view.page, 6_000);
    relay = await startTestRelay({ port, dataDir, env: ENV });
    assert.notEqual(await view.page.getAttribute(".conn", "data-state"), "live");
    await liveBeforeBackoff(view.page, "the click", () =>
      view.page.click("button:has-text('Réessayer maintenant')"),
    );
    assert.equal(plain(await view.page.textContent(".conn__label")), "En direct");
    await view.page.waitForSelector(".offline", { state: "hidden" });
    assert.equal(await view.page.locator("#app.app--stale").count(), 0);
    assert.deepEqual(view.errors, []);
  });

  it("reconnects at once when the browser comes back online, without waiting for the backoff", async () => {
    assert.ok(relay);
    const { port } = relay;
    await view.page.waitForFunction(
      () => document.querySelector(".conn")?.getAttribute("data-state") === "live",
    );
    // The network goes (the relay with it: an open loopback stream would survive emulation).
    await view.context.setOffline(true);
    await relay.close();
    relay = undefined;
    await view.page.waitForSelector(".offline:not([hidden])", { timeout: 10_000 });
    await waitForAttemptLaterThan(view.page, 6_000);
    relay = await startTestRelay({ port, dataDir, env: ENV });
    await liveBeforeBackoff(view.page, "coming back online", () => view.context.setOffline(false));
    assert.deepEqual(view.errors, []);
  });

  it("reconnects at once when the tab becomes visible again, without waiting for the backoff", async () => {
    assert.ok(relay);
    const { port } = relay;
    await relay.close();
    relay = undefined;
    await view.page.waitForSelector(".offline:not([hidden])", { timeout: 10_000 });
    await waitForAttemptLaterThan(view.page, 6_000);
    relay = await startTestRelay({ port, dataDir, env: ENV });
    // A headless page is always visible: the event a woken screen sends is dispatched by hand.
    await liveBeforeBackoff(view.page, "the tab was shown", () =>
      view.page.evaluate(() => document.dispatchEvent(new Event("visibilitychange"))),
    );
    assert.deepEqual(view.errors, []);
  });
});
