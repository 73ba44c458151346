/**
 * Standalone page on a relay that requires tokens: the link's `?token=` is taken once, kept for
 * the tab and removed from the address bar; the relay keeps it in an HttpOnly cookie so the
 * stream's URL carries none; "État du relais" shows for admins only.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { mintToken } from "../../src/auth/jwt.ts";
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

const SECRET = "secret-de-test-pour-les-jetons-hs256-0123456789";

describe("standalone page with authentication", () => {
  let relay: TestRelay;
  let browser: Browser;
  const opened: OpenedPage[] = [];

  before(async () => {
    [relay, browser] = await Promise.all([
      startTestRelay({ env: { ...RELAY_ENV, AUTH_JWT_SECRET: SECRET } }),
      launchBrowser(),
    ]);
    await relay.postWebhook([row(1, { Statut: "Bloqué" }), row(2, { Statut: "En cours" })]);
  });
  after(async () => {
    for (const { context } of opened) await context.close();
    await browser?.close();
    await relay?.close();
  });

  it("takes the token from the link once, hides it from the address bar and keeps it for the tab", async () => {
    const admin = await mintToken({ secret: SECRET, role: "admin", ttlSeconds: 600 });
    const view = await openPage(browser, `${relay.url}/?token=${admin}&statut=Bloqu%C3%A9`);
    opened.push(view);
    await waitForLive(view.page);
    assert.equal(new URL(view.page.url()).searchParams.has("token"), false);
    assert.equal(new URL(view.page.url()).searchParams.get("statut"), "Bloqué");
    assert.equal(
      await view.page.evaluate(() => sessionStorage.getItem("grist-realtime.token")),
      admin,
    );
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 1);
    // Admin: the relay's status is shown.
    await view.page.waitForSelector(".relay:not([hidden])");

    await view.page.reload();
    await waitForLive(view.page);
    await view.page.waitForSelector("article.card");
    assert.equal(new URL(view.page.url()).searchParams.has("token"), false);
    assert.deepEqual(view.errors, []);
  });

  it("hides the relay status from a viewer", async () => {
    const viewer = await mintToken({ secret: SECRET, role: "viewer", ttlSeconds: 600 });
    const view = await openPage(browser, `${relay.url}/?token=${viewer}`);
    opened.push(view);
    await waitForLive(view.page);
    await view.page.waitForFunction(() => document.querySelectorAll("article.card").length === 2);
    // Give the status call time to answer 403.
    await view.page.waitForTimeout(500);
    assert.equal(await view.page.isHidden(".relay"), true);
  });

  it("opens /events without the token in its URL: the relay keeps it in an HttpOnly cookie", async () => {
    const supervisor = await mintToken({ secret: SECRET, role: "supervisor", ttlSeconds: 600 });
    const view = await openPage(browser, "about:blank");
    opened.push(view);
    const streams: string[] = [];
    const sessions: number[] = [];
    view.page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/events") streams.push(request.url());
    });
    view.page.on("response", (response) => {
      if (new URL(response.url()).pathname === "/auth/session") sessions.push(response.status());
    });
    await view.page.goto(`${relay.url}/?token=${supervisor}`);
    await waitForLive(view.page);
    // Live means events flow: one sent now reaches the page through that stream.
    await relay.postWebhook([row(2, { ID2: "INT-202", Statut: "Bloqué" })]);
    await view.page.waitForFunction(() =>
      document.querySelector(".toasts")?.textContent?.includes("INT-202"),
    );
    assert.deepEqual(sessions, [200]);
    assert.ok(streams.length >= 1);
    for (const url of streams) {
      assert.equal(new URL(url).searchParams.has("token"), false, url);
      assert.equal(url.includes(supervisor), false, url);
    }
    const cookie = (await view.context.cookies(relay.url)).find(
      (candidate) => candidate.name === "grist_realtime_token",
    );
    assert.equal(cookie?.value, supervisor);
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, "Strict");
    // HttpOnly: the page's scripts cannot read it.
    assert.equal(await view.page.evaluate(() => document.cookie), "");
    assert.deepEqual(view.errors, []);
  });

  it("falls back to the token in the stream's URL when no session can be opened", async () => {
    const viewer = await mintToken({ secret: SECRET, role: "viewer", ttlSeconds: 600 });
    const view = await openPage(browser, "about:blank");
    opened.push(view);
    // An older relay without /auth/session.
    await view.context.route("**/auth/session", (route) =>
      route.fulfill({
        status: 404,
        contentType: "application/json",
        body: '{"error":{"code":"RELAY_ERR_NOT_FOUND","message":"aucune route"}}',
      }),
    );
    const streams: string[] = [];
    view.page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/events") streams.push(request.url());
    });
    await view.page.goto(`${relay.url}/?token=${viewer}`);
    await waitForLive(view.page);
    assert.ok(streams.length >= 1);
    assert.equal(new URL(streams.at(-1) ?? "").searchParams.get("token"), viewer);
    assert.deepEqual(await view.context.cookies(relay.url), []);
  });

  it("says the token is missing instead of pretending to be live", async () => {
    const view = await openPage(browser, `${relay.url}/`);
    opened.push(view);
    await view.page.waitForFunction(
      () =>
        document.querySelector(".conn__label")?.textContent?.includes("jeton manquant ou expiré"),
      undefined,
      {
        timeout: 10_000,
      },
    );
    assert.match(
      plain(await view.page.textContent(".conn__label")),
      /^Hors ligne — jeton manquant ou expiré · aucun événement reçu · nouvelle tentative (à|en cours)/,
    );
    assert.equal(await view.page.getAttribute(".conn", "data-state"), "offline");
    assert.equal(await view.page.locator("article.card").count(), 0);
    await view.page.click("#onglet-chronologie");
    await view.page.waitForSelector('.tl__status:has-text("authentification requise")');
  });
});
