/**
 * Browser test helpers: Debian's Chromium driven by playwright-core against a real relay
 * (test/support/test-relay.ts) serving the built dashboard.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { buildWeb } from "../build.ts";

const webDir = join(dirname(fileURLToPath(import.meta.url)), "..");
export const SCREENSHOT_DIR = join(webDir, "..", "test-artifacts", "screenshots");
const CHROMIUM = "/usr/bin/chromium";

// Checked when a test file imports this module, before any `before` hook starts a relay: a
// relay started beside a failed browser launch kept the file alive until the test timeout.
if (!existsSync(CHROMIUM)) {
  throw new Error(`${CHROMIUM} absent : installez-le (apt-get install chromium)`);
}

/** Environment for test relays: tiles point at a closed local port (no Internet here). */
export const RELAY_ENV: Record<string, string> = {
  MAP_TILE_URL: "http://127.0.0.1:9/{z}/{x}/{y}.png",
  GEOCODER: "off",
  HEARTBEAT_MS: "5000",
  RETRY_MS: "300",
};

/** Builds web/dist once if it is missing (`npm test` builds it first anyway). */
export async function ensureWebBuilt(): Promise<void> {
  if (!existsSync(join(webDir, "dist", "index.html"))) await buildWeb();
}

export async function launchBrowser(): Promise<Browser> {
  await ensureWebBuilt();
  // launch() gives every run a fresh temporary profile (user-data-dir).
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
  /** Messages of every alert/confirm/prompt the page tried to open. */
  dialogs: string[];
  /** Uncaught errors in the page. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number }; initScript?: string } = {},
): Promise<OpenedPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    locale: "fr-FR",
    timezoneId: "Europe/Paris",
  });
  // Every Content-Security-Policy violation is recorded for the tests to assert on.
  await context.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = violations;
    document.addEventListener("securitypolicyviolation", (event) => {
      violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  if (options.initScript) await context.addInitScript({ content: options.initScript });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { context, page, dialogs, errors };
}

export async function waitForLive(page: Page, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    () => document.querySelector(".conn")?.getAttribute("data-state") === "live",
    undefined,
    { timeout },
  );
}

export async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
}

/** Text with Intl's no-break spaces turned into plain spaces. */
export function plain(text: string | null): string {
  return (text ?? "").replace(/\s+/g, " ").trim();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  // Finished animations: a notification caught fading in would look washed out.
  await page.screenshot({
    path: join(SCREENSHOT_DIR, `${name}.png`),
    fullPage: false,
    animations: "disabled",
  });
}

/** A row as Grist posts it, with coordinates (Marseille unless given). */
export function row(id: number, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    manualSort: id,
    ID2: `INT-${String(id).padStart(3, "0")}`,
    Agent: "Marie Durand",
    Localisation: "12 rue X, 13001 Marseille",
    Type: "Voirie",
    Statut: "En cours",
    Priorite: "Haute",
    Derniere_MAJ: Math.floor(Date.now() / 1000) - 600,
    Commentaire: "Technicien sur place",
    Latitude: 43.29,
    Longitude: 5.37,
    ...fields,
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core (the dev dependency) in the page and returns its violations, one line per rule
 * with the offending selectors, so a failing assertion says what to fix.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const source = await readFile(
    createRequire(import.meta.url).resolve("axe-core/axe.min.js"),
    "utf8",
  );
  // evaluate() goes through the DevTools protocol, which the page's CSP does not restrict.
  await page.evaluate(`${source}\n;undefined`);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: unknown,
          ): Promise<{
            violations: {
              id: string;
              impact?: string | null;
              help: string;
              nodes: { target: unknown[] }[];
            }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? null,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(" ")),
    }));
  });
}
