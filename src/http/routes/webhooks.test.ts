import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { openSse } from "../../../test/support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../../test/support/test-relay.ts";

const FIXTURES = new URL("../../../test/fixtures/grist/", import.meta.url);
const SECRET = "test-webhook-secret";

interface CapturedPost {
  path: string;
  headers: [string, string][];
  raw_body: string;
}

function capturedPosts(): { fixture: string; post: CapturedPost }[] {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .flatMap((fixture) => {
      const capture = JSON.parse(readFileSync(new URL(fixture, FIXTURES), "utf8")) as {
        webhook_posts?: CapturedPost[];
      };
      return (capture.webhook_posts ?? []).map((post) => ({ fixture, post }));
    });
}

async function post(
  relay: TestRelay,
  path: string,
  body: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${relay.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${SECRET}`, ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function snapshotOf(relay: TestRelay) {
  return (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
    records: any[];
    lastEventId: string | null;
  };
}

async function eventsOf(relay: TestRelay) {
  return ((await (await fetch(`${relay.url}/api/events?limit=1000`)).json()) as { events: any[] })
    .events;
}

describe("POST /webhooks/grist", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({
      env: { WEBHOOK_SECRET: SECRET, WEBHOOK_BODY_LIMIT_BYTES: "65536" },
    });
  });
  after(() => relay.close());

  it("ingests every captured Grist delivery as Grist sent it, headers and raw body", async () => {
    const posts = capturedPosts();
    assert.ok(posts.length >= 10, "the fixtures hold the captured deliveries");
    for (const { fixture, post: captured } of posts) {
      const headers = Object.fromEntries(
        captured.headers.filter(
          ([name]) => !["Host", "Content-Length", "Connection"].includes(name),
        ),
      );
      // Only the "all" webhook carried the Authorization header; the others are posted with it
      // as setup would register them.
      headers.Authorization ??= `Bearer ${SECRET}`;
      const event = captured.path.endsWith("/add")
        ? "?event=add"
        : captured.path.endsWith("/update")
          ? "?event=update"
          : "";
      const response = await fetch(`${relay.url}/webhooks/grist${event}`, {
        method: "POST",
        headers,
        body: captured.raw_body,
      });
      assert.equal(response.status, 200, `${fixture} ${captured.path}`);
      const answer = (await response.json()) as { received: number };
      assert.equal(answer.received, (JSON.parse(captured.raw_body) as unknown[]).length);
    }
    const { records } = await snapshotOf(relay);
    const first = records.find((record) => record.id === 1);
    assert.ok(first, "row 1 is known");
    assert.equal(first.reference, "INT-001", "the ID column arrives as ID2 and maps to reference");
    assert.equal(first.fields.manualSort, undefined, "manualSort is not a user column");
  });

  it("decodes epoch seconds, lists, references and errors", async () => {
    const row = gristRow(900, {
      Derniere_MAJ: 1795482000,
      Tags: ["L", "chaussée", "urgent"],
      Equipe: 3,
      gristHelper_Display: "Équipe Sud",
      Calcul: ["E", "ZeroDivisionError", "division by zero"],
    });
    const { status } = await post(relay, "/webhooks/grist", JSON.stringify([row]));
    assert.equal(status, 200);
    const record = (await snapshotOf(relay)).records.find((r) => r.id === 900);
    assert.equal(record.derniereMaj, "2026-11-24T01:00:00.000Z");
    assert.equal(record.fields.Derniere_MAJ, "2026-11-24T01:00:00.000Z");
    assert.deepEqual(record.fields.Tags, ["chaussée", "urgent"]);
    assert.equal(record.fields.Equipe, 3);
    assert.equal(record.fields.gristHelper_Display, undefined);
    assert.deepEqual(record.fields.Calcul, {
      error: "ZeroDivisionError",
      message: "division by zero",
    });
    assert.equal(record.departement, "13");
  });

  it("computes what changed for an update", async () => {
    await post(relay, "/webhooks/grist?event=add", JSON.stringify([gristRow(901)]));
    const { body } = await post(
      relay,
      "/webhooks/grist?event=update",
      JSON.stringify([
        gristRow(901, { Statut: "Bloqué", Commentaire: "Accès fermé", Derniere_MAJ: 1795482000 }),
      ]),
    );
    assert.deepEqual(body, { received: 1, events: 1 });
    const last = (await eventsOf(relay)).at(-1);
    assert.equal(last.type, "record.updated");
    assert.deepEqual(last.changes.statut, { from: "En attente", to: "Bloqué" });
    assert.deepEqual(last.changes.commentaire, { from: "Nid-de-poule signalé", to: "Accès fermé" });
    assert.equal(last.record.statut, "Bloqué");
    assert.equal(last.source, "webhook");
  });

  it("stores no event for a redelivered batch", async () => {
    const batch = JSON.stringify([gristRow(910), gristRow(911, { Statut: "En cours" })]);
    const first = await post(relay, "/webhooks/grist", batch);
    const again = await post(relay, "/webhooks/grist", batch);
    assert.deepEqual(first.body, { received: 2, events: 2 });
    assert.deepEqual(again.body, { received: 2, events: 0 });
  });

  it("applies a batch whose Derniere_MAJ looks older when Grist is not configured", async () => {
    // Without Grist to ask, the relay cannot tell a late redelivery from a corrected date:
    // the last write wins rather than an update being dropped (the Grist case: ingest.test.ts).
    const older = JSON.stringify([gristRow(920, { Statut: "En cours", Derniere_MAJ: 1795480000 })]);
    const newer = JSON.stringify([gristRow(920, { Statut: "Terminé", Derniere_MAJ: 1795490000 })]);
    await post(relay, "/webhooks/grist", newer);
    const late = await post(relay, "/webhooks/grist", older);
    assert.deepEqual(late.body, { received: 1, events: 1 });
    const record = (await snapshotOf(relay)).records.find((r) => r.id === 920);
    assert.equal(record.statut, "En cours", "the last write won");
  });

  it("treats an update for an unknown row as its first appearance", async () => {
    await post(relay, "/webhooks/grist?event=update", JSON.stringify([gristRow(930)]));
    const last = (await eventsOf(relay)).at(-1);
    assert.equal(last.type, "record.updated");
    assert.deepEqual(last.changes, {});
    assert.equal(last.record.id, 930);
  });

  it("answers 401 without the secret, with a wrong one, and accepts ?secret=", async () => {
    const body = JSON.stringify([gristRow(940)]);
    assert.equal((await post(relay, "/webhooks/grist", body, { Authorization: "" })).status, 401);
    const wrong = await post(relay, "/webhooks/grist", body, {
      Authorization: "Bearer not-the-secret-at-all",
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, "RELAY_ERR_WEBHOOK_SECRET");
    const viaQuery = await post(relay, `/webhooks/grist?secret=${SECRET}`, body, {
      Authorization: "",
    });
    assert.equal(viaQuery.status, 200);
  });

  it("answers hostile input with a 4xx naming the problem and keeps serving", async () => {
    const cases: [string, Record<string, string>, number, string][] = [
      ["{not json", {}, 400, "RELAY_ERR_BAD_JSON"],
      ['{"id": 1}', {}, 400, "RELAY_ERR_BAD_PAYLOAD"],
      ['[{"id": "abc"}]', {}, 400, "RELAY_ERR_BAD_PAYLOAD"],
      ['[{"id": -4}]', {}, 400, "RELAY_ERR_BAD_PAYLOAD"],
      ["[1, 2]", {}, 400, "RELAY_ERR_BAD_PAYLOAD"],
      ['[{"id": 1, "__proto__": {"x": 1}}]', {}, 400, "RELAY_ERR_BAD_JSON"],
      ["[]", { "Content-Type": "text/plain" }, 415, "RELAY_ERR_UNSUPPORTED_MEDIA_TYPE"],
      [
        JSON.stringify([gristRow(1, { Commentaire: "x".repeat(70_000) })]),
        {},
        413,
        "RELAY_ERR_BODY_TOO_LARGE",
      ],
      ["[]", {}, 400, "RELAY_ERR_BAD_QUERY"],
    ];
    for (const [body, headers, status, code] of cases) {
      const path =
        code === "RELAY_ERR_BAD_QUERY" ? "/webhooks/grist?event=delete" : "/webhooks/grist";
      const answer = await post(relay, path, body, headers);
      assert.equal(answer.status, status, `${body.slice(0, 40)} → ${status}`);
      assert.equal(answer.body.error.code, code);
      assert.equal(typeof answer.body.error.message, "string");
    }
    assert.equal((await fetch(`${relay.url}/livez`)).status, 200, "still serving");
  });

  it("keeps CR/LF in values inside one SSE frame", async () => {
    const stream = await openSse(`${relay.url}/events`);
    await stream.waitFor((m) => m.event === "snapshot");
    const hostile = 'ligne\r\nevent: record.removed\r\ndata: {"forged":true}\r\n\r\nid: 999999';
    await post(relay, "/webhooks/grist", JSON.stringify([gristRow(950, { Commentaire: hostile })]));
    const added = await stream.waitFor((m) => m.event === "record.added");
    assert.equal((added.json as any).record.commentaire, hostile);
    // A later row's frame: frames arrive in order, so a forged one would be in before it.
    await post(relay, "/webhooks/grist", JSON.stringify([gristRow(951)]));
    await stream.waitFor((m) => (m.json as { record?: { id: number } }).record?.id === 951);
    assert.deepEqual(
      stream.messages.filter((m) => m.event !== "snapshot").map((m) => m.event),
      ["record.added", "record.added"],
      "no forged frame",
    );
    stream.close();
  });
});

describe("POST /webhook/grist-realtime (the guide's URL)", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.close());

  it("accepts the guide's curl test unchanged", async () => {
    const response = await fetch(`${relay.url}/webhook/grist-realtime`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        id: "test123",
        fields: { Agent: "Test Agent", Statut: "En cours", Priorite: "Haute" },
      }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { received: 1, events: 1 });
    const { records } = await snapshotOf(relay);
    const record = records.find((r) => r.id === "test123");
    assert.equal(record?.agent, "Test Agent");
  });

  it("merges a partial guide post into the known record", async () => {
    // Its own record first, so this test does not lean on the one before it.
    await fetch(`${relay.url}/webhook/grist-realtime`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: "test124", fields: { Agent: "Test Agent", Statut: "En cours" } }),
    });
    await fetch(`${relay.url}/webhook/grist-realtime`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([{ id: "test124", fields: { Statut: "Terminé" } }]),
    });
    const record = (await snapshotOf(relay)).records.find((r) => r.id === "test124");
    assert.equal(record.statut, "Terminé");
    assert.equal(record.agent, "Test Agent", "columns not sent are kept");
  });

  it("also takes Grist's flat rows", async () => {
    const response = await fetch(`${relay.url}/webhook/grist-realtime`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([gristRow(5)]),
    });
    assert.deepEqual(await response.json(), { received: 1, events: 1 });
  });

  it("refuses an id with control characters", async () => {
    const response = await fetch(`${relay.url}/webhook/grist-realtime`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id: "a\nid: 99", fields: {} }),
    });
    assert.equal(response.status, 400);
  });
});
