/**
 * The widget on a relay that requires tokens: it asks Grist for full access (the only level
 * where `getAccessToken` works), trades Grist's token at `POST /auth/grist` and follows the
 * stream with the relay token it gets back.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { FULL_MAPPING, GRIST_ROWS, gristDoubleScript } from "./grist-widget-double.ts";
import {
  launchBrowser,
  type OpenedPage,
  openPage,
  plain,
  RELAY_ENV,
  row,
  waitForLive,
} from "./harness.ts";

const DOC = "docWidgetAuth000000001";
const SECRET = "secret-de-test-pour-les-jetons-hs256-0123456789";

describe("Grist widget on a relay that requires authentication", () => {
  let grist: GristDouble;
  let relay: TestRelay;
  let browser: Browser;
  let view: OpenedPage;

  before(async () => {
    grist = await startGristDouble({
      apiKeys: ["relay-key", "supervisor"],
      docs: [{ id: DOC, access: { "relay-key": "owners", supervisor: "viewers" } }],
    });
    grist.createTable(DOC, "Interventions", [
      { id: "ID", type: "Text" },
      { id: "Agent", type: "Text" },
      { id: "Localisation", type: "Text" },
      { id: "Type", type: "Choice" },
      { id: "Statut", type: "Choice" },
      { id: "Priorite", type: "Choice" },
      { id: "Derniere_MAJ", type: "DateTime:Europe/Paris" },
      { id: "Commentaire", type: "Text" },
    ]);
    [relay, browser] = await Promise.all([
      startTestRelay({
        env: {
          ...RELAY_ENV,
          AUTH_JWT_SECRET: SECRET,
          GRIST_URL: grist.url,
          GRIST_DOC_ID: DOC,
          GRIST_API_KEY: "relay-key",
          GRIST_TABLE: "Interventions",
        },
      }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    await view?.context.close();
    await browser?.close();
    await relay?.close();
    await grist?.close();
  });

  it("with read-table access, says in the widget what to change and sends no request known to fail", async () => {
    const access = grist.mintAccessToken(DOC, "supervisor", { readOnly: true });
    const limited = await openPage(browser, "about:blank", {
      initScript: gristDoubleScript({ token: access.token, baseUrl: access.baseUrl }),
    });
    const refused: string[] = [];
    const streams: string[] = [];
    limited.page.on("response", (response) => {
      if (response.status() === 401 || response.status() === 403) {
        refused.push(new URL(response.url()).pathname);
      }
    });
    limited.page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/events") streams.push(request.url());
    });
    try {
      await limited.page.goto(`${relay.url}/widget/`);
      await limited.page.waitForFunction(
        () =>
          (window as unknown as { __gristDouble: { readyCalls: unknown[] } }).__gristDouble
            .readyCalls.length === 1,
      );
      // The user kept "read table": Grist sends the options with that level.
      await limited.page.evaluate(
        ([rows, mapping]) => {
          const double = (
            window as unknown as {
              __gristDouble: {
                emitOptions(o: unknown, s: unknown): void;
                emitRecords(r: unknown, m: unknown): void;
              };
            }
          ).__gristDouble;
          double.emitOptions(null, { accessLevel: "read table" });
          double.emitRecords(rows, mapping);
        },
        [GRIST_ROWS, FULL_MAPPING] as const,
      );
      await limited.page.waitForSelector("article.card");
      const notice = plain(await limited.page.textContent(".notice"));
      assert.match(notice, /actuellement « Lire la table sélectionnée »/);
      assert.match(notice, /choisissez l'accès « Accès complet au document »/);
      assert.match(
        plain(await limited.page.textContent(".conn__label")),
        /^Hors ligne — accès complet au document requis/,
      );
      // /app-config.json said a token is required: no probe, nothing refused.
      assert.deepEqual(refused, []);
      assert.deepEqual(streams, []);
      assert.equal(await limited.page.locator(".offline:not([hidden])").count(), 0);
    } finally {
      await limited.context.close();
    }
  });

  it("asks Grist for full access, exchanges Grist's token for a relay token and goes live", async () => {
    const access = grist.mintAccessToken(DOC, "supervisor", { readOnly: true });
    view = await openPage(browser, "about:blank", {
      initScript: gristDoubleScript({ token: access.token, baseUrl: access.baseUrl }),
    });
    const refused: string[] = [];
    view.page.on("response", (response) => {
      if (response.status() === 401 || response.status() === 403) {
        refused.push(new URL(response.url()).pathname);
      }
    });
    await view.page.goto(`${relay.url}/widget/`);
    await view.page.waitForFunction(
      () =>
        (window as unknown as { __gristDouble: { readyCalls: unknown[] } }).__gristDouble.readyCalls
          .length === 1,
    );
    const requiredAccess = await view.page.evaluate(
      () =>
        (window as unknown as { __gristDouble: { readyCalls: { requiredAccess: string }[] } })
          .__gristDouble.readyCalls[0]?.requiredAccess,
    );
    assert.equal(requiredAccess, "full");
    // The user accepted: Grist reloads the widget section at full access and sends the options.
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
        double.emitOptions(null, { accessLevel: "full" });
        double.emitRecords(rows, mapping);
      },
      [GRIST_ROWS, FULL_MAPPING] as const,
    );
    await waitForLive(view.page, 15_000);
    const calls = await view.page.evaluate(
      () =>
        (window as unknown as { __gristDouble: { accessTokenCalls: unknown[] } }).__gristDouble
          .accessTokenCalls,
    );
    assert.deepEqual(calls[0], { readOnly: true });
    await relay.postWebhook([row(1, { ID2: "INT-101", Statut: "Bloqué" })]);
    await view.page.waitForSelector(".toast");
    assert.match(plain(await view.page.textContent(".toasts")), /INT-101/);
    // A viewer's token: no "État du relais" request the relay would refuse, and no 401 at all
    // (the relay's config says a token is needed, no probe has to find out).
    assert.deepEqual(refused, []);
    assert.equal(await view.page.locator(".relay:not([hidden])").count(), 0);
    assert.deepEqual(view.errors, []);
  });
  it("on an older relay whose config does not say, finds out with one probe", async () => {
    const access = grist.mintAccessToken(DOC, "supervisor", { readOnly: true });
    const older = await openPage(browser, "about:blank", {
      initScript: gristDoubleScript({ token: access.token, baseUrl: access.baseUrl }),
    });
    try {
      await older.context.route("**/app-config.json", async (route) => {
        const config = (await (await route.fetch()).json()) as Record<string, unknown>;
        delete config.authRequired;
        await route.fulfill({ json: config });
      });
      const refused: string[] = [];
      older.page.on("response", (response) => {
        if (response.status() === 401) refused.push(new URL(response.url()).pathname);
      });
      await older.page.goto(`${relay.url}/widget/`);
      await older.page.waitForFunction(
        () =>
          (window as unknown as { __gristDouble: { readyCalls: unknown[] } }).__gristDouble
            .readyCalls.length === 1,
      );
      const requiredAccess = await older.page.evaluate(
        () =>
          (window as unknown as { __gristDouble: { readyCalls: { requiredAccess: string }[] } })
            .__gristDouble.readyCalls[0]?.requiredAccess,
      );
      assert.equal(requiredAccess, "full");
      assert.deepEqual(refused, ["/api/events"]);
    } finally {
      await older.context.close();
    }
  });
});
