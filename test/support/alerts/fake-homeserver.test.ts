import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeHomeserver, startFakeHomeserver } from "./fake-homeserver.ts";

let homeserver: FakeHomeserver;
before(async () => {
  homeserver = await startFakeHomeserver({
    tokens: { tok: "@bot:x", other: "@other:x" },
    rooms: { "!r:x": { members: ["@bot:x", "@other:x"] } },
    accounts: { "@bot:x": { password: "secret" } },
  });
});
after(() => homeserver.close());

function send(txnId: string, token: string | null, query = "") {
  return fetch(
    `${homeserver.url}/_matrix/client/v3/rooms/!r%3Ax/send/m.room.message/${txnId}${query}`,
    {
      method: "PUT",
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      body: JSON.stringify({ msgtype: "m.notice", body: txnId }),
    },
  );
}

function post(path: string, token: string, body: unknown) {
  return fetch(`${homeserver.url}/_matrix/client/v3${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

const masterKey = (key: string) => ({
  user_id: "@bot:x",
  usage: ["master"],
  keys: { [`ed25519:${key}`]: key },
});
const password = (session: unknown, pass = "secret") => ({
  type: "m.login.password",
  identifier: { type: "m.id.user", user: "@bot:x" },
  password: pass,
  session,
});

describe("fake homeserver", () => {
  it("asks for the password with a UIA session before accepting cross-signing keys, every time", async () => {
    const first = await post("/keys/device_signing/upload", "tok", { master_key: masterKey("A") });
    assert.equal(first.status, 401);
    const challenge = (await first.json()) as { flows: unknown; session: string };
    assert.deepEqual(challenge.flows, [{ stages: ["m.login.password"] }]);
    assert.equal(typeof challenge.session, "string");
    const unknownSession = await post("/keys/device_signing/upload", "tok", {
      master_key: masterKey("A"),
      auth: password("not-a-session"),
    });
    assert.equal(unknownSession.status, 401);
    const wrong = await post("/keys/device_signing/upload", "tok", {
      master_key: masterKey("A"),
      auth: password(challenge.session, "wrong"),
    });
    assert.equal(wrong.status, 401);
    assert.equal(((await wrong.json()) as { errcode: string }).errcode, "M_FORBIDDEN");
    const accepted = await post("/keys/device_signing/upload", "tok", {
      master_key: masterKey("A"),
      auth: password(challenge.session),
    });
    assert.equal(accepted.status, 200);
    // A completed session cannot be replayed to replace the keys.
    const replay = await post("/keys/device_signing/upload", "tok", {
      master_key: masterKey("B"),
      auth: password(challenge.session),
    });
    assert.equal(replay.status, 401);
    const query = (await (
      await post("/keys/query", "other", { device_keys: { "@bot:x": [] } })
    ).json()) as { master_keys: Record<string, unknown> };
    assert.deepEqual(query.master_keys["@bot:x"], masterKey("A"));
  });

  it("keeps account data for its owner only", async () => {
    const url = (user: string) =>
      `${homeserver.url}/_matrix/client/v3/user/${encodeURIComponent(user)}/account_data/m.secret_storage.default_key`;
    const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
    assert.equal((await fetch(url("@bot:x"), { headers: auth("tok") })).status, 404);
    const put = await fetch(url("@bot:x"), {
      method: "PUT",
      headers: auth("tok"),
      body: JSON.stringify({ key: "k1" }),
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await (await fetch(url("@bot:x"), { headers: auth("tok") })).json(), {
      key: "k1",
    });
    assert.equal((await fetch(url("@bot:x"), { headers: auth("other") })).status, 403);
  });

  it("answers 401 M_MISSING_TOKEN without a header, even with access_token in the query", async () => {
    const response = await send("a", null, "?access_token=tok");
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { errcode: string }).errcode, "M_MISSING_TOKEN");
  });

  it("deduplicates a txnId per access token, not across tokens", async () => {
    const first = (await (await send("same", "tok")).json()) as { event_id: string };
    const again = (await (await send("same", "tok")).json()) as { event_id: string };
    const otherToken = (await (await send("same", "other")).json()) as { event_id: string };
    assert.equal(first.event_id, again.event_id);
    assert.notEqual(first.event_id, otherToken.event_id);
    assert.equal(homeserver.messages.filter((m) => m.txnId === "same").length, 2);
  });

  it("plays scripted failures once, then answers normally", async () => {
    homeserver.failNext(1, { status: 429, retryAfterMs: 50, retryAfterSeconds: 1 });
    const limited = await send("s1", "tok");
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    assert.deepEqual(await limited.json(), {
      errcode: "M_LIMIT_EXCEEDED",
      error: "Too Many Requests",
      retry_after_ms: 50,
    });
    assert.equal((await send("s1", "tok")).status, 200);
  });
});
