/**
 * What a webhook receiver really gets from a running relay when it is restarting, failing,
 * refusing or asking for time: counted on a real socket, with the relay's own view beside it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from "../../test/support/alerts/webhook-receiver.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-webhook-retry-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface AlertView {
  key: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

let receiver: WebhookReceiver;
let relay: TestRelay;
let row = 0;

beforeEach(async () => {
  receiver = await startWebhookReceiver();
  const configFile = join(dir, `alertes-${Date.now()}-${row}.json`);
  writeFileSync(
    configFile,
    JSON.stringify({
      destinations: [
        {
          name: "n8n",
          kind: "webhook",
          url: receiver.url,
          secret: "secret-partage-de-test-0123456",
        },
      ],
      rules: [
        {
          name: "urgence",
          triggers: [{ on: "record.added", where: { priorite: "Urgente" } }],
          destinations: ["n8n"],
        },
      ],
      // Short waits so a test lasts seconds; the classification is what is under test.
      delivery: { backoffBaseMs: 200, backoffMaxMs: 1000 },
    }),
  );
  relay = await startTestRelay({ env: { ALERTS_CONFIG: configFile } });
});
afterEach(async () => {
  await relay.close();
  await receiver.close();
});

async function alerts(): Promise<AlertView[]> {
  const response = await fetch(`${relay.url}/api/alerts?limit=500`);
  return ((await response.json()) as { alerts: AlertView[] }).alerts;
}

async function alertOf(key: string): Promise<AlertView | undefined> {
  return (await alerts()).find((alert) => alert.key === key);
}

/** Posts one urgent row and returns the alert's key (its delivery id) once it is planned. */
async function urgentAlert(): Promise<string> {
  row++;
  const response = await relay.postWebhook([gristRow(row, { Priorite: "Urgente" })]);
  assert.equal(response.status, 200);
  let key = "";
  await receiver.waitFor(() => receiver.requests.length > 0, 10_000, "a first attempt");
  key = receiver.requests[0]?.delivery ?? "";
  assert.ok(key, "each request carries the delivery id");
  return key;
}

async function waitForStatus(key: string, status: string, timeoutMs: number): Promise<AlertView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alert = await alertOf(key);
    if (alert?.status === status) return alert;
    if (Date.now() > deadline) throw new Error(`alert ${key} still ${alert?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("webhook alert delivery", () => {
  it("delivers exactly once to a receiver that answers 404 for 6 s while it restarts", async () => {
    let upAt = Number.POSITIVE_INFINITY;
    receiver.answer((request) => {
      if (upAt === Number.POSITIVE_INFINITY) upAt = request.at + 6000;
      return { status: request.at < upAt ? 404 : 200 };
    });
    const key = await urgentAlert();
    const sent = await waitForStatus(key, "sent", 30_000);
    assert.equal(receiver.accepted(key).length, 1, "accepted once");
    const refused = receiver.requests.filter((r) => r.status === 404);
    assert.ok(refused.length >= 2, `retried during the restart (${refused.length} × 404)`);
    assert.equal(sent.attempts, receiver.requests.length, "every attempt is counted");
    assert.ok(
      receiver.requests.every((r) => r.delivery === key),
      "one delivery id throughout",
    );
    // A second alert goes through after it: the sender looked again, and sent the first no more.
    const before = receiver.requests.length;
    row++;
    await relay.postWebhook([gristRow(row, { Priorite: "Urgente" })]);
    await receiver.waitFor(() => receiver.requests.length > before, 10_000, "the next alert");
    assert.equal(receiver.accepted(key).length, 1, "still once");
  });

  it("delivers exactly once to a receiver that answers 500 then 200", async () => {
    receiver.answer((_request, index) => ({ status: index === 0 ? 500 : 200 }));
    const key = await urgentAlert();
    const sent = await waitForStatus(key, "sent", 15_000);
    assert.deepEqual(
      receiver.requests.map((r) => r.status),
      [500, 200],
    );
    assert.equal(sent.attempts, 2);
  });

  it("gives up at once on a 400, and sends it again only when an admin retries it", async () => {
    receiver.answer((_request, index) => ({ status: index === 0 ? 400 : 200 }));
    const key = await urgentAlert();
    const failed = await waitForStatus(key, "failed", 10_000);
    assert.equal(failed.attempts, 1);
    assert.match(failed.lastError ?? "", /\(400\)/);
    assert.equal(receiver.requests.length, 1, "no retry after a final refusal");

    const retry = await fetch(`${relay.url}/api/alerts/${encodeURIComponent(key)}/retry`, {
      method: "POST",
    });
    assert.equal(retry.status, 200);
    await waitForStatus(key, "sent", 10_000);
    assert.equal(receiver.accepted(key).length, 1);
    assert.equal(receiver.requests.length, 2);
  });

  it("waits as long as the receiver's Retry-After asks before trying again", async () => {
    receiver.answer((_request, index) =>
      index === 0 ? { status: 503, headers: { "Retry-After": "3" } } : { status: 200 },
    );
    const key = await urgentAlert();
    await waitForStatus(key, "sent", 15_000);
    const [first, second] = receiver.requests;
    const waited = (second?.at ?? 0) - (first?.at ?? 0);
    // The backoff alone would have retried after 100 to 200 ms.
    assert.ok(waited >= 3000, `retried after ${waited} ms`);
    assert.equal(receiver.requests.length, 2);
  });

  it("also honours a Retry-After given as an HTTP date", async () => {
    receiver.answer((request, index) =>
      index === 0
        ? { status: 429, headers: { "Retry-After": new Date(request.at + 3000).toUTCString() } }
        : { status: 200 },
    );
    const key = await urgentAlert();
    await waitForStatus(key, "sent", 15_000);
    const [first, second] = receiver.requests;
    // An HTTP date has a one-second resolution: at least 2 s of the 3 asked.
    const waited = (second?.at ?? 0) - (first?.at ?? 0);
    assert.ok(waited >= 2000, `retried after ${waited} ms`);
  });
});
