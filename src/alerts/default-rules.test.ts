/**
 * The default rules through a real relay and a (fake) Tchap room: they fire when a record
 * becomes urgent or blocked, whatever the spelling of the Grist choice, and never for closing
 * it — the dashboard's alarm rule.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";

const ROOM = "!astreinte:tchap.test";
const TOKEN = "bot-access-token";

function bodies(homeserver: FakeHomeserver): string[] {
  return homeserver.messages.map((m) => String((m.content as { body: unknown }).body));
}

async function waitForMessage(homeserver: FakeHomeserver, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!bodies(homeserver).some((body) => pattern.test(body))) {
    if (Date.now() > deadline)
      throw new Error(`no alert matching ${pattern}: ${bodies(homeserver)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("default alert rules", () => {
  const dir = mkdtempSync(join(tmpdir(), "grist-realtime-default-rules-"));
  let homeserver: FakeHomeserver;
  let relay: TestRelay;

  before(async () => {
    homeserver = await startFakeHomeserver({
      tokens: { [TOKEN]: "@bot:tchap.test" },
      rooms: { [ROOM]: { members: ["@bot:tchap.test"] } },
    });
    const configFile = join(dir, "alertes.json");
    // No `rules`: the relay uses its default ones.
    const destination = {
      name: "tchap",
      kind: "matrix",
      homeserverUrl: homeserver.url,
      accessToken: TOKEN,
      roomId: ROOM,
      minIntervalMs: 0,
    };
    writeFileSync(configFile, JSON.stringify({ destinations: [destination] }));
    relay = await startTestRelay({ env: { ALERTS_CONFIG: configFile } });
  });
  after(async () => {
    await relay.close();
    await homeserver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fires the Bloqué rule for Bloque, bloqué and  BLOQUÉ , added or changed into", async () => {
    await relay.postWebhook([
      gristRow(1, { Statut: "Bloque" }),
      gristRow(2, { Statut: "bloqué" }),
      gristRow(3, { Statut: " BLOQUÉ " }),
      gristRow(4, { Statut: "En cours" }),
    ]);
    await relay.postWebhook([gristRow(4, { Statut: "bloque" })], { event: "update" });
    for (const reference of ["INT-001", "INT-002", "INT-003", "INT-004"]) {
      await waitForMessage(homeserver, new RegExp(`bloquée : ${reference}`));
    }
    assert.equal(bodies(homeserver).filter((b) => /bloquée : INT-00[1-4]/.test(b)).length, 4);
  });

  it("stays silent when an urgent row is closed, or changed without becoming urgent", async () => {
    await relay.postWebhook([
      gristRow(10, { Statut: "Bloqué", Priorite: "Urgente" }),
      gristRow(12, { Statut: "En cours", Priorite: "Haute" }),
    ]);
    await waitForMessage(homeserver, /INT-010/);
    const before = homeserver.messages.length;
    // Closing a blocked urgent row; an urgent row the relay never saw arriving closed; raising
    // a row to Urgente in the same edit that closes it; commenting an urgent blocked row.
    await relay.postWebhook([gristRow(10, { Statut: "Terminé", Priorite: "Urgente" })], {
      event: "update",
    });
    await relay.postWebhook([gristRow(11, { Statut: "Terminé", Priorite: "Urgente" })], {
      event: "update",
    });
    await relay.postWebhook([gristRow(12, { Statut: "Annulé", Priorite: "Urgente" })], {
      event: "update",
    });
    await relay.postWebhook([gristRow(13, { Statut: "Bloqué", Priorite: "Urgente" })]);
    await waitForMessage(homeserver, /INT-013/);
    await relay.postWebhook(
      [gristRow(13, { Statut: "Bloqué", Priorite: "Urgente", Commentaire: "Toujours bloqué" })],
      { event: "update" },
    );
    // A marker after every silent case: once its alert is in, the others had their turn.
    await relay.postWebhook([gristRow(14, { Priorite: "Urgente" })]);
    await waitForMessage(homeserver, /urgente : INT-014/);
    const after = bodies(homeserver).slice(before);
    assert.deepEqual(
      after.map((body) => /INT-0\d\d/.exec(body)?.[0]),
      ["INT-013", "INT-014"],
      "only the row that became blocked and the marker raised an alert",
    );
  });
});
