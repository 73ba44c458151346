/**
 * Scope is total, through a real relay: a subscriber limited to département 13 never learns a
 * value from the 69 a record came from — not on its stream, not in a replay, not in
 * `/api/events`, not in an alert limited to 13.
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
import { openSse } from "../../test/support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { mintToken } from "../auth/jwt.ts";

const JWT_SECRET = "a-32-characters-long-test-secret!";
const ROOM = "!equipe13:tchap.test";
const BOT_TOKEN = "bot-access-token";

/** Every value the row had in Lyon: none may reach a subscriber scoped to 13. */
const LYON = {
  Localisation: "5 place Bellecour, 69002 Lyon",
  Agent: "Agent Lyonnais",
  Commentaire: "Constat rhodanien",
  Statut: "En cours",
};
const MARSEILLE = {
  Localisation: "8 quai du Port, 13002 Marseille",
  Agent: "Agent Phocéen",
  Commentaire: "Repris à Marseille",
  Statut: "Bloqué",
};
const LYON_MARKERS = ["69002", "Bellecour", "Lyon", "Lyonnais", "rhodanien", '"69"'];

function leaked(text: string): string[] {
  return LYON_MARKERS.filter((marker) => text.includes(marker));
}

describe("a subscriber scoped to département 13", () => {
  const dir = mkdtempSync(join(tmpdir(), "grist-realtime-scope-"));
  let homeserver: FakeHomeserver;
  let relay: TestRelay;
  let token: string;

  before(async () => {
    homeserver = await startFakeHomeserver({
      tokens: { [BOT_TOKEN]: "@bot:tchap.test" },
      rooms: { [ROOM]: { members: ["@bot:tchap.test"] } },
    });
    const configFile = join(dir, "alertes.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        destinations: [
          {
            name: "equipe13",
            kind: "matrix",
            homeserverUrl: homeserver.url,
            accessToken: BOT_TOKEN,
            roomId: ROOM,
            minIntervalMs: 0,
          },
        ],
        rules: [
          {
            name: "blocage13",
            title: "Blocage dans le 13",
            departements: ["13"],
            triggers: [
              { on: "record.added", where: { statut: "Bloqué" } },
              { on: "change", field: "statut", to: "Bloqué" },
            ],
            destinations: ["equipe13"],
          },
        ],
      }),
    );
    relay = await startTestRelay({
      env: { AUTH_JWT_SECRET: JWT_SECRET, ALERTS_CONFIG: configFile },
    });
    token = await mintToken({
      secret: JWT_SECRET,
      role: "viewer",
      departements: ["13"],
      ttlSeconds: 300,
    });
  });
  after(async () => {
    await relay.close();
    await homeserver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gets a record moving 69 → 13 as an addition and one moving back as an id-only removal", async () => {
    await relay.postWebhook([gristRow(7, LYON), gristRow(8)]);
    const stream = await openSse(`${relay.url}/events?token=${token}`);
    const snapshot = await stream.waitFor((m) => m.event === "snapshot");
    const ids = (snapshot.json as { records: { id: number }[] }).records.map((r) => r.id);
    assert.deepEqual(ids, [8], "the snapshot holds only the 13 row");

    await relay.postWebhook([gristRow(7, MARSEILLE)], { event: "update" });
    const entered = await stream.waitFor(
      (m) => (m.json as { record?: { id: number } }).record?.id === 7,
    );
    const event = entered.json as { type: string; changes?: unknown; record: { agent: string } };
    assert.equal(entered.event, "record.added");
    assert.equal(event.type, "record.added");
    assert.equal(event.changes, undefined, "no changes: their from values were in 69");
    assert.equal(event.record.agent, "Agent Phocéen");

    await relay.postWebhook([gristRow(7, LYON)], { event: "update" });
    const left = await stream.waitFor((m) => m.event === "record.removed");
    assert.deepEqual((left.json as { record: unknown }).record, { id: 7 });

    // A replay from the snapshot's id goes through the same rule.
    const replay = await openSse(`${relay.url}/events?token=${token}`, {
      "Last-Event-ID": snapshot.id as string,
    });
    await replay.waitFor((m) => m.id === left.id);
    const replayed = replay.messages.filter((m) => m.event.startsWith("record."));
    assert.deepEqual(
      replayed.map((m) => m.event),
      ["record.added", "record.removed"],
    );
    stream.close();
    replay.close();
    for (const message of [...stream.messages, ...replay.messages]) {
      assert.deepEqual(leaked(message.data), [], `${message.event} leaks nothing from 69`);
    }
  });

  it("reads the same in /api/events: an addition, then an id-only removal, nothing from 69", async () => {
    // Row 17's own moves, 69 → 13 → 69, so this test reads what it made, run alone or not.
    await relay.postWebhook([gristRow(17, LYON)]);
    await relay.postWebhook([gristRow(17, MARSEILLE)], { event: "update" });
    await relay.postWebhook([gristRow(17, LYON)], { event: "update" });
    const response = await fetch(`${relay.url}/api/events?limit=1000&token=${token}`);
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.deepEqual(leaked(text), []);
    const { events } = JSON.parse(text) as {
      events: { type: string; record: { id: number }; changes?: unknown }[];
    };
    const about17 = events.filter((e) => e.record.id === 17);
    assert.deepEqual(
      about17.map((e) => [e.type, e.changes]),
      [
        ["record.added", undefined],
        ["record.removed", undefined],
      ],
    );
    // The unscoped history does hold the Lyon values: the filter is what kept them out.
    const admin = await mintToken({ secret: JWT_SECRET, role: "admin", ttlSeconds: 60 });
    const all = await (await fetch(`${relay.url}/api/events?limit=1000&token=${admin}`)).text();
    assert.ok(all.includes("Bellecour"));
  });

  it("alerts a rule limited to 13 with the record as it arrived there, nothing from 69", async () => {
    await relay.postWebhook([gristRow(20, LYON)]);
    await relay.postWebhook([gristRow(20, MARSEILLE)], { event: "update" });
    const deadline = Date.now() + 10_000;
    while (!homeserver.messages.some((m) => JSON.stringify(m.content).includes("INT-020"))) {
      assert.ok(Date.now() < deadline, "the 13 room got its alert");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const alert = homeserver.messages.find((m) => JSON.stringify(m.content).includes("INT-020"));
    assert.deepEqual(leaked(JSON.stringify(alert?.content)), []);
    assert.match(String(alert?.content.body), /Agent Phocéen/);
  });
});
