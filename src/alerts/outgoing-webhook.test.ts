import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  sendOutgoingWebhook,
  signBody,
  TIMESTAMP_HEADER,
  verifySignature,
} from "./outgoing-webhook.ts";

const SECRET = "un-secret-partage-de-32-caracteres!";

interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let received: Received[] = [];
let nextStatus: number[] = [];
let url = "";
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    received.push({ headers: request.headers, body: Buffer.concat(chunks) });
    const status = nextStatus.shift() ?? 204;
    response.writeHead(status, status === 503 ? { "Retry-After": "7" } : {}).end();
  });
});

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alertes`;
});
after(() => receiver.close());

async function deliver(body: string, status?: number) {
  received = [];
  nextStatus = status === undefined ? [] : [status];
  const outcome = await sendOutgoingWebhook({ url, secret: SECRET, deliveryKey: "42:n8n", body });
  return { outcome, request: received[0] };
}

function header(request: Received | undefined, name: string): string {
  return String(request?.headers[name.toLowerCase()] ?? "");
}

describe("outgoing webhook", () => {
  it("signs the body so the receiver verifies it with the shared secret and not with another", async () => {
    const body = JSON.stringify({ type: "grist-realtime.alert", title: "Intervention urgente é" });
    const { outcome, request } = await deliver(body);
    assert.deepEqual(outcome, { ok: true, detail: "204" });
    assert.equal(request?.body.toString("utf8"), body);
    assert.equal(header(request, "content-type"), "application/json");
    const timestamp = header(request, TIMESTAMP_HEADER);
    const signature = header(request, SIGNATURE_HEADER);
    assert.match(timestamp, /^\d+$/);
    assert.match(signature, /^sha256=[0-9a-f]{64}$/);
    assert.ok(verifySignature(SECRET, timestamp, request?.body ?? "", signature));
    assert.ok(
      !verifySignature(
        "un-autre-secret-de-32-caracteres!!",
        timestamp,
        request?.body ?? "",
        signature,
      ),
    );
  });

  it("signs exactly HMAC-SHA256(secret, timestamp.body) in hex, as documented for receivers", () => {
    const expected = createHmac("sha256", SECRET).update('1700000000.{"a":1}').digest("hex");
    assert.equal(signBody(SECRET, "1700000000", '{"a":1}'), `sha256=${expected}`);
  });

  it("rejects a tampered body, a moved timestamp and a stale request", () => {
    const now = 1_700_000_000;
    const signature = signBody(SECRET, String(now), '{"a":1}');
    const verify = (ts: string, body: string, nowSeconds = now) =>
      verifySignature(SECRET, ts, body, signature, { nowSeconds });
    assert.ok(verify(String(now), '{"a":1}'));
    assert.ok(!verify(String(now), '{"a":2}'));
    assert.ok(!verify(String(now + 1), '{"a":1}'));
    assert.ok(!verify(String(now), '{"a":1}', now + 301), "older than the 300 s tolerance");
    assert.ok(
      verifySignature(SECRET, String(now), '{"a":1}', signature, {
        nowSeconds: now + 500,
        toleranceSeconds: 600,
      }),
    );
    assert.ok(!verifySignature(SECRET, undefined, '{"a":1}', signature));
    assert.ok(
      !verifySignature(SECRET, String(now), '{"a":1}', "sha256=short", { nowSeconds: now }),
    );
  });

  it("sends the same delivery key on every attempt so receivers can drop duplicates", async () => {
    const first = await deliver("{}");
    const second = await deliver("{}");
    assert.equal(header(first.request, DELIVERY_HEADER), "42:n8n");
    assert.equal(header(second.request, DELIVERY_HEADER), "42:n8n");
  });

  it("gives up only when the receiver says the request itself is wrong", async () => {
    for (const status of [400, 401, 403, 410, 413, 422]) {
      const { outcome } = await deliver("{}", status);
      assert.ok(!outcome.ok && !outcome.retryable, `${status} is final`);
      assert.equal(!outcome.ok && outcome.status, status);
    }
    const refused = (await deliver("{}", 401)).outcome;
    assert.ok(!refused.ok && refused.kind === "bad-token");
  });

  it("retries a receiver that is restarting, busy or down: 404, 408, 409, 425, 429 and 5xx", async () => {
    for (const status of [404, 408, 409, 425, 429, 500, 502, 503, 504]) {
      const { outcome } = await deliver("{}", status);
      assert.ok(!outcome.ok && outcome.retryable, `${status} is retried`);
    }
    const limited = (await deliver("{}", 429)).outcome;
    assert.ok(!limited.ok && limited.kind === "rate-limited");
  });

  it("reads the receiver's Retry-After as the delay before the next attempt", async () => {
    const unavailable = (await deliver("{}", 503)).outcome;
    assert.equal(!unavailable.ok && unavailable.retryAfterMs, 7000);
  });

  it("retries when the receiver cannot be reached at all", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const outcome = await sendOutgoingWebhook({
      url: `http://127.0.0.1:${port}/`,
      secret: SECRET,
      deliveryKey: "k",
      body: "{}",
    });
    assert.ok(!outcome.ok && outcome.retryable && outcome.kind === "network");
  });

  it("does not follow redirects", async () => {
    const outcome = (await deliver("{}", 302)).outcome;
    assert.ok(!outcome.ok && !outcome.retryable);
    assert.match(!outcome.ok ? outcome.message : "", /redirection refusée/);
  });
});
