import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeHomeserver, startFakeHomeserver } from "./fake-homeserver.ts";

let homeserver: FakeHomeserver;
before(async () => {
  homeserver = await startFakeHomeserver({
    tokens: { tok: "@bot:x", other: "@other:x" },
    rooms: { "!r:x": { members: ["@bot:x", "@other:x"] } },
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

describe("fake homeserver", () => {
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
