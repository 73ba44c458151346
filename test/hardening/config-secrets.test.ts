/**
 * Issue 12, row 7, as an operator meets it: `serve` refuses to start with an empty secret, or
 * on a public address with subscriber auth but unauthenticated webhooks.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../support/relay-process.ts";

// Before the fix `serve` started and kept listening: the timeout turns that into a failure.
describe("serve refuses unsafe secrets", { timeout: 20_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-secrets-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent" };

  it("exits 2 naming WEBHOOK_SECRET when it is set but empty", async () => {
    const result = await runCli(["serve"], { ...base, WEBHOOK_SECRET: "" });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /WEBHOOK_SECRET \(--webhook-secret\) : vide/);
  });

  it("exits 2 on a public address with subscriber auth and no webhook secret", async () => {
    const result = await runCli(["serve"], {
      ...base,
      HOST: "0.0.0.0",
      AUTH_JWT_SECRET: "j".repeat(32),
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /ALLOW_UNAUTHENTICATED_WEBHOOKS=true/);
  });
});
