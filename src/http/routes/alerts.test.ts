import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { commitWithAlerts, gristRow } from "../../../test/support/alerts/events.ts";
import { createAlertPlanner } from "../../alerts/planner.ts";
import { parseAlertsConfig } from "../../alerts/rules.ts";
import { createTokenVerifier, mintToken } from "../../auth/jwt.ts";
import { MemoryStore } from "../../store/memory-store.ts";
import { createAuthorize } from "../authorize.ts";
import { installErrorHandling } from "../error-handler.ts";
import { registerAlertRoutes } from "./alerts.ts";

const JWT_SECRET = "secret-de-signature-des-jetons-de-test-32+";
const MATRIX_TOKEN = "syt_matrix_token_never_shown";
const HOOK_SECRET = "hook-secret-never-shown-0123";
const HOOK_URL = "https://n8n.exemple.gouv.fr/webhook/abc?token=url-secret";

let app: FastifyInstance;
let url = "";
let store: MemoryStore;
let wakes = 0;
// Alert keys are `<eventId>:<destination>`; event ids carry the store's epoch, so the keys are
// read from the commit rather than written by hand.
let tchapKey = "";
let n8nKey = "";
let firstEventId = "";
const tokens: Record<string, string> = {};

before(async () => {
  const config = parseAlertsConfig(
    {
      destinations: [
        {
          name: "tchap",
          kind: "matrix",
          homeserverUrl: "https://matrix.example",
          accessToken: MATRIX_TOKEN,
          roomId: "!r:example",
        },
        { name: "n8n", kind: "webhook", url: HOOK_URL, secret: HOOK_SECRET },
      ],
    },
    { baseDir: "." },
  );
  store = new MemoryStore();
  const planner = createAlertPlanner(config);
  const [first] = await commitWithAlerts(store, [gristRow(1, { Priorite: "Urgente" })], planner);
  firstEventId = first?.id ?? "";
  tchapKey = `${first?.id}:tchap`;
  n8nKey = `${first?.id}:n8n`;
  await commitWithAlerts(store, [gristRow(2, { Statut: "Bloqué" })], planner);
  const now = Date.now();
  await store.markSent(tchapKey, now);
  await store.markFailed(n8nKey, "requête refusée par le destinataire (410)", now + 1);

  app = Fastify();
  installErrorHandling(app);
  const authorize = createAuthorize(createTokenVerifier({ secret: JWT_SECRET }));
  registerAlertRoutes(app, { outbox: store, authorize, onRetried: () => wakes++ });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
  for (const role of ["admin", "supervisor"] as const) {
    tokens[role] = await mintToken({ secret: JWT_SECRET, role, ttlSeconds: 60 });
  }
});
after(() => app.close());

async function get(path: string, role?: "admin" | "supervisor") {
  const response = await fetch(`${url}${path}`, {
    headers: role ? { Authorization: `Bearer ${tokens[role]}` } : {},
  });
  return { status: response.status, text: await response.text() };
}

describe("GET /api/alerts", () => {
  it("lists failed alerts with the reason and the counts by status, for an admin", async () => {
    const { status, text } = await get("/api/alerts?status=failed", "admin");
    assert.equal(status, 200);
    const body = JSON.parse(text);
    assert.deepEqual(body.counts, { pending: 2, sent: 1, failed: 1 });
    assert.equal(body.alerts.length, 1);
    assert.deepEqual(
      { ...body.alerts[0], createdAt: "x", updatedAt: "x", nextAttemptAt: "x" },
      {
        key: n8nKey,
        destination: "n8n",
        status: "failed",
        attempts: 1,
        lastError: "requête refusée par le destinataire (410)",
        nextAttemptAt: "x",
        createdAt: "x",
        updatedAt: "x",
        eventId: firstEventId,
        rule: "urgence",
        reference: "INT-001",
        title: "🚨 Intervention urgente : INT-001",
      },
    );
  });

  it("lists every status, most recently changed first, within the limit", async () => {
    const all = JSON.parse((await get("/api/alerts", "admin")).text);
    assert.equal(all.alerts.length, 4);
    assert.equal(all.alerts[0].key, n8nKey);
    const one = JSON.parse((await get("/api/alerts?limit=1", "admin")).text);
    assert.equal(one.alerts.length, 1);
  });

  it("never shows a token, a webhook secret, a destination URL or the message text", async () => {
    const { text } = await get("/api/alerts?limit=500", "admin");
    for (const secret of [MATRIX_TOKEN, HOOK_SECRET, "url-secret", "n8n.exemple", "Marie Durand"]) {
      assert.ok(!text.includes(secret), secret);
    }
  });

  it("answers 401 without a token and 403 below the admin role", async () => {
    const anonymous = await get("/api/alerts");
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.text).error.code, "RELAY_ERR_UNAUTHORIZED");
    const supervisor = await get("/api/alerts", "supervisor");
    assert.equal(supervisor.status, 403);
    assert.equal(JSON.parse(supervisor.text).error.code, "RELAY_ERR_FORBIDDEN");
  });

  it("answers 400 for an unknown status or a limit out of range", async () => {
    for (const query of ["status=lost", "limit=0", "limit=501", "limit=abc"]) {
      const { status, text } = await get(`/api/alerts?${query}`, "admin");
      assert.equal(status, 400, query);
      assert.equal(JSON.parse(text).error.code, "RELAY_ERR_BAD_QUERY");
    }
  });
});

async function post(path: string, role?: "admin" | "supervisor") {
  const response = await fetch(`${url}${path}`, {
    method: "POST",
    headers: role ? { Authorization: `Bearer ${tokens[role]}` } : {},
  });
  return { status: response.status, body: (await response.json()) as { error: { code: string } } };
}

describe("POST /api/alerts/{key}/retry", () => {
  it("puts a failed alert back in the queue, due now, and wakes the dispatcher", async () => {
    const before = wakes;
    const { status, body } = await post(`/api/alerts/${encodeURIComponent(n8nKey)}/retry`, "admin");
    assert.equal(status, 200);
    assert.deepEqual(body, { key: n8nKey, status: "pending" });
    assert.equal(wakes, before + 1);
    const due = await store.due(Date.now() + 1, 10);
    const item = due.find((entry) => entry.key === n8nKey);
    assert.equal(item?.attempts, 0);
    const again = await post(`/api/alerts/${encodeURIComponent(n8nKey)}/retry`, "admin");
    assert.equal(again.status, 409, "no longer failed");
    assert.equal(again.body.error.code, "RELAY_ERR_ALERT_NOT_FAILED");
    await store.markFailed(n8nKey, "requête refusée par le destinataire (410)", Date.now());
  });

  it("answers 404 for an unknown key and 409 for an alert already sent", async () => {
    const unknown = await post("/api/alerts/nope/retry", "admin");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "RELAY_ERR_ALERT_NOT_FOUND");
    const sent = await post(`/api/alerts/${encodeURIComponent(tchapKey)}/retry`, "admin");
    assert.equal(sent.status, 409);
    assert.equal(sent.body.error.code, "RELAY_ERR_ALERT_NOT_FAILED");
  });

  it("is for admins only", async () => {
    assert.equal((await post(`/api/alerts/${encodeURIComponent(n8nKey)}/retry`)).status, 401);
    assert.equal(
      (await post(`/api/alerts/${encodeURIComponent(n8nKey)}/retry`, "supervisor")).status,
      403,
    );
    assert.equal((await store.list({ status: "failed", limit: 10 })).length, 1, "still failed");
  });
});
