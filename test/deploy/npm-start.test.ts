/**
 * `npm start` under a supervisor: no build step on start, and SIGTERM sent to npm reaches the
 * relay, which logs its shutdown and exits, leaving nothing running.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { REPO } from "../support/deploy/dockerfile.ts";
import { isAlive, start, waitUntilGone } from "../support/deploy/processes.ts";

const scripts = (
  JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts;

/** The PIDs of a process's children (Linux). */
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
  return text === "" ? [] : text.split(" ").map(Number);
}

describe("npm start", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-npm-start-"));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("builds nothing on start: the dashboard is built by npm install (prepare) or build:web", () => {
    assert.equal(scripts.prestart, undefined);
    assert.match(scripts.prepare ?? "", /then npm run build:web;/);
    assert.doesNotMatch(scripts.start ?? "", /build|esbuild|tsc/);
  });

  it("passes SIGTERM to the relay, which logs its shutdown and exits with nothing left", async () => {
    const npm = start("npm", ["start", "--silent"], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? tmpdir(),
        HOST: "127.0.0.1",
        PORT: "0",
        DATA_DIR: dataDir,
        STORE: "sqlite",
        LOG_LEVEL: "info",
      },
    });
    const [, url] = await npm.waitForOutput(/"url":"(http:\/\/[^"]+)"/, 30_000);
    assert.equal((await fetch(`${url}/livez`)).status, 200);
    const npmPid = npm.child.pid ?? 0;
    const relayPids = childrenOf(npmPid);
    assert.equal(relayPids.length, 1, "npm runs the relay itself, no shell in between");
    const relayPid = relayPids[0] ?? 0;
    assert.match(readFileSync(`/proc/${relayPid}/cmdline`, "utf8"), /src\/cli\/main\.ts\0serve/);

    npm.child.kill("SIGTERM");
    await npm.waitForOutput(/"signal":"SIGTERM","msg":"shutting down"/);
    await npm.waitForOutput(/"msg":"relay stopped"/);
    await npm.exited;
    assert.ok(await waitUntilGone(relayPid), `relay ${relayPid} still running`);
    assert.ok(!isAlive(npmPid));
    await assert.rejects(fetch(`${url}/livez`), "nothing listens any more");
  });
});
