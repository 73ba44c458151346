import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runDemoCommand } from "./demo-command.ts";

describe("grist-realtime demo", () => {
  it("serves a dashboard whose state fills with simulated field activity", async () => {
    let stdout = "";
    const stop = new AbortController();
    const io = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stdout += text) },
      env: { LOG_LEVEL: "silent" },
      signal: stop.signal,
    };
    const running = runDemoCommand(["--port", "0"], io);
    const deadline = Date.now() + 10_000;
    while (!/Tableau de bord : (\S+)\//.test(stdout) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const url = /Tableau de bord : (\S+)\//.exec(stdout)?.[1];
    assert.ok(url, stdout);
    let records: { positionSource: string | null }[] = [];
    const geocoded = () => records.some((record) => record.positionSource === "adresse");
    while ((records.length < 2 || !geocoded()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      records = (
        (await (await fetch(`${url}/api/interventions`)).json()) as { records: typeof records }
      ).records;
    }
    assert.ok(records.length >= 2, "the simulator fed the relay");
    assert.ok(geocoded(), "addresses without coordinates were placed by the demo's geocoder");
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200, "npm test builds the web app first");
    assert.match(await page.text(), /<html/i);
    stop.abort();
    assert.equal(await running, 0);
  });
});
