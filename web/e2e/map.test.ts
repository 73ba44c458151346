/**
 * The map on the guide's own table (issue 8/10 and the map items of 4/10): rows with an
 * address and no coordinate columns, geocoded by the relay against the Géoplateforme double;
 * tiles blocked (a closed port, as everywhere in these tests), so the département outlines and
 * the message must show. Screenshots are saved under test-artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { GeoplateformeDouble } from "../../test/support/geocoder/geoplateforme-double.ts";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import {
  axeViolations,
  launchBrowser,
  openPage,
  RELAY_ENV,
  screenshot,
  waitForLive,
} from "./harness.ts";

const now = Math.floor(Date.now() / 1000);

/** A row of the guide's table: no Latitude/Longitude columns at all. */
function guideRow(id: number, localisation: string, priorite = "Normale") {
  return {
    id,
    manualSort: id,
    ID2: `INT-${String(id).padStart(3, "0")}`,
    Agent: "Marie Durand",
    Localisation: localisation,
    Type: "Voirie",
    Statut: "En cours",
    Priorite: priorite,
    Derniere_MAJ: now - 600,
    Commentaire: "Technicien sur place",
  };
}

const KNOWN = [
  ["12 avenue du Prado, 13008 Marseille", 43.2804, 5.3862],
  ["3 rue Esquermoise, 59000 Lille", 50.6386, 3.0614],
  ["5 quai des Chartrons, 33000 Bordeaux", 44.8505, -0.5716],
  ["Place Bellecour, 69002 Lyon", 45.7578, 4.832],
] as const;

const ROWS = [
  guideRow(1, KNOWN[0][0], "Urgente"),
  guideRow(2, KNOWN[1][0]),
  guideRow(3, KNOWN[2][0], "Haute"),
  guideRow(4, KNOWN[3][0], "Basse"),
  // Unknown to the geocoder: placed at their département's point, drawn hollow.
  guideRow(5, "Lieu-dit Kerbrat, 29000 Quimper", "Haute"),
  guideRow(6, "Chemin de Penhars, 29000 Quimper"),
  guideRow(7, "Route de Montabo, 97300 Cayenne", "Urgente"),
  // No postcode, unknown address: no position at all.
  guideRow(8, "Mairie annexe"),
];

/** Markers of each kind, and the interventions they stand for (a group counts its members). */
async function markerCounts(page: Page) {
  return page.evaluate(() => {
    const icons = [...document.querySelectorAll(".leaflet-marker-icon.pin")];
    const clusters = icons.filter((i) => i.classList.contains("pin--cluster"));
    const singles = icons.filter((i) => !i.classList.contains("pin--cluster"));
    return {
      precise: singles.filter((i) => !i.classList.contains("pin--approx")).length,
      approximate: singles.filter((i) => i.classList.contains("pin--approx")).length,
      clusters: clusters.length,
      interventions:
        singles.length + clusters.reduce((sum, c) => sum + Number(c.textContent ?? 0), 0),
    };
  });
}

/** True when the marker's centre is inside the visible map. */
async function inView(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((sel) => {
    const canvas = document.querySelector(".map__canvas")?.getBoundingClientRect();
    const marker = document.querySelector(sel)?.getBoundingClientRect();
    if (!canvas || !marker) return false;
    const x = marker.left + marker.width / 2;
    const y = marker.top + marker.height / 2;
    return x > canvas.left && x < canvas.right && y > canvas.top && y < canvas.bottom;
  }, selector);
}

describe("the map of the guide's table", () => {
  let geocoder: GeoplateformeDouble;
  let relay: TestRelay;
  let browser: Browser;

  before(async () => {
    geocoder = await GeoplateformeDouble.start();
    for (const [address, latitude, longitude] of KNOWN) {
      geocoder.know(address, {
        latitude,
        longitude,
        score: 0.95,
        label: address,
        postcode: "",
        citycode: "",
        city: "",
        context: "",
      });
    }
    [relay, browser] = await Promise.all([
      startTestRelay({
        env: {
          ...RELAY_ENV,
          STORE: "memory",
          GEOCODER: "geoplateforme",
          GEOCODER_URL: geocoder.url,
        },
      }),
      launchBrowser(),
    ]);
    await relay.postWebhook(ROWS);
    // The relay asks the double for each distinct address (4 found, 3 not, 1 refused is
    // still asked): wait until every answer is applied.
    await relay.relay.geocoding?.idle();
  });
  after(async () => {
    await browser?.close();
    await relay?.close();
    await geocoder?.close();
  });

  it("shows precise and approximate markers, the outlines and the message when tiles fail", async () => {
    const view = await openPage(browser, `${relay.url}/?onglet=carte`);
    try {
      await waitForLive(view.page);
      await view.page.click("#onglet-carte");
      // Tiles point at a closed port: the outlines replace them, with a message.
      await view.page.waitForSelector(".map__notice:not([hidden])", { timeout: 15_000 });
      const notice = await view.page.textContent(".map__notice");
      assert.match(notice ?? "", /Fond de carte indisponible/);
      // The outlines' source and licence are named on screen.
      assert.match(
        (await view.page.textContent(".leaflet-control-attribution")) ?? "",
        /Licence Ouverte/,
      );
      assert.match((await view.page.textContent(".map-legend")) ?? "", /ADMIN EXPRESS/);
      await view.page.waitForFunction(
        () => document.querySelectorAll(".leaflet-overlay-pane path").length >= 90,
      );
      assert.equal(await view.page.locator(".leaflet-tile-pane img").count(), 0, "no tile left");

      // Mainland view: 4 geocoded markers and the Quimper pair (one département point).
      await view.page.waitForFunction(
        () => document.querySelectorAll(".leaflet-marker-icon.pin").length >= 5,
      );
      const counts = await markerCounts(view.page);
      assert.equal(counts.precise, 4, JSON.stringify(counts));
      assert.equal(counts.interventions, 7, "every placed row is on the map (Cayenne too)");
      assert.equal(await view.page.locator(".map__nocoord").count(), 1, "Mairie annexe");
      assert.match((await view.page.textContent(".map-legend")) ?? "", /approximative/);
      assert.equal(await view.page.inputValue("#map-territory"), "metropole");
      await screenshot(view.page, "map-guide-table-outlines-1280x800");
      assert.deepEqual(await axeViolations(view.page), [], "axe-core, carte hors ligne");

      // The Quimper rows share the département's point: one group, opened as a list.
      const group = view.page.locator(".leaflet-marker-icon.pin--cluster").first();
      assert.equal(await group.textContent(), "2");
      await group.click();
      await view.page.waitForSelector(".leaflet-popup .map-popup__list");
      const popup = (await view.page.textContent(".leaflet-popup")) ?? "";
      assert.match(popup, /INT-005/);
      assert.match(popup, /INT-006/);
      assert.match(popup, /Position approximative/);
      assert.deepEqual(await axeViolations(view.page), [], "axe-core, groupe ouvert");
      await view.page.keyboard.press("Escape");

      // Cayenne is not on the mainland view, and is one click away.
      const cayenne = '.leaflet-marker-icon.pin--approx.pin--urgente[title^="INT-007"]';
      assert.equal(await inView(view.page, cayenne), false);
      await view.page.selectOption("#map-territory", "973");
      await view.page.waitForFunction((sel) => document.querySelector(sel) !== null, cayenne);
      assert.equal(await inView(view.page, cayenne), true);
      await view.page.click(cayenne);
      await view.page.waitForSelector(".leaflet-popup .map-popup__approx");
      await screenshot(view.page, "map-guide-table-guyane-1280x800");
      assert.deepEqual(view.errors, []);
    } finally {
      await view.context.close();
    }
  });

  it("draws an address-placed marker filled and says where its position comes from", async () => {
    const view = await openPage(browser, `${relay.url}/`, {
      viewport: { width: 390, height: 844 },
    });
    try {
      await waitForLive(view.page);
      await view.page.click("#onglet-carte");
      const lille = '.leaflet-marker-icon.pin[title^="INT-002"]';
      await view.page.waitForSelector(lille);
      assert.equal(await view.page.locator(`${lille}.pin--approx`).count(), 0);
      await view.page.click(lille);
      const popup = await view.page.waitForSelector(".leaflet-popup .map-popup__source");
      assert.match((await popup.textContent()) ?? "", /d'après l'adresse \(score 0,95\)/);
      await screenshot(view.page, "map-guide-table-390x844");
      assert.deepEqual(await axeViolations(view.page), [], "axe-core, 390×844");
    } finally {
      await view.context.close();
    }
  });
});

/** A 1×1 transparent PNG: what a tile server answers, as far as the page can tell. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

describe("a tile server that comes back", () => {
  it("gives the map back to the tiles as soon as they load, outlines and message gone", async () => {
    let up = false;
    const tiles = createServer((_request, response) => {
      if (!up) {
        response.writeHead(503).end();
        return;
      }
      response.writeHead(200, { "Content-Type": "image/png" }).end(PNG);
    });
    tiles.listen(0, "127.0.0.1");
    await once(tiles, "listening");
    const tileUrl = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}/{z}/{x}/{y}.png`;
    const relay = await startTestRelay({
      env: { ...RELAY_ENV, STORE: "memory", MAP_TILE_URL: tileUrl },
    });
    const browser = await launchBrowser();
    try {
      await relay.postWebhook([guideRow(1, "12 avenue du Prado, 13008 Marseille")]);
      const view = await openPage(browser, `${relay.url}/`);
      await waitForLive(view.page);
      await view.page.click("#onglet-carte");
      await view.page.waitForSelector(".map__notice:not([hidden])", { timeout: 15_000 });
      await view.page.waitForFunction(
        () => document.querySelectorAll(".leaflet-overlay-pane path").length >= 90,
      );
      up = true;
      await view.page.click(".map__notice button");
      await view.page.waitForSelector(".map__notice[hidden]", { state: "attached" });
      assert.equal(await view.page.locator(".leaflet-overlay-pane path").count(), 0);
      assert.ok(
        (await view.page.locator(".leaflet-tile-pane img.leaflet-tile-loaded").count()) > 0,
      );
      assert.deepEqual(view.errors, []);
      await view.context.close();
    } finally {
      await browser.close();
      await relay.close();
      tiles.closeAllConnections();
      tiles.close();
    }
  });
});
