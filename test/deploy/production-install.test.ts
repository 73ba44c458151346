/**
 * The production install path, without Docker: deploy/release.sh runs the Dockerfile's two
 * stages in temporary folders (build stage, then a clean folder with only what the image
 * copies and its `npm ci --omit=dev`), then the image's CMD and HEALTHCHECK run there.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, readDockerfile } from "../support/deploy/dockerfile.ts";
import { freePort, run, type Started, start } from "../support/deploy/processes.ts";
import { openSse } from "../support/sse-client.ts";
import { gristRow } from "../support/test-relay.ts";

const dockerfile = readDockerfile();
const releaseScript = readFileSync(join(REPO, "deploy/release.sh"), "utf8");
const packageJson = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
};
// The image's `node` is Node 24 on PATH: here, the one running this test.
const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`;

/**
 * npm reads its packages from the cache the clone's own `npm install` filled: `npm test` runs in
 * an empty network namespace (no registry), where npm would otherwise retry DNS for minutes.
 */
const NPM_ENV = { ...process.env, PATH, npm_config_prefer_offline: "true" };

describe("the Dockerfile and deploy/release.sh", () => {
  it("run the same npm commands in the same order", () => {
    const dockerNpm = dockerfile.runs
      .flatMap((run) => run.command.split("&&").map((part) => part.trim()))
      // Emptying npm's cache only makes the image smaller; the script leaves the host's alone.
      .filter((command) => command.startsWith("npm ") && !command.startsWith("npm cache"));
    const scriptNpm = releaseScript
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("npm "));
    assert.deepEqual(scriptNpm, dockerNpm);
    assert.ok(dockerNpm.length >= 3, "the Dockerfile installs, builds and installs again");
  });

  it("may skip install scripts: no runtime dependency has one", () => {
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([name, entry]) => name !== "" && !entry.dev && entry.hasInstallScript)
      .map(([name]) => name);
    assert.deepEqual(withScripts, [], "npm ci --omit=dev --ignore-scripts would skip these");
  });

  it("start the relay with the command of npm start", () => {
    assert.deepEqual(dockerfile.cmd, ["node", "src/cli/main.ts", "serve"]);
    assert.equal(packageJson.scripts.start, `exec ${dockerfile.cmd.join(" ")}`);
  });
});

describe("npm ci --omit=dev run by hand", { timeout: 120_000 }, () => {
  it("installs without failing on the dashboard build it cannot do", async () => {
    const folder = mkdtempSync(join(tmpdir(), "grist-realtime-omit-dev-"));
    try {
      for (const file of ["package.json", "package-lock.json"])
        copyFileSync(join(REPO, file), join(folder, file));
      const output = await run("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund"], {
        cwd: folder,
        env: NPM_ENV,
      });
      assert.match(output, /esbuild absent/);
      assert.ok(existsSync(join(folder, "node_modules/fastify")));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe("a production install made by deploy/release.sh", { timeout: 300_000 }, () => {
  let target = "";
  let relay: Started | undefined;
  let port = 0;

  before(async () => {
    target = mkdtempSync(join(tmpdir(), "grist-realtime-release-"));
    await run("bash", [join(REPO, "deploy/release.sh"), target], {
      env: NPM_ENV,
    });
    port = await freePort();
    relay = start(dockerfile.cmd[0] ?? "node", dockerfile.cmd.slice(1), {
      cwd: target,
      env: {
        PATH,
        ...dockerfile.env,
        // The image listens on every interface of its container; here, loopback only.
        HOST: "127.0.0.1",
        PORT: String(port),
        DATA_DIR: join(target, "data"),
      },
    });
    await relay.waitForOutput(/"msg":"relay listening"/);
  });

  after(async () => {
    if (relay && relay.child.exitCode === null) {
      relay.child.kill("SIGTERM");
      await relay.exited;
    }
    rmSync(target, { recursive: true, force: true });
  });

  it("holds no development tool and no test file", () => {
    assert.ok(existsSync(join(target, "node_modules/fastify")));
    for (const devTool of ["esbuild", "typescript", "@biomejs", ".bin/tsc"])
      assert.ok(!existsSync(join(target, "node_modules", devTool)), `${devTool} installed`);
    assert.ok(!existsSync(join(target, "src/cli/main.test.ts")));
  });

  it("passes the image's health check", async () => {
    const [command = "node", ...args] = dockerfile.healthcheck;
    const check = start(command, args, { env: { PATH, PORT: String(port) } });
    assert.equal(await check.exited, 0, check.output());
  });

  it("serves the dashboard built in the first stage", async () => {
    const response = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(response.status, 200);
    const html = await response.text();
    const script = /<script type="module" src="(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    assert.equal((await fetch(`http://127.0.0.1:${port}/${script}`)).status, 200);
  });

  it("turns a webhook into an event on /events", async () => {
    const stream = await openSse(`http://127.0.0.1:${port}/events`);
    try {
      await stream.waitFor((m) => m.event === "snapshot");
      const posted = await fetch(`http://127.0.0.1:${port}/webhooks/grist?event=add`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify([gristRow(41)]),
      });
      assert.equal(posted.status, 200, await posted.text());
      const added = await stream.waitFor((m) => m.event === "record.added", 10_000);
      assert.match(added.data, /INT-041/);
    } finally {
      stream.close();
    }
  });
});
