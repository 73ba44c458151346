import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openSse } from "../../../test/support/sse-client.ts";
import { startTestRelay, type TestRelay } from "../../../test/support/test-relay.ts";
import { mintToken } from "../../auth/jwt.ts";

const SECRET = "secret-de-test-pour-les-jetons-hs256-0123456789";
const COOKIE = "grist_realtime_token";

/** The Set-Cookie header split into its value and attributes (names lower-cased). */
function parseSetCookie(header: string | null): {
  name: string;
  value: string;
  attributes: Map<string, string>;
} {
  assert.ok(header, "a Set-Cookie header");
  const [pair = "", ...rest] = header.split(";").map((part) => part.trim());
  const equals = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const [name = "", value = ""] = attribute.split("=");
    attributes.set(name.toLowerCase(), value);
  }
  return { name: pair.slice(0, equals), value: pair.slice(equals + 1), attributes };
}

describe("POST /auth/session and DELETE /auth/session", () => {
  let relay: TestRelay;

  before(async () => {
    relay = await startTestRelay({ env: { AUTH_JWT_SECRET: SECRET, TRUST_PROXY: "true" } });
    await relay.postWebhook([{ id: 1, Statut: "Bloqué" }]);
  });
  after(async () => {
    await relay?.close();
  });

  const openSession = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${relay.url}/auth/session`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, ...headers },
    });

  it("keeps a valid token in an HttpOnly, SameSite=Strict cookie for the token's remaining life", async () => {
    const token = await mintToken({ secret: SECRET, role: "supervisor", ttlSeconds: 600 });
    const before = Date.now();
    const response = await openSession(token);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    const body = (await response.json()) as { role: string; expiresAt: string };
    assert.equal(body.role, "supervisor");
    const cookie = parseSetCookie(response.headers.get("set-cookie"));
    assert.equal(cookie.name, COOKIE);
    assert.equal(cookie.value, token);
    assert.equal(cookie.attributes.has("httponly"), true);
    assert.equal(cookie.attributes.get("samesite"), "Strict");
    assert.equal(cookie.attributes.get("path"), "/");
    // The token was signed to expire 600 s after `before` (to the second): a few seconds of
    // signing and verifying may have passed since.
    const maxAge = Number(cookie.attributes.get("max-age"));
    assert.ok(maxAge <= 600 && maxAge >= 600 - 5 - (Date.now() - before) / 1000, `${maxAge}`);
    // Plain http without a proxy saying otherwise: a Secure cookie would be refused.
    assert.equal(cookie.attributes.has("secure"), false);
  });

  it("marks the cookie Secure when a trusted proxy says the request came over HTTPS", async () => {
    const token = await mintToken({ secret: SECRET, role: "viewer", ttlSeconds: 600 });
    const response = await openSession(token, { "X-Forwarded-Proto": "https" });
    assert.equal(response.status, 200);
    const cookie = parseSetCookie(response.headers.get("set-cookie"));
    assert.equal(cookie.attributes.has("secure"), true);
  });

  it("lets /events open with the cookie alone, and not without it", async () => {
    const token = await mintToken({ secret: SECRET, role: "viewer", ttlSeconds: 600 });
    const cookie = parseSetCookie((await openSession(token)).headers.get("set-cookie"));
    const refused = await fetch(`${relay.url}/events`, {
      headers: { Accept: "text/event-stream" },
    });
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const stream = await openSse(`${relay.url}/events`, {
      Cookie: `${cookie.name}=${cookie.value}`,
    });
    try {
      assert.equal(stream.status, 200);
      const snapshot = await stream.waitFor((message) => message.event === "snapshot");
      const records = (snapshot.json as { records: { id: number }[] }).records;
      assert.deepEqual(
        records.map((record) => record.id),
        [1],
      );
    } finally {
      stream.close();
    }
  });

  it("does not let the cookie alone authorise a state-changing request", async () => {
    const admin = await mintToken({ secret: SECRET, role: "admin", ttlSeconds: 600 });
    const cookie = parseSetCookie((await openSession(admin)).headers.get("set-cookie"));
    const cookieHeader = `${cookie.name}=${cookie.value}`;
    // What a form of another site would send if a browser attached the cookie anyway.
    const forged = await fetch(`${relay.url}/api/alerts/une-cle/retry`, {
      method: "POST",
      headers: { Cookie: cookieHeader, Origin: "https://ailleurs.example.org" },
    });
    assert.equal(forged.status, 401);
    assert.equal(
      ((await forged.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_UNAUTHORIZED",
    );
    // The same token in the header passes authorisation (the alert simply does not exist).
    const genuine = await fetch(`${relay.url}/api/alerts/une-cle/retry`, {
      method: "POST",
      headers: { Authorization: `Bearer ${admin}` },
    });
    assert.equal(genuine.status, 404);
    assert.equal(
      ((await genuine.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_ALERT_NOT_FOUND",
    );
    // Nor can the cookie renew its own session.
    const renewed = await fetch(`${relay.url}/auth/session`, {
      method: "POST",
      headers: { Cookie: cookieHeader },
    });
    assert.equal(renewed.status, 401);
    assert.equal(renewed.headers.get("set-cookie"), null);
  });

  it("drops the cookie on DELETE", async () => {
    const response = await fetch(`${relay.url}/auth/session`, { method: "DELETE" });
    assert.equal(response.status, 204);
    const cookie = parseSetCookie(response.headers.get("set-cookie"));
    assert.equal(cookie.name, COOKIE);
    assert.equal(cookie.value, "");
    assert.equal(cookie.attributes.get("max-age"), "0");
    assert.equal(cookie.attributes.get("path"), "/");
  });

  it("gives no cookie for an expired token", async () => {
    const expired = await mintToken({ secret: SECRET, role: "admin", ttlSeconds: -10 });
    const response = await openSession(expired);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("set-cookie"), null);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "RELAY_ERR_UNAUTHORIZED");
    assert.match(body.error.message, /expiré/);
  });

  it("gives no cookie for a forged token, a missing header or a value that is not a JWT", async () => {
    const forged = await mintToken({
      secret: "un-autre-secret-de-plus-de-trente-deux-caracteres",
      role: "admin",
      ttlSeconds: 600,
    });
    for (const headers of [
      { Authorization: `Bearer ${forged}` },
      {},
      { Authorization: "Bearer a.b.c; Domain=example.org" },
      { Authorization: "Basic dXNlcjpwYXNz" },
    ] as Record<string, string>[]) {
      const response = await fetch(`${relay.url}/auth/session`, { method: "POST", headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
      assert.equal(response.headers.get("set-cookie"), null);
      assert.equal(
        ((await response.json()) as { error: { code: string } }).error.code,
        "RELAY_ERR_UNAUTHORIZED",
      );
    }
  });

  it("refuses a token too long for a browser to keep as a cookie", async () => {
    const response = await openSession(`${"a".repeat(4000)}.b.c`);
    assert.equal(response.status, 400);
    assert.equal(response.headers.get("set-cookie"), null);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_TOKEN_TOO_LONG_FOR_COOKIE",
    );
  });

  it("tells the page through /app-config.json that a token is required", async () => {
    const config = (await (await fetch(`${relay.url}/app-config.json`)).json()) as {
      authRequired: unknown;
    };
    assert.equal(config.authRequired, true);
  });
});

describe("a relay without authentication", () => {
  let relay: TestRelay;

  before(async () => {
    relay = await startTestRelay();
  });
  after(async () => {
    await relay?.close();
  });

  it("has no session to open and says no token is required", async () => {
    const response = await fetch(`${relay.url}/auth/session`, {
      method: "POST",
      headers: { Authorization: "Bearer a.b.c" },
    });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("set-cookie"), null);
    const config = (await (await fetch(`${relay.url}/app-config.json`)).json()) as {
      authRequired: unknown;
    };
    assert.equal(config.authRequired, false);
  });
});
