/**
 * deploy/grist-realtime.service: valid for systemd (when systemd-analyze is here), hardened,
 * and running the same command as the image.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO, readDockerfile } from "../support/deploy/dockerfile.ts";

const unitText = readFileSync(join(REPO, "deploy/grist-realtime.service"), "utf8");

/** `Key=value` lines of the unit (the last one wins, as in systemd for these keys). */
function directives(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) map.set(match[1], match[2] ?? "");
  }
  return map;
}

const unit = directives(unitText);
const hasAnalyze = spawnSync("systemd-analyze", ["--version"]).status === 0;

describe("the systemd unit", () => {
  it("runs the image's command with the system's Node, from the install folder", () => {
    const cmd = readDockerfile().cmd;
    assert.equal(unit.get("ExecStart"), `/usr/bin/node ${cmd.slice(1).join(" ")}`);
    assert.equal(unit.get("WorkingDirectory"), "/opt/grist-realtime");
    assert.doesNotMatch(unitText, /node_modules\/\.bin\/node/);
  });

  it("restarts on failure, with the hardening options and only its data folder writable", () => {
    assert.equal(unit.get("Restart"), "on-failure");
    assert.equal(unit.get("NoNewPrivileges"), "yes");
    assert.equal(unit.get("ProtectSystem"), "strict");
    const dataDir = /DATA_DIR=(\S+)/.exec(unit.get("Environment") ?? "")?.[1];
    assert.equal(dataDir, "/var/lib/grist-realtime");
    assert.equal(unit.get("ReadWritePaths"), dataDir);
    assert.equal(unit.get("User"), "grist-realtime");
  });

  it("passes systemd-analyze verify", { skip: !hasAnalyze && "systemd-analyze absent" }, () => {
    const folder = mkdtempSync(join(tmpdir(), "grist-realtime-unit-"));
    try {
      // verify checks that ExecStart's program exists: on a machine without a system Node,
      // point it at the Node running this test.
      const text = existsSync("/usr/bin/node")
        ? unitText
        : unitText.replace("ExecStart=/usr/bin/node", `ExecStart=${process.execPath}`);
      const file = join(folder, "grist-realtime.service");
      writeFileSync(file, text);
      const result = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
      assert.equal(result.stderr.trim(), "", result.stderr);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
