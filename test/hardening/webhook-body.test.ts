/**
 * Issue 12, row 3: a webhook without the secret is refused before its body is read and the
 * connection closed; a body larger than the limit is refused while it streams; a body that
 * trickles is cut at REQUEST_TIMEOUT_MS even with the right secret.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RawHttp, within } from "../support/raw-http.ts";
import { startTestRelay, type TestRelay } from "../support/test-relay.ts";

const SECRET = "hardening-webhook-secret";

function head(length: number | "chunked", authorized: boolean): string {
  return (
    "POST /webhooks/grist HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n" +
    (authorized ? `Authorization: Bearer ${SECRET}\r\n` : "") +
    (length === "chunked" ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${length}\r\n`) +
    "\r\n"
  );
}

function code(body: string): string {
  return (JSON.parse(body) as { error: { code: string } }).error.code;
}

describe("webhook bodies from hostile senders", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({
      env: {
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_BODY_LIMIT_BYTES: "65536",
        REQUEST_TIMEOUT_MS: "1500",
      },
    });
  });
  after(() => relay.close());

  it("answers 401 and closes the connection while an unauthenticated body still trickles", async () => {
    const client = await RawHttp.open(relay.port);
    await client.write(head(1000, false));
    await client.write("[");
    const response = await client.response();
    assert.equal(response.status, 401);
    assert.equal(code(response.body), "RELAY_ERR_WEBHOOK_SECRET");
    // The sender would go on for minutes at a byte every few seconds: the relay does not wait.
    const closedAfter = await within(client.closed, 1000);
    assert.notEqual(closedAfter, null, "the relay closed the connection");
    client.close();
  });

  it("stops reading a 200 MB unauthenticated body after the 401", async () => {
    const client = await RawHttp.open(relay.port);
    const total = 200 * 1024 * 1024;
    await client.write(head(total, false));
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    let sent = 0;
    while (sent < total && (await client.write(chunk))) sent += chunk.length;
    const response = await client.response();
    assert.equal(response.status, 401);
    // Kernel buffers take a few MB before the close reaches the sender; never the whole body.
    assert.ok(sent < 64 * 1024 * 1024, `the sender got ${sent} bytes in`);
    await client.closed;
  });

  it("answers 413 to an authenticated chunked body past the limit, while it streams", async () => {
    const client = await RawHttp.open(relay.port);
    await client.write(head("chunked", true));
    const piece = "a".repeat(16 * 1024);
    const framed = `${piece.length.toString(16)}\r\n${piece}\r\n`;
    let sent = 0;
    while (sent < 64 * 1024 * 1024 && (await client.write(framed))) {
      sent += piece.length;
      if (sent > 1024 * 1024 && client.isClosed) break;
    }
    const response = await client.response();
    assert.equal(response.status, 413);
    assert.equal(code(response.body), "RELAY_ERR_BODY_TOO_LARGE");
    assert.ok(sent < 64 * 1024 * 1024, `the sender got ${sent} bytes in`);
    await client.closed;
  });

  it("cuts an authenticated body that trickles with 408 after REQUEST_TIMEOUT_MS", async () => {
    const client = await RawHttp.open(relay.port);
    await client.write(head(100, true));
    const trickle = setInterval(() => void client.write(" "), 200);
    try {
      const response = await client.response(10_000);
      assert.equal(response.status, 408);
      assert.equal(code(response.body), "RELAY_ERR_REQUEST_TIMEOUT");
      const closedAfter = await client.closed;
      assert.ok(closedAfter < 6000, `closed after ${Math.round(closedAfter)} ms`);
    } finally {
      clearInterval(trickle);
    }
  });

  it("still stores a webhook sent at a normal pace with the secret", async () => {
    const response = await relay.postWebhook([{ id: 1, ID2: "INT-001", Statut: "En attente" }]);
    assert.equal(response.status, 200);
  });
});
