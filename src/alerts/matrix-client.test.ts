import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { matrixWhoAmI, sendMatrixMessage } from "./matrix-client.ts";
import type { MatrixMessageContent } from "./message.ts";

const TOKEN = "syt_bot_secret";
const ROOM = "!alertes:agent.dinum.tchap.gouv.fr";
const content: MatrixMessageContent = {
  msgtype: "m.text",
  body: "test",
  format: "org.matrix.custom.html",
  formatted_body: "<p>test</p>",
};

let homeserver: FakeHomeserver;
const target = () => ({ homeserverUrl: homeserver.url, accessToken: TOKEN, roomId: ROOM });

before(async () => {
  homeserver = await startFakeHomeserver({
    tokens: { [TOKEN]: "@bot:agent.dinum.tchap.gouv.fr", syt_outsider: "@other:x" },
    rooms: { [ROOM]: { members: ["@bot:agent.dinum.tchap.gouv.fr"] } },
  });
});
after(() => homeserver.close());

describe("Matrix client", () => {
  it("sends with the token in the Authorization header and never in the URL", async () => {
    const outcome = await sendMatrixMessage(target(), "txn-header", content);
    assert.equal(outcome.ok, true);
    const request = homeserver.requests.at(-1);
    assert.ok(request?.hadAuthorization);
    assert.equal(
      request?.url,
      `/_matrix/client/v3/rooms/${encodeURIComponent(ROOM)}/send/m.room.message/txn-header`,
    );
    assert.doesNotMatch(request?.url ?? "", /syt_/);
    assert.deepEqual(homeserver.messages.at(-1)?.content, content);
  });

  it("gets the same event id and one stored message when a txnId is reused", async () => {
    const before = homeserver.messages.length;
    const first = await sendMatrixMessage(target(), "txn-dedup", content);
    const second = await sendMatrixMessage(target(), "txn-dedup", content);
    assert.ok(first.ok && second.ok);
    assert.equal(first.detail, second.detail);
    assert.equal(homeserver.messages.length, before + 1);
  });

  it("calls a rejected token invalid, permanently", async () => {
    const outcome = await sendMatrixMessage(
      { ...target(), accessToken: "syt_revoked" },
      "t1",
      content,
    );
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && outcome.kind === "bad-token" && !outcome.retryable);
    assert.match(!outcome.ok ? outcome.message : "", /^jeton invalide \(401 M_UNKNOWN_TOKEN/);
    assert.doesNotMatch(!outcome.ok ? outcome.message : "", /syt_revoked/);
  });

  it("calls 403 and 404 an unknown room or a bot that is not a member, permanently", async () => {
    const notMember = await sendMatrixMessage(
      { ...target(), accessToken: "syt_outsider" },
      "t2",
      content,
    );
    const unknown = await sendMatrixMessage({ ...target(), roomId: "!nope:x" }, "t3", content);
    for (const [outcome, status] of [
      [notMember, 403],
      [unknown, 404],
    ] as const) {
      assert.ok(!outcome.ok && outcome.kind === "unknown-room" && !outcome.retryable);
      assert.equal(!outcome.ok && outcome.status, status);
      assert.match(!outcome.ok ? outcome.message : "", /salon inconnu ou bot non membre/);
    }
  });

  it("prefers the Retry-After header of a 429 to retry_after_ms", async () => {
    homeserver.failNext(1, { status: 429, retryAfterSeconds: 3, retryAfterMs: 120 });
    const outcome = await sendMatrixMessage(target(), "t4", content);
    assert.ok(!outcome.ok && outcome.kind === "rate-limited" && outcome.retryable);
    assert.equal(!outcome.ok && outcome.retryAfterMs, 3000);
  });

  it("falls back to retry_after_ms when a 429 has no Retry-After", async () => {
    homeserver.failNext(1, { status: 429, retryAfterMs: 120 });
    const outcome = await sendMatrixMessage(target(), "t5", content);
    assert.equal(!outcome.ok && outcome.retryAfterMs, 120);
  });

  it("retries a 500 and a dropped connection without an announced delay", async () => {
    homeserver.failNext(1, { status: 500 });
    const server = await sendMatrixMessage(target(), "t6", content);
    assert.ok(!server.ok && server.kind === "server" && server.retryable);
    assert.equal(!server.ok && server.retryAfterMs, null);
    homeserver.failNext(1, { status: 0, dropConnection: true });
    const network = await sendMatrixMessage(target(), "t7", content);
    assert.ok(!network.ok && network.kind === "network" && network.retryable);
  });

  it("reports a network error when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await sendMatrixMessage(
      { ...target(), homeserverUrl: `http://127.0.0.1:${port}` },
      "t8",
      content,
    );
    assert.ok(!outcome.ok && outcome.kind === "network");
    assert.match(!outcome.ok ? outcome.message : "", /erreur réseau : ECONNREFUSED/);
  });

  it("refuses to follow a redirect", async () => {
    const redirector = createServer((_request, response) => {
      response.writeHead(301, { Location: "https://elsewhere.example/" }).end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, "127.0.0.1", resolve));
    const { port } = redirector.address() as AddressInfo;
    try {
      const outcome = await sendMatrixMessage(
        { ...target(), homeserverUrl: `http://127.0.0.1:${port}` },
        "t9",
        content,
      );
      assert.ok(!outcome.ok && outcome.kind === "rejected" && !outcome.retryable);
      assert.match(!outcome.ok ? outcome.message : "", /redirection refusée \(301\)/);
    } finally {
      redirector.close();
    }
  });

  it("tells which account a token belongs to", async () => {
    assert.deepEqual(await matrixWhoAmI(target()), {
      ok: true,
      userId: "@bot:agent.dinum.tchap.gouv.fr",
      deviceId: "FAKEDEVICE",
    });
    const bad = await matrixWhoAmI({ ...target(), accessToken: "nope" });
    assert.ok(!bad.ok && bad.kind === "bad-token");
  });
});
