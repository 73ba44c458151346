/**
 * The screenshots of the user guides (docs/guide-*.md), taken from the real dashboard served by
 * a real relay in Debian's Chromium. `npm run docs:images` writes them to docs/images/; the
 * browser test guide-images.test.ts runs the same scenario into test-artifacts/ and checks that
 * every image a guide shows is produced.
 *
 * Modest viewports and element crops keep each PNG small enough to live in git.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { launchBrowser, openPage, RELAY_ENV, row, waitForLive } from "./harness.ts";

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 760 };

/** A morning's work across three towns, as in the guides' examples. */
function morningRows(now: number): Record<string, unknown>[] {
  return [
    row(1, {
      ID2: "INT-2026-0412",
      Statut: "En cours",
      Priorite: "Haute",
      Agent: "Chloé Petit",
      Type: "Espaces verts",
      Localisation: "Parc Borély, 13008 Marseille",
      Commentaire: "Arbre menaçant, périmètre balisé",
      Latitude: 43.259,
      Longitude: 5.3775,
      Derniere_MAJ: now - 1_500,
    }),
    row(2, {
      ID2: "INT-2026-0413",
      Statut: "En attente",
      Priorite: "Normale",
      Agent: "David Roux",
      Type: "Voirie",
      Localisation: "12 cours Lafayette, 69003 Lyon",
      Commentaire: "En attente du matériel",
      // No coordinates: placed at its département's point (approximate) on the map.
      Latitude: null,
      Longitude: null,
      Derniere_MAJ: now - 3_600,
    }),
    row(3, {
      ID2: "INT-2026-0414",
      Statut: "En cours",
      Priorite: "Normale",
      Agent: "Emma Bernard",
      Type: "Propreté",
      Localisation: "Place Bellecour, 69002 Lyon",
      Latitude: 45.7578,
      Longitude: 4.832,
      Commentaire: "",
      Derniere_MAJ: now - 900,
    }),
    row(4, {
      ID2: "INT-2026-0415",
      Statut: "En cours",
      Priorite: "Basse",
      Agent: "Paul Martin",
      Type: "Signalisation",
      Localisation: "Rue de Rivoli, 75004 Paris",
      Commentaire: "Panneau à remplacer",
      Latitude: 48.8559,
      Longitude: 2.3581,
      Derniere_MAJ: now - 7_200,
    }),
    row(5, {
      ID2: "INT-2026-0410",
      Statut: "Terminé",
      Priorite: "Haute",
      Agent: "Chloé Petit",
      Type: "Voirie",
      Localisation: "Avenue du Prado, 13008 Marseille",
      Commentaire: "Réparé",
      Derniere_MAJ: now - 10_000,
    }),
  ];
}

/** Changes made in Grist during the morning, so the chronology shows before → after. */
function morningChanges(now: number): Record<string, unknown>[][] {
  const [first, second] = morningRows(now);
  return [
    [{ ...second, Statut: "En cours", Commentaire: "Matériel livré", Derniere_MAJ: now - 1_200 }],
    [{ ...first, Commentaire: "Arbre abattu, évacuation en cours", Derniere_MAJ: now - 600 }],
  ];
}

/** The change an agent makes in Grist that the guides show: a blocked, urgent intervention. */
function blockedRow(now: number): Record<string, unknown> {
  return row(6, {
    ID2: "INT-2026-0416",
    Statut: "Bloqué",
    Priorite: "Urgente",
    Agent: "Marie Durand",
    Type: "Voirie",
    Localisation: "12 rue de la République, 13001 Marseille",
    Commentaire: "Chaussée effondrée, accès impossible sans la police municipale",
    Latitude: 43.2985,
    Longitude: 5.3745,
    Derniere_MAJ: now,
  });
}

async function shoot(target: Page | Locator, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`);
  await target.screenshot({ path });
  return name;
}

/** Waits until no card is flashing, so a picture shows the resting state. */
async function waitForCalm(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.querySelectorAll(".card--flash, .card--flash-alarm").length === 0,
    undefined,
    { timeout: 15_000 },
  );
}

async function onlineImages(browser: Browser, relay: TestRelay, dir: string): Promise<string[]> {
  const done: string[] = [];
  const view = await openPage(browser, `${relay.url}/`, { viewport: DESKTOP });
  const { page } = view;
  try {
    await waitForLive(page);
    await page.waitForFunction(() => document.querySelectorAll(".list article.card").length === 4);
    await waitForCalm(page);
    done.push(await shoot(page, dir, "superviseur-ecran"));
    done.push(await shoot(page.locator(".topbar__tools"), dir, "superviseur-indicateur-en-direct"));

    await page.click("#onglet-chronologie");
    await page.waitForFunction(() => document.querySelectorAll(".tl__item").length === 7);
    // The tab bar at the top of the window: the picture is about the chronology.
    await page.locator('[role="tablist"]').evaluate((bar) => bar.scrollIntoView());
    done.push(await shoot(page, dir, "superviseur-chronologie"));
    await page.click("#onglet-carte");
    // No tiles here (closed port): the map draws the départements' outlines instead.
    await page.waitForFunction(
      () => document.querySelectorAll(".leaflet-overlay-pane path").length >= 90,
    );
    await page.waitForFunction(
      () => document.querySelectorAll(".leaflet-marker-icon.pin").length >= 3,
    );
    await page.locator('[role="tablist"]').evaluate((bar) => bar.scrollIntoView());
    done.push(await shoot(page, dir, "superviseur-carte"));

    await page.click("#onglet-liste");
    await page.evaluate(() => window.scrollTo(0, 0));

    // An agent marks a new intervention Bloqué and Urgente in Grist.
    await relay.postWebhook([blockedRow(Math.floor(Date.now() / 1000))]);
    const card = page.locator('article.card:has-text("INT-2026-0416")');
    await card.waitFor();
    await page.waitForSelector(".card--flash-alarm");
    await page.waitForSelector(".toast--alarm");
    // The notification's short fade-in over, the card's longer flash still on.
    await page.waitForFunction(() =>
      document
        .getAnimations()
        .every(
          (animation) =>
            animation.playState !== "running" ||
            !(animation.effect as KeyframeEffect | null)?.target?.closest(".toast"),
        ),
    );
    // Caught mid-flash: the pictures show the red glow the guides describe.
    done.push(await shoot(page, dir, "superviseur-alarme"));
    done.push(await shoot(card, dir, "fiche-alarme"));
    await page.evaluate(() => window.scrollTo(0, 0));

    await page.click("#onglet-liste");
    await page.selectOption("#filtre-statut", { label: "Bloqué" });
    await page.waitForFunction(() => document.querySelectorAll(".list article.card").length === 1);
    await waitForCalm(page);
    done.push(await shoot(page, dir, "superviseur-filtre"));

    await page.selectOption("#filtre-statut", { index: 0 });
    await page.click(".help-button");
    await page.waitForSelector("dialog.help[open]");
    done.push(await shoot(page.locator("dialog.help"), dir, "superviseur-aide"));
  } finally {
    await view.context.close();
  }
  const phone = await openPage(browser, `${relay.url}/`, { viewport: PHONE });
  try {
    await waitForLive(phone.page);
    await phone.page.waitForSelector(".list article.card");
    await waitForCalm(phone.page);
    done.push(await shoot(phone.page, dir, "superviseur-telephone"));
  } finally {
    await phone.context.close();
  }
  return done;
}

/** A relay that goes away: the indicator's offline state. */
async function offlineImages(browser: Browser, dir: string): Promise<string[]> {
  let relay: TestRelay | undefined = await startTestRelay({ env: RELAY_ENV });
  const now = Math.floor(Date.now() / 1000);
  await relay.postWebhook(morningRows(now).slice(0, 2));
  const view = await openPage(browser, `${relay.url}/`, { viewport: DESKTOP });
  try {
    await waitForLive(view.page);
    await relay.close();
    relay = undefined;
    await view.page.waitForFunction(
      () => document.querySelector(".conn")?.getAttribute("data-state") === "offline",
      undefined,
      { timeout: 60_000 },
    );
    await view.page.waitForSelector(".offline:not([hidden])");
    // The top of the screen: indicator, banner with "Réessayer maintenant", dimmed counters.
    await view.page.screenshot({
      path: join(dir, "superviseur-hors-ligne.png"),
      clip: { x: 0, y: 0, width: DESKTOP.width, height: 330 },
    });
    return ["superviseur-hors-ligne"];
  } finally {
    await view.context.close();
    await relay?.close();
  }
}

/** Takes every guide image into `dir`; returns their names (without `.png`). */
export async function captureGuideImages(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const [relay, browser] = await Promise.all([startTestRelay({ env: RELAY_ENV }), launchBrowser()]);
  try {
    const now = Math.floor(Date.now() / 1000);
    await relay.postWebhook(morningRows(now));
    for (const change of morningChanges(now)) await relay.postWebhook(change);
    return [...(await onlineImages(browser, relay, dir)), ...(await offlineImages(browser, dir))];
  } finally {
    await browser.close();
    await relay.close();
  }
}
