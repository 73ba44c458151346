import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { ALERT_IMAGE, alertPage, drawAlertScreenshot, exampleAlert } from "./alert-screenshot.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe("the alert screenshot of docs/alertes.md", () => {
  it("is embedded in docs/alertes.md and exists as a PNG", () => {
    const guide = readFileSync(join(ROOT, "docs", "alertes.md"), "utf8");
    assert.match(guide, /!\[[^\]]+\]\(images\/alerte-tchap\.png\)/);
    assert.equal(ALERT_IMAGE, join(ROOT, "docs", "images", "alerte-tchap.png"));
    assert.deepEqual(readFileSync(ALERT_IMAGE).subarray(0, 8), PNG_SIGNATURE);
  });

  it("shows the alert's own HTML body, unchanged", () => {
    const alert = exampleAlert();
    assert.match(alert.html, /<strong>🚨 Intervention urgente : INT-007<\/strong>/);
    assert.ok(alertPage(alert.html).includes(`data-testid="alert">${alert.html}</div>`));
  });

  it("is drawn by Debian's Chromium", {
    skip: existsSync("/usr/bin/chromium") ? false : "/usr/bin/chromium absent",
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "grt-alert-shot-"));
    try {
      const file = await drawAlertScreenshot(join(dir, "alerte.png"));
      const png = await readFile(file);
      assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
      // IHDR width and height: the bubble, not an empty page.
      assert.ok(png.readUInt32BE(16) > 300 && png.readUInt32BE(20) > 150);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
