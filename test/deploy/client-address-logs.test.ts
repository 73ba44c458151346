/**
 * Behind a proxy (TRUST_PROXY=true), the relay's log lines for refusals carry the client's
 * address from X-Forwarded-For, at the default level, and never the token or secret sent.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.ts";
import { openSse } from "../support/sse-client.ts";

const BAD_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoidmlld2VyIn0.not-a-valid-signature-xyz";
const WRONG_SECRET = "wrong-webhook-secret-0123456789";

/** The parsed JSON log lines with `msg`, once one of them matches. */
async function waitForLog(
  relay: RelayProcess,
  predicate: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    for (const text of relay.output().split("\n")) {
      if (!text.startsWith("{")) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      if (predicate(line)) return line;
    }
    if (Date.now() > deadline) throw new Error(`no such log line in:\n${relay.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("client addresses in the relay's log", () => {
  let relay: RelayProcess;

  before(async () => {
    relay = await startRelayProcess({
      STORE: "memory",
      TRUST_PROXY: "true",
      AUTH_JWT_SECRET: "a-test-secret-of-at-least-32-characters!",
      WEBHOOK_SECRET: "the-right-webhook-secret-0123",
    });
  });
  after(async () => {
    await relay?.kill();
  });

  it("logs a refused stream with the forwarded client address, without its token", async () => {
    const stream = await openSse(`${relay.url}/events?token=${BAD_TOKEN}`, {
      "X-Forwarded-For": "198.51.100.7",
    });
    assert.equal(stream.status, 401);
    const line = await waitForLog(
      relay,
      (l) => l.msg === "request refused" && l.client === "198.51.100.7",
    );
    assert.equal(line.code, "RELAY_ERR_UNAUTHORIZED");
    assert.equal(line.level, 30, "at info, the default level");
    assert.ok(!relay.output().includes("not-a-valid-signature-xyz"));
  });

  it("logs a webhook refused for its secret with the client address, without the secret", async () => {
    const response = await fetch(`${relay.url}/webhooks/grist?event=add`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Bearer ${WRONG_SECRET}`,
        "X-Forwarded-For": "192.0.2.44",
      },
      body: "[]",
    });
    assert.equal(response.status, 401);
    const line = await waitForLog(
      relay,
      (l) => l.msg === "request refused" && l.client === "192.0.2.44",
    );
    assert.equal(line.code, "RELAY_ERR_WEBHOOK_SECRET");
    assert.ok(!relay.output().includes(WRONG_SECRET));
  });
});
