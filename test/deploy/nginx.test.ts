/**
 * The shipped nginx configuration (deploy/nginx/) in front of a real relay, with the system's
 * nginx (Debian 12: 1.22) started on a free port: client addresses, the guide's webhook URL,
 * the access log and the number of SSE clients one worker holds.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { mintToken } from "../../src/auth/jwt.ts";
import { RawSse } from "../resilience/raw-sse.ts";
import { NGINX, startNginx, type TestNginx } from "../support/deploy/nginx.ts";
import { openSse } from "../support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../support/test-relay.ts";
import { waitFor } from "../support/wait.ts";

const skip = existsSync(NGINX) ? false : "nginx is not installed (apt-get install nginx-light)";
const SECRET = "a-test-secret-of-at-least-32-characters!";

describe("nginx with the shipped configuration", { skip, timeout: 120_000 }, () => {
  let relay: TestRelay;
  let nginx: TestNginx;
  let base = "";

  before(async () => {
    relay = await startTestRelay({
      env: { TRUST_PROXY: "true", MAX_STREAMS_PER_IP: "5", AUTH_JWT_SECRET: SECRET },
    });
    nginx = await startNginx({ relayPort: relay.port });
    base = `http://127.0.0.1:${nginx.port}`;
  });
  after(async () => {
    await nginx?.stop();
    await relay?.close();
  });

  it("counts a client that sends its own X-Forwarded-For under its real address", async () => {
    const token = await mintToken({ secret: SECRET, role: "viewer", ttlSeconds: 600 });
    const streams = [];
    try {
      for (let i = 1; i <= 6; i++) {
        streams.push(
          await openSse(`${base}/events`, {
            Authorization: `Bearer ${token}`,
            "X-Forwarded-For": `203.0.113.${i}`,
          }),
        );
      }
      assert.deepEqual(
        streams.map((s) => s.status),
        [200, 200, 200, 200, 200, 429],
      );
      assert.equal(relay.relay.hub.size, 5);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it("accepts a 1.5 MB webhook on the guide's URL", async () => {
    const rows = Array.from({ length: 1000 }, (_, i) =>
      gristRow(5000 + i, { Commentaire: "x".repeat(1500) }),
    );
    const body = JSON.stringify(rows);
    assert.ok(body.length > 1_500_000);
    const response = await fetch(`${base}/webhook/grist-realtime`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body,
    });
    assert.equal(response.status, 200, await response.text());
    const snapshot = await relay.relay.store.snapshot();
    assert.ok(snapshot.records.some((record) => String(record.id) === "5999"));
  });

  it("writes no token nor webhook secret in its access log", async () => {
    const token = await mintToken({ secret: SECRET, role: "viewer", ttlSeconds: 600 });
    const stream = await openSse(`${base}/events?departement=13&token=${token}`, {
      Referer: `${base}/?token=${token}`,
    });
    assert.equal(stream.status, 200);
    stream.close();
    await fetch(`${base}/webhooks/grist?secret=webhook-secret-value&event=add`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "[]",
    });
    // nginx writes a request's line when it ends: wait for both.
    await waitFor(
      "the stream's log line",
      () => /GET \/events\?departement=13&token=\S* /.test(nginx.accessLog()),
      10_000,
    );
    await waitFor(
      "the webhook's log line",
      () => /POST \/webhooks\/grist\?/.test(nginx.accessLog()),
      10_000,
    );
    const log = nginx.accessLog();
    assert.match(log, /GET \/events\?departement=13&token=\*\*\* HTTP\/1\.1" 200/);
    assert.match(log, /"http:\/\/127\.0\.0\.1:\d+\/\?token=\*\*\*"/);
    assert.match(log, /POST \/webhooks\/grist\?secret=\*\*\*&event=add /);
    assert.ok(!log.includes(token.split(".")[2] ?? token), "token signature in the access log");
    assert.ok(!log.includes("webhook-secret-value"));
  });
});

describe("one nginx worker with the shipped configuration", { skip, timeout: 300_000 }, () => {
  const CLIENTS = 1000;
  let relay: TestRelay;
  let nginx: TestNginx;
  const clients: RawSse[] = [];

  before(async () => {
    relay = await startTestRelay({ env: { TRUST_PROXY: "true", MAX_STREAMS_PER_IP: "5000" } });
    nginx = await startNginx({ relayPort: relay.port, workers: 1 });
  });
  after(async () => {
    for (const client of clients) client.close();
    await nginx?.stop();
    await relay?.close();
  });

  it(`holds ${CLIENTS} SSE clients and still takes Grist's webhooks`, async () => {
    for (let i = 0; i < CLIENTS; i++) {
      clients.push(new RawSse({ port: nginx.port }));
      // Spread the connections a little so the shared machine's accept queue keeps up.
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(
      clients.map((client) =>
        client.waitUntil(
          () => client.frames.some((f) => f.event === "snapshot"),
          60_000,
          "snapshot",
        ),
      ),
    );
    assert.equal(relay.relay.hub.size, CLIENTS);
    const response = await relay.postWebhook([gristRow(77)], { event: "add" });
    assert.equal(response.status, 200);
    // The same webhook through nginx, while the worker holds every stream.
    const throughNginx = await fetch(`http://127.0.0.1:${nginx.port}/webhooks/grist?event=add`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify([gristRow(78)]),
    });
    assert.equal(throughNginx.status, 200);
    await Promise.all(
      clients.map((client) =>
        client.waitUntil(
          () => client.frames.filter((f) => f.event === "record.added").length === 2,
          60_000,
          "both events",
        ),
      ),
    );
    assert.equal(clients.filter((client) => client.status === 200).length, CLIENTS);
  });
});
