import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { openSse } from "../../../test/support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../../test/support/test-relay.ts";
import { mintToken } from "../../auth/jwt.ts";

const JWT_SECRET = "a-32-characters-long-test-secret!";
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("GET /events", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { HEARTBEAT_MS: "1000", RETRY_MS: "1500" } });
  });
  after(() => relay.close());

  it("answers with SSE headers, retry first, then a snapshot of the current state", async () => {
    await relay.postWebhook([gristRow(1), gristRow(2)]);
    const stream = await openSse(`${relay.url}/events`);
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.equal(stream.headers.get("cache-control"), "no-cache, no-transform");
    assert.equal(stream.headers.get("x-accel-buffering"), "no");
    const snapshot = await stream.waitFor((m) => m.event === "snapshot");
    assert.equal(stream.retry, 1500);
    assert.equal(stream.messages[0]?.event, "snapshot", "snapshot is the first event");
    const data = snapshot.json as { records: { id: number }[]; lastEventId: string };
    assert.deepEqual(data.records.map((r) => r.id).sort(), [1, 2]);
    assert.equal(snapshot.id, data.lastEventId, "the snapshot carries the id to resume from");
    stream.close();
  });

  it("sends each new event with its id and type", async () => {
    // Row 1 as the first test leaves it, whether or not it ran (posting it again changes nothing).
    await relay.postWebhook([gristRow(1)]);
    const stream = await openSse(`${relay.url}/events`);
    await stream.waitFor((m) => m.event === "snapshot");
    await relay.postWebhook([gristRow(1, { Statut: "En cours" })], { event: "update" });
    const update = await stream.waitFor((m) => m.event === "record.updated");
    const event = update.json as {
      id: string;
      record: { id: number };
      changes: Record<string, unknown>;
    };
    assert.equal(update.id, event.id);
    assert.equal(event.record.id, 1);
    assert.deepEqual(event.changes.statut, { from: "En attente", to: "En cours" });
    stream.close();
  });

  it("resumes after a disconnect with no gap and no duplicate while events keep arriving", async () => {
    // A history to resume in even when this test runs alone (an empty store's snapshot has no id).
    await relay.postWebhook([gristRow(99)]);
    const producing = (async () => {
      for (let i = 0; i < 60; i++) {
        await relay.postWebhook([gristRow(100 + (i % 10), { Commentaire: `passage ${i}` })]);
        await wait(5);
      }
    })();
    const received: string[] = [];
    const first = await openSse(`${relay.url}/events`);
    const snapshot = await first.waitFor((m) => m.event === "snapshot");
    await wait(80);
    first.close();
    await first.ended;
    for (const m of first.messages)
      if (m.event.startsWith("record.")) received.push(m.id as string);
    const resumeFrom = received.at(-1) ?? (snapshot.id as string);
    await wait(60);
    const second = await openSse(`${relay.url}/events`, { "Last-Event-ID": resumeFrom });
    await producing;
    const all = await (
      await fetch(`${relay.url}/api/events?after=${snapshot.id}&limit=1000`)
    ).json();
    const expected = (all as { events: { id: string }[] }).events.map((e) => e.id);
    await second.waitFor((m) => m.id === expected.at(-1));
    assert.equal(
      second.messages.filter((m) => m.event === "snapshot").length,
      0,
      "no snapshot on resume",
    );
    for (const m of second.messages)
      if (m.event.startsWith("record.")) received.push(m.id as string);
    assert.deepEqual(received, expected, "every event once, in order");
    assert.ok(expected.length >= 60);
    second.close();
  });

  it("sends reset then a fresh snapshot for an id it no longer has", async () => {
    const pruned = await startTestRelay({ env: { RETENTION_MAX_EVENTS: "100" } });
    const rows = Array.from({ length: 150 }, (_, i) => gristRow(i + 1));
    await pruned.postWebhook(rows.slice(0, 100));
    await pruned.postWebhook(rows.slice(100));
    await pruned.relay.store.prune({ maxEvents: 100, maxAgeMs: 3_600_000 }, Date.now());
    const stream = await openSse(`${pruned.url}/events`, {
      "Last-Event-ID": `${pruned.relay.store.epoch}.10`,
    });
    const snapshot = await stream.waitFor((m) => m.event === "snapshot");
    assert.deepEqual(
      stream.messages.map((m) => m.event),
      ["reset", "snapshot"],
    );
    assert.equal((snapshot.json as { records: unknown[] }).records.length, 150);
    stream.close();
    const unknown = await openSse(`${pruned.url}/events?lastEventId=bogus-id`);
    await unknown.waitFor((m) => m.event === "snapshot");
    assert.equal(unknown.messages[0]?.event, "reset");
    unknown.close();
    await pruned.close();
  });

  it("filters on the server by département, statut, priorité, type and agent", async () => {
    await relay.postWebhook([
      gristRow(300, { Localisation: "1 place Bellecour, 69002 Lyon", Priorite: "Urgente" }),
      gristRow(301, { Localisation: "2 cours Napoléon, 20000 Ajaccio", Statut: "Bloqué" }),
    ]);
    const lyon = await openSse(`${relay.url}/events?departement=69`);
    const snapshot = await lyon.waitFor((m) => m.event === "snapshot");
    assert.deepEqual(
      (snapshot.json as { records: { id: number }[] }).records.map((r) => r.id),
      [300],
    );
    lyon.close();
    const blocked = await openSse(`${relay.url}/events?statut=bloque&departement=2A,2B`);
    const blockedSnapshot = await blocked.waitFor((m) => m.event === "snapshot");
    assert.deepEqual(
      (blockedSnapshot.json as { records: { id: number }[] }).records.map((r) => r.id),
      [301],
    );
    await relay.postWebhook([
      gristRow(302, { Localisation: "Bastia 20200", Statut: "Bloqué" }),
      gristRow(303),
    ]);
    // A later matching row: events arrive in order, so row 303 was judged before it came.
    await relay.postWebhook([gristRow(304, { Localisation: "Corte 20250", Statut: "Bloqué" })]);
    const addedId = (m: { json: unknown }) => (m.json as { record?: { id: number } }).record?.id;
    await blocked.waitFor((m) => addedId(m) === 304);
    assert.deepEqual(
      blocked.messages.filter((m) => m.event === "record.added").map(addedId),
      [302, 304],
      "row 303 is filtered out",
    );
    blocked.close();
  });

  it("sends comment heartbeats, or heartbeat events when asked", async () => {
    const comments = await openSse(`${relay.url}/events`);
    const events = await openSse(`${relay.url}/events?heartbeat=event`);
    await events.waitFor((m) => m.event === "heartbeat", 3000);
    assert.ok(comments.comments >= 1, "a comment heartbeat arrived");
    comments.close();
    events.close();
  });

  it("answers 400 with a JSON error for a malformed query", async () => {
    const response = await fetch(`${relay.url}/events?heartbeat=loud`);
    assert.equal(response.status, 400);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_BAD_QUERY",
    );
  });
});

describe("GET /webhook/sse-stream (the guide's stream)", () => {
  it("sends unnamed messages in the guide's shape, keyed by the Grist row id", async () => {
    const relay = await startTestRelay();
    const stream = await openSse(`${relay.url}/webhook/sse-stream`);
    await wait(50);
    await relay.postWebhook([
      gristRow(7, { Statut: "Terminé", Commentaire: "Nid-de-poule réparé" }),
    ]);
    const message = await stream.waitFor((m) => m.event === "message");
    const data = message.json as { timestamp: string; type: string; data: Record<string, unknown> };
    assert.equal(data.type, "intervention_update");
    assert.ok(!Number.isNaN(Date.parse(data.timestamp)));
    assert.deepEqual(data.data, {
      id: 7,
      agent: "Marie Durand",
      localisation: "12 rue de la République, 13001 Marseille",
      type: "Voirie",
      statut: "Terminé",
      priorite: "Normale",
      commentaire: "Nid-de-poule réparé",
    });
    assert.ok(message.id, "an id allows resuming");
    stream.close();
    await relay.close();
  });
});

describe("subscriber authentication", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { AUTH_JWT_SECRET: JWT_SECRET } });
    await relay.postWebhook([
      gristRow(1, { Localisation: "Marseille 13001" }),
      gristRow(2, { Localisation: "Lyon 69003" }),
    ]);
  });
  after(() => relay.close());

  async function statusWith(
    token: string | null,
    path = "/events",
  ): Promise<{ status: number; code?: string }> {
    const response = await fetch(
      `${relay.url}${path}${token === null ? "" : `${path.includes("?") ? "&" : "?"}token=${token}`}`,
    );
    const body = response.headers.get("content-type")?.startsWith("application/json")
      ? ((await response.json()) as { error?: { code: string } })
      : null;
    if (!response.bodyUsed) await response.body?.cancel();
    return { status: response.status, code: body?.error?.code };
  }

  it("refuses a stream without a token", async () => {
    assert.deepEqual(await statusWith(null), { status: 401, code: "RELAY_ERR_UNAUTHORIZED" });
    assert.equal((await statusWith(null, "/api/interventions")).status, 401);
  });

  it("refuses a token signed with another key", async () => {
    const token = await mintToken({
      secret: "another-secret-that-is-32-chars-long",
      role: "viewer",
      ttlSeconds: 60,
    });
    assert.equal((await statusWith(token)).status, 401);
  });

  it("refuses alg none", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(
      JSON.stringify({ role: "admin", exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString("base64url");
    assert.equal((await statusWith(`${header}.${payload}.`)).status, 401);
  });

  it("refuses an expired token", async () => {
    const token = await new SignJWT({ role: "viewer" })
      .setProtectedHeader({ alg: "HS256" })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(JWT_SECRET));
    assert.equal((await statusWith(token)).status, 401);
  });

  it("accepts the token from the Authorization header and from a cookie", async () => {
    const token = await mintToken({ secret: JWT_SECRET, role: "viewer", ttlSeconds: 60 });
    const variants: Record<string, string>[] = [
      { Authorization: `Bearer ${token}` },
      { Cookie: `other=1; grist_realtime_token=${token}` },
    ];
    for (const headers of variants) {
      const stream = await openSse(`${relay.url}/events`, headers);
      assert.equal(stream.status, 200);
      await stream.waitFor((m) => m.event === "snapshot");
      stream.close();
    }
  });

  it("keeps a scoped subscriber to its départements, snapshot, live events and API", async () => {
    const token = await mintToken({
      secret: JWT_SECRET,
      role: "viewer",
      departements: ["13"],
      ttlSeconds: 60,
    });
    const stream = await openSse(`${relay.url}/events?token=${token}`);
    const snapshot = await stream.waitFor((m) => m.event === "snapshot");
    assert.deepEqual(
      (snapshot.json as { records: { id: number }[] }).records.map((r) => r.id),
      [1],
    );
    await relay.postWebhook([
      gristRow(3, { Localisation: "Lyon 69001" }),
      gristRow(4, { Localisation: "Aix 13100" }),
    ]);
    await stream.waitFor((m) => (m.json as { record?: { id: number } }).record?.id === 4);
    // Row 1 moves to Lyon: the scoped subscriber is told to drop it, without its new address.
    await relay.postWebhook([gristRow(1, { Localisation: "Lyon 69001" })]);
    const leaves = await stream.waitFor((m) => m.event === "record.removed");
    assert.deepEqual((leaves.json as { record: unknown; reason: string }).record, { id: 1 });
    assert.equal((leaves.json as { reason: string }).reason, "out-of-scope");
    assert.ok(
      !stream.messages.some((m) => m.data.includes("69001") || m.data.includes("69003")),
      "nothing from Lyon leaked",
    );
    stream.close();
    const api = (await (await fetch(`${relay.url}/api/interventions?token=${token}`)).json()) as {
      records: { id: number }[];
    };
    assert.deepEqual(
      api.records.map((r) => r.id),
      [4],
    );
  });

  it("ends the stream when the token expires", async () => {
    const token = await mintToken({ secret: JWT_SECRET, role: "viewer", ttlSeconds: 1 });
    const stream = await openSse(`${relay.url}/events?token=${token}`);
    // exp has one-second precision, so expiry lands 0-2 s from now; the wait is generous because
    // this checks that it happens, not how fast (a loaded CI machine fires timers late).
    await stream.waitFor((m) => m.event === "token-expired", 10_000);
    await stream.ended;
  });

  it("requires the admin role for /api/status and /metrics", async () => {
    const viewer = await mintToken({ secret: JWT_SECRET, role: "viewer", ttlSeconds: 60 });
    const admin = await mintToken({ secret: JWT_SECRET, role: "admin", ttlSeconds: 60 });
    assert.deepEqual(await statusWith(viewer, "/api/status"), {
      status: 403,
      code: "RELAY_ERR_FORBIDDEN",
    });
    assert.equal((await statusWith(admin, "/api/status")).status, 200);
    assert.equal((await statusWith(viewer, "/metrics")).status, 403);
  });
});

describe("stream limits", () => {
  it("answers 429 with Retry-After past the per-address cap, and 503 past the total", async () => {
    const relay = await startTestRelay({ env: { MAX_STREAMS_PER_IP: "2", MAX_STREAMS: "3" } });
    const open = [await openSse(`${relay.url}/events`), await openSse(`${relay.url}/events`)];
    const third = await fetch(`${relay.url}/events`);
    assert.equal(third.status, 429);
    assert.ok(third.headers.get("retry-after"));
    assert.equal(
      ((await third.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_TOO_MANY_STREAMS",
    );
    for (const stream of open) stream.close();
    await wait(50);
    const again = await openSse(`${relay.url}/events`);
    assert.equal(again.status, 200, "closing streams frees the slots");
    again.close();
    await relay.close();
  });

  it("disconnects a subscriber that stops reading once its queue is full", async () => {
    const relay = await startTestRelay({ env: { SUBSCRIBER_QUEUE_BYTES: "65536" } });
    // A raw client that reads the head then stops reading, with a tiny receive buffer.
    const socket = connect({ host: "127.0.0.1", port: relay.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((resolve) => socket.once("data", resolve));
    socket.pause();
    const closed = new Promise((resolve) => socket.once("close", resolve));
    const healthy = await openSse(`${relay.url}/events`);
    await healthy.waitFor((m) => m.event === "snapshot");
    const big = "x".repeat(8000);
    for (let i = 0; i < 400 && relay.relay.hub.size > 1; i++) {
      await relay.postWebhook([gristRow(1000 + (i % 50), { Commentaire: `${big}${i}` })]);
    }
    assert.equal(relay.relay.hub.size, 1, "only the reading subscriber is left");
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    assert.match(metrics, /relay_sse_disconnects_total\{reason="slow"\} 1/);
    socket.destroy();
    await closed;
    const last = relay.relay.state.lastEventId;
    await healthy.waitFor((m) => m.id === last);
    healthy.close();
    await relay.close();
  });
});
