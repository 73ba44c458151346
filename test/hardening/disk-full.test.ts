/**
 * Issue 12, row 8: on a full disk, writes get 503 (nothing acknowledged), /readyz says the
 * store is unavailable and why, the log names ENOSPC once, and all heals once space is back.
 * Needs a real full file system: a 4 MB tmpfs (mounting needs root; skipped otherwise).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.ts";
import { gristRow } from "../support/test-relay.ts";
import { waitFor } from "../support/wait.ts";

const SECRET = "disk-full-webhook-secret";
const mountPoint = mkdtempSync(join(tmpdir(), "grist-realtime-full-"));

function tryMount(): string | null {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint], {
      stdio: "ignore",
    });
    return null;
  } catch (error) {
    return `cannot mount a tmpfs here (${(error as Error).message.split("\n")[0]}): needs root`;
  }
}

const skipReason = tryMount();

async function post(url: string, id: number): Promise<Response> {
  return fetch(`${url}/webhooks/grist`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}` },
    // Long comments make each write need fresh pages.
    body: JSON.stringify([gristRow(id, { Commentaire: "x".repeat(60_000) })]),
  });
}

describe("disk full", { skip: skipReason ?? false }, () => {
  let relay: RelayProcess;
  const filler = join(mountPoint, "filler");
  before(async () => {
    relay = await startRelayProcess({ DATA_DIR: mountPoint, WEBHOOK_SECRET: SECRET });
  });
  after(async () => {
    await relay?.kill("SIGKILL");
    if (!skipReason) execFileSync("umount", [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it("refuses writes with 503, says why in /readyz, logs ENOSPC once, and heals when space is back", async () => {
    assert.equal((await post(relay.url, 1)).status, 200);
    const block = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) appendFileSync(filler, block);
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
    }

    let refused: Response | null = null;
    for (let id = 2; id < 50 && refused === null; id++) {
      const response = await post(relay.url, id);
      if (response.status !== 200) refused = response;
      else await response.arrayBuffer();
    }
    assert.ok(refused, "a write failed on the full disk");
    assert.equal(refused.status, 503);
    assert.ok(refused.headers.get("retry-after"));
    // Grist retries: more failures in the same incident.
    for (let id = 100; id < 103; id++) assert.equal((await post(relay.url, id)).status, 503);

    const ready = await fetch(`${relay.url}/readyz`);
    assert.equal(ready.status, 503);
    const body = (await ready.json()) as { store: string; storeProblem?: string };
    assert.equal(body.store, "unavailable");
    assert.equal(body.storeProblem, "ENOSPC");
    const named = relay
      .output()
      .split("\n")
      .filter((line) => line.includes("store write failed"));
    assert.equal(named.length, 1, "one log line per incident");
    assert.match(named[0] ?? "", /"cause":"ENOSPC"/);

    rmSync(filler);
    await waitFor("a write to succeed again", async () => (await post(relay.url, 200)).ok, 10_000);
    assert.equal((await fetch(`${relay.url}/readyz`)).status, 200);
  });
});
