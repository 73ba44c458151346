/**
 * Alerts through a real relay: a webhook with an urgent intervention reaches the (fake) Tchap
 * room once, with every Grist value escaped, even when the relay restarts during an outage.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { acceptedSends, startFakeHomeserver } from "../../test/support/alerts/fake-homeserver.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { waitFor } from "../../test/support/wait.ts";

const ROOM = "!astreinte:tchap.test";
const TOKEN = "bot-access-token";

/** The relay's outbox counts, as operators read them. */
async function alertCounts(relay: TestRelay) {
  const status = (await (await fetch(`${relay.url}/api/alerts`)).json()) as {
    counts: { sent: number; pending: number };
  };
  return status.counts;
}

/** Waits until the outbox holds nothing left to send: no later send can come after this. */
async function drained(relay: TestRelay, sent: number) {
  await waitFor(`${sent} alerts sent, none pending`, async () => {
    const counts = await alertCounts(relay);
    return counts.sent === sent && counts.pending === 0;
  });
}

describe("alerts sent by the relay", () => {
  const dir = mkdtempSync(join(tmpdir(), "grist-realtime-alerts-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("sends one escaped message per urgent intervention, and every pending alert once across a restart during an outage", async () => {
    const homeserver = await startFakeHomeserver({
      tokens: { [TOKEN]: "@bot:tchap.test" },
      rooms: { [ROOM]: { members: ["@bot:tchap.test"] } },
    });
    const configFile = join(dir, "alertes.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        destinations: [
          {
            name: "tchap",
            kind: "matrix",
            homeserverUrl: homeserver.url,
            accessToken: TOKEN,
            roomId: ROOM,
            minIntervalMs: 10,
          },
        ],
        rules: [
          {
            name: "urgence",
            title: "Intervention urgente",
            triggers: [
              { on: "record.added", where: { priorite: "Urgente" } },
              { on: "change", field: "priorite", to: "Urgente" },
            ],
            destinations: ["tchap"],
          },
        ],
        delivery: { maxAttempts: 20, backoffBaseMs: 100, backoffMaxMs: 1000 },
      }),
    );
    const env = { ALERTS_CONFIG: configFile, RELAY_PUBLIC_URL: "https://relais.exemple.fr" };
    const dataDir = join(dir, "data");
    let relay = await startTestRelay({ dataDir, env });
    const hostile = "<img src=x onerror=alert(1)>";
    await relay.postWebhook([
      gristRow(1, { Priorite: "Urgente", Commentaire: hostile }),
      gristRow(2),
    ]);
    await drained(relay, 1);
    assert.equal(acceptedSends(homeserver).length, 1, "one alert for the one urgent row");
    const content = homeserver.messages[0]?.content as {
      msgtype: string;
      body: string;
      formatted_body: string;
    };
    assert.equal(content.msgtype, "m.text");
    assert.match(content.body, /INT-001/);
    assert.ok(!content.formatted_body.includes("<img"), "the comment is escaped in HTML");
    assert.match(content.formatted_body, /&lt;img/);
    assert.match(content.formatted_body, /href="https:\/\/relais\.exemple\.fr\/\?q=INT-001"/);

    // Tchap goes down; two more urgent changes are acknowledged, then the relay restarts.
    homeserver.setOutage({ status: 502 });
    await relay.postWebhook([
      gristRow(2, { Priorite: "Urgente" }),
      gristRow(3, { Priorite: "Urgente" }),
    ]);
    // The relay tried during the outage, so the restart below has failed attempts to resume.
    await waitFor("a send refused by the outage", () =>
      homeserver.requests.some((r) => r.url.includes("/send/") && r.status === 502),
    );
    await relay.close();
    relay = await startTestRelay({ dataDir, env });
    homeserver.setOutage(null);
    await drained(relay, 3);
    const references = homeserver.messages
      .map((m) => /INT-\d+/.exec(String(m.content.body))?.[0])
      .sort();
    assert.deepEqual(references, ["INT-001", "INT-002", "INT-003"], "each alert exactly once");
    // Counted as requests the homeserver accepted, not as messages it deduplicated.
    assert.equal(acceptedSends(homeserver).length, 3);
    await relay.close();
    await homeserver.close();
  });
});
