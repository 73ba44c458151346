/**
 * Draws docs/images/alerte-tchap.png: the HTML body of a real alert (renderAlert, the code the
 * relay sends) shown in Debian's Chromium inside a chat-like frame, for docs/alertes.md.
 * Run: `node test/docs/alert-screenshot.ts [--emoji-font <NotoColorEmoji.ttf>]` (needs
 * /usr/bin/chromium). Without an emoji font on the machine (Debian: fonts-noto-color-emoji)
 * the title's emoji is a blank box; phones draw it with their own font.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderAlert } from "../../src/alerts/message.ts";
import { intervention, relayEvent } from "../support/alerts/events.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ALERT_IMAGE = join(root, "docs", "images", "alerte-tchap.png");

/** The example of the docs: an intervention that becomes urgent, as a webhook reports it. */
export function exampleAlert() {
  const event = relayEvent({
    type: "record.updated",
    record: intervention({ priorite: "Urgente", commentaire: "Conduite d'eau rompue, rue fermée" }),
    changes: { priorite: { from: "Haute", to: "Urgente" } },
  });
  return renderAlert(event, "🚨 Intervention urgente", {
    dashboardUrl: "https://relais.exemple.gouv.fr",
  });
}

/**
 * A page holding the alert's HTML as is: renderAlert already escaped every value from Grist,
 * and the frame around it is fixed text. The styles only imitate a chat client's bubble.
 */
export function alertPage(html: string): string {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><style>
  @font-face { font-family: "Emoji"; src: url("${EMOJI_FONT_URL}"); }
  body { margin: 0; padding: 24px; background: #f4f6fa; font: 15px/1.45 "DejaVu Sans", "Emoji", sans-serif; color: #17191c; }
  .event { display: flex; gap: 12px; max-width: 640px; }
  .avatar { flex: none; width: 36px; height: 36px; border-radius: 50%; background: #000091; color: #fff;
    display: grid; place-items: center; font-weight: bold; }
  .sender { font-weight: bold; color: #000091; } .time { color: #737373; font-size: 12px; margin-left: 8px; }
  .bubble { background: #fff; border-radius: 12px; padding: 8px 16px; margin-top: 4px; box-shadow: 0 1px 2px #0002; }
  .bubble p { margin: 6px 0; } .bubble ul { margin: 6px 0; padding-left: 20px; }
  .bubble a { color: #0063cb; }
  </style></head><body><div class="event"><div class="avatar">A</div><div>
  <div><span class="sender">Alertes interventions</span><span class="time">09:30</span></div>
  <div class="bubble" data-testid="alert">${html}</div></div></div></body></html>`;
}

/** Served by the page's request handler from a local file, when one is given. */
const EMOJI_FONT_URL = "https://fonts.invalid/emoji.ttf";

export async function drawAlertScreenshot(
  file = ALERT_IMAGE,
  emojiFont: string | null = null,
): Promise<string> {
  const chromiumPath = "/usr/bin/chromium";
  if (!existsSync(chromiumPath))
    throw new Error(`${chromiumPath} absent (apt-get install chromium)`);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 720, height: 400 } });
    const font = emojiFont ? await readFile(emojiFont) : null;
    // No network: the page is self-contained, and the dashboard link is never followed.
    await page.route("**/*", (route) =>
      font && route.request().url() === EMOJI_FONT_URL
        ? route.fulfill({ body: font, contentType: "font/ttf" })
        : route.abort(),
    );
    await page.setContent(alertPage(exampleAlert().html));
    // A string, evaluated in the page: the Node-side tsconfig has no DOM types (no `document`).
    await page.evaluate("document.fonts.ready.then(() => true)");
    await mkdir(dirname(file), { recursive: true });
    await page.locator(".event").screenshot({ path: file });
    return file;
  } finally {
    await browser.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { "emoji-font": { type: "string" } } });
  const file = await drawAlertScreenshot(ALERT_IMAGE, values["emoji-font"] ?? null);
  process.stdout.write(`${file}\n`);
}
