import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { decodeJwt } from "jose";
import { runCli } from "../../test/support/relay-process.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("grist-realtime serve (a real process)", () => {
  // SIGKILL during a webhook burst: test/resilience/kill-9.test.ts.

  it("refuses to start on a public address without authentication, naming the setting", async () => {
    const result = await runCli(["serve", "--host", "0.0.0.0", "--port", "0"], {
      DATA_DIR: join(dir, "public"),
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /HOST \(--host\)/);
    assert.match(result.stderr, /AUTH_JWT_SECRET/);
  });

  it("lists every configuration problem and names an unknown flag", async () => {
    const bad = await runCli(["serve", "--port", "99999", "--store", "mongo"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /PORT \(--port\)/);
    assert.match(bad.stderr, /STORE \(--store\)/);
    const unknown = await runCli(["serve", "--prot", "80"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--prot/);
  });

  it("prints help for the program and for each command", async () => {
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /serve/);
    assert.match(help.stdout, /token/);
    const serveHelp = await runCli(["serve", "--help"]);
    assert.match(serveHelp.stdout, /--webhook-secret\s+WEBHOOK_SECRET/);
    const unknown = await runCli(["frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Commande inconnue : frobnicate/);
  });
});

describe("grist-realtime token", () => {
  it("mints a token with the role, départements and lifetime asked for", async () => {
    const result = await runCli(
      ["token", "--role", "supervisor", "--departements", "13,2a", "--ttl", "2h"],
      {
        AUTH_JWT_SECRET: "a-32-characters-long-test-secret!",
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const claims = decodeJwt(result.stdout.trim());
    assert.equal(claims.role, "supervisor");
    assert.deepEqual(claims.departements, ["13", "2A"]);
    assert.ok(Math.abs((claims.exp ?? 0) - (Date.now() / 1000 + 7200)) < 60);
  });

  it("explains what is missing", async () => {
    const result = await runCli(["token", "--role", "chef", "--ttl", "forever"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--role/);
    assert.match(result.stderr, /--ttl/);
  });
});
