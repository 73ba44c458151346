import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { decodeJwt } from "jose";
import { runCli, startRelayProcess } from "../testing/relay-process.ts";
import { openSse } from "../testing/sse-client.ts";
import { gristRow } from "../testing/test-relay.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("grist-realtime serve (a real process)", () => {
  it("loses nothing acknowledged with 200 when killed with SIGKILL, and resumes after restart", async () => {
    const dataDir = join(dir, "kill");
    const first = await startRelayProcess({ DATA_DIR: dataDir });
    const acknowledged: number[] = [];
    const burst = (async () => {
      for (let id = 1; id <= 400; id++) {
        try {
          const response = await fetch(`${first.url}/webhooks/grist`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify([gristRow(id)]),
          });
          if (response.status === 200) acknowledged.push(id);
        } catch {
          return; // the process is gone
        }
      }
    })();
    while (acknowledged.length < 50) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.kill("SIGKILL");
    await burst;
    assert.ok(acknowledged.length >= 50);

    const second = await startRelayProcess({ DATA_DIR: dataDir });
    const { records, lastEventId } = (await (
      await fetch(`${second.url}/api/interventions`)
    ).json()) as {
      records: { id: number }[];
      lastEventId: string;
    };
    const stored = new Set(records.map((record) => record.id));
    for (const id of acknowledged)
      assert.ok(stored.has(id), `row ${id} was acknowledged, so it is stored`);
    // A client that had seen the first ten events resumes with exactly the rest.
    const stream = await openSse(`${second.url}/events`, { "Last-Event-ID": "10" });
    await stream.waitFor((m) => m.id === lastEventId);
    const ids = stream.messages.filter((m) => m.event === "record.added").map((m) => Number(m.id));
    assert.deepEqual(
      ids,
      Array.from({ length: Number(lastEventId) - 10 }, (_, i) => i + 11),
    );
    stream.close();
    assert.equal(await second.kill("SIGTERM"), 0, "SIGTERM stops cleanly");
    assert.match(second.output(), /relay stopped/);
  });

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
