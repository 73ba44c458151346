import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach, describe, it } from "node:test";
import { commitWithAlerts, gristRow, manualClock } from "../../test/support/alerts/events.ts";
import {
  acceptedSends,
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { waitFor } from "../../test/support/wait.ts";
import { MemoryStore } from "../store/memory-store.ts";
import type { Outbox } from "../store/outbox.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { AlertDispatcher, type AlertDispatcherOptions } from "./dispatcher.ts";
import type { AlertMetrics } from "./metrics.ts";
import { verifySignature } from "./outgoing-webhook.ts";
import { createAlertPlanner } from "./planner.ts";
import { type AlertsConfig, alertsConfigFromTchap, parseAlertsConfig } from "./rules.ts";
import { createSenders } from "./senders.ts";

const TOKEN = "syt_bot_token";
const BOT = "@alertes-bot:agent.dinum.tchap.gouv.fr";
const ROOM = "!salle-astreinte:agent.dinum.tchap.gouv.fr";
const DASHBOARD = "https://relais.exemple.gouv.fr";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-dispatcher-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function recordingMetrics() {
  const counts: Record<string, number> = {};
  const bump = (what: string) => (destination: string) => {
    const key = `${what}:${destination}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const metrics: AlertMetrics = {
    alertSent: bump("sent"),
    alertFailed: bump("failed"),
    alertRetried: bump("retried"),
    rateLimited: bump("rateLimited"),
  };
  return { counts, metrics };
}

let homeserver: FakeHomeserver;
let config: AlertsConfig;
let clock: ReturnType<typeof manualClock>;

beforeEach(async () => {
  homeserver = await startFakeHomeserver({
    tokens: { [TOKEN]: BOT },
    rooms: { [ROOM]: { members: [BOT] } },
  });
  config = alertsConfigFromTchap({
    homeserverUrl: homeserver.url,
    accessToken: TOKEN,
    roomId: ROOM,
  });
  clock = manualClock();
});
afterEach(() => homeserver.close());

function dispatcherFor(outbox: Outbox, extra: Partial<AlertDispatcherOptions> = {}) {
  return new AlertDispatcher({
    outbox,
    senders: createSenders(config),
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    ...extra,
  });
}

const planner = () => createAlertPlanner(config, { dashboardUrl: DASHBOARD });

/** The same outbox, with `markSent` replaced (to simulate a crash right after a send). */
function withMarkSent(outbox: Outbox, markSent: Outbox["markSent"]): Outbox {
  return {
    due: (now, limit) => outbox.due(now, limit),
    markSent,
    reschedule: (key, next, error, now) => outbox.reschedule(key, next, error, now),
    markFailed: (key, error, now) => outbox.markFailed(key, error, now),
    retry: (key, now) => outbox.retry(key, now),
    list: (filter) => outbox.list(filter),
    counts: () => outbox.counts(),
  };
}

describe("alert dispatcher", () => {
  it("sends exactly one Tchap message with the expected bodies for an urgent intervention", async () => {
    const store = new MemoryStore();
    const plan = planner();
    const row = gristRow(1, { Priorite: "Urgente", Commentaire: "Fuite de gaz" });
    await commitWithAlerts(store, [row], plan);
    const dispatcher = dispatcherFor(store);
    await dispatcher.runOnce();
    await dispatcher.runOnce();
    await commitWithAlerts(store, [row], plan); // Grist redelivers the same batch
    await dispatcher.runOnce();

    assert.equal(acceptedSends(homeserver).length, 1, "one request reached the homeserver");
    assert.equal(homeserver.messages.length, 1);
    const [message] = homeserver.messages;
    assert.equal(message?.roomId, ROOM);
    assert.equal(message?.sender, BOT);
    assert.deepEqual(message?.content, {
      msgtype: "m.text",
      body: [
        "🚨 Intervention urgente : INT-001",
        "Nouvelle intervention",
        "Agent : Marie Durand",
        "Localisation : 1 quai du Port, 13002 Marseille",
        "Type : Voirie",
        "Statut : En cours",
        "Priorité : Urgente",
        "Commentaire : Fuite de gaz",
        `Tableau de bord : ${DASHBOARD}/?q=INT-001`,
      ].join("\n"),
      format: "org.matrix.custom.html",
      formatted_body:
        "<p><strong>🚨 Intervention urgente : INT-001</strong></p><ul>" +
        "<li><em>Nouvelle intervention</em></li>" +
        "<li><b>Agent :</b> Marie Durand</li>" +
        "<li><b>Localisation :</b> 1 quai du Port, 13002 Marseille</li>" +
        "<li><b>Type :</b> Voirie</li>" +
        "<li><b>Statut :</b> En cours</li>" +
        "<li><b>Priorité :</b> Urgente</li>" +
        "<li><b>Commentaire :</b> Fuite de gaz</li></ul>" +
        `<p><a href="${DASHBOARD}/?q=INT-001">Voir dans le tableau de bord</a></p>`,
    });
    assert.deepEqual(await store.counts(), { pending: 0, sent: 1, failed: 0 });
  });

  it("delivers a hostile comment escaped", async () => {
    const store = new MemoryStore();
    await commitWithAlerts(
      store,
      [gristRow(2, { Priorite: "Urgente", Commentaire: "<img src=x onerror=alert(1)>" })],
      planner(),
    );
    await dispatcherFor(store).runOnce();
    const html = String(homeserver.messages[0]?.content.formatted_body);
    assert.ok(html.includes("<b>Commentaire :</b> &lt;img src=x onerror=alert(1)&gt;"));
    assert.doesNotMatch(html, /<img/);
  });

  it("retries a 429 after the delay the homeserver announced, not before", async () => {
    const store = new MemoryStore();
    const { counts, metrics } = recordingMetrics();
    await commitWithAlerts(store, [gristRow(3, { Priorite: "Urgente" })], planner());
    homeserver.failNext(1, { status: 429, retryAfterMs: 40 });
    const dispatcher = dispatcherFor(store, { metrics });

    await dispatcher.runOnce();
    const [item] = await store.list({ limit: 1 });
    assert.equal(item?.status, "pending");
    assert.equal(item?.nextAttemptAt, clock.now() + 40);
    assert.match(item?.lastError ?? "", /limité par le serveur \(429 M_LIMIT_EXCEEDED/);

    const requestsBefore = homeserver.requests.length;
    clock.advance(39);
    await dispatcher.runOnce();
    assert.equal(homeserver.requests.length, requestsBefore, "no attempt before the delay");
    clock.advance(1);
    await dispatcher.runOnce();
    assert.equal(homeserver.messages.length, 1);
    assert.deepEqual(counts, { "rateLimited:tchap": 1, "retried:tchap": 1, "sent:tchap": 1 });
  });

  it("retries a 500 after the backoff, and a 503 after its Retry-After", async () => {
    const store = new MemoryStore();
    await commitWithAlerts(store, [gristRow(4, { Priorite: "Urgente" })], planner());
    const dispatcher = dispatcherFor(store, { backoff: { baseMs: 100, maxMs: 1000 } });

    homeserver.failNext(1, { status: 500 });
    await dispatcher.runOnce();
    let [item] = await store.list({ limit: 1 });
    // First retry: between 50 and 100 ms; random() = 0.5 gives 75.
    assert.equal(item?.nextAttemptAt, clock.now() + 75);

    clock.advance(75);
    homeserver.failNext(1, { status: 503, retryAfterSeconds: 2 });
    await dispatcher.runOnce();
    [item] = await store.list({ limit: 1 });
    assert.equal(item?.nextAttemptAt, clock.now() + 2000);
    assert.equal(item?.attempts, 2);

    clock.advance(2000);
    await dispatcher.runOnce();
    assert.equal(homeserver.messages.length, 1);
  });

  it("marks an alert failed after the maximum attempts, and counts it", async () => {
    const store = new MemoryStore();
    const { counts, metrics } = recordingMetrics();
    await commitWithAlerts(store, [gristRow(5, { Priorite: "Urgente" })], planner());
    homeserver.setOutage({ status: 500 });
    const dispatcher = dispatcherFor(store, { maxAttempts: 3, metrics });
    for (let i = 0; i < 5; i++) {
      await dispatcher.runOnce();
      clock.advance(10_000);
    }
    const [item] = await store.list({ limit: 1 });
    assert.equal(item?.status, "failed");
    assert.equal(item?.attempts, 3);
    assert.match(item?.lastError ?? "", /erreur du serveur \(500.*abandon après 3 tentative\(s\)/);
    assert.equal(homeserver.requests.length, 3);
    assert.deepEqual(counts, { "retried:tchap": 2, "failed:tchap": 1 });
  });

  it("keeps retrying a failing destination for its whole window, then gives up and says how long it tried", async () => {
    const [destination] = config.destinations;
    if (destination) destination.retryWindowMs = 10 * 60_000;
    const store = new MemoryStore();
    const { counts, metrics } = recordingMetrics();
    await commitWithAlerts(store, [gristRow(15, { Priorite: "Urgente" })], planner());
    homeserver.setOutage({ status: 502 });
    let item = (await store.list({ limit: 1 }))[0];
    const start = item?.createdAt ?? 0;
    clock = manualClock(start);
    const dispatcher = dispatcherFor(store, { metrics, backoff: { baseMs: 1000, maxMs: 60_000 } });
    while (item?.status === "pending" && clock.now() - start < 3_600_000) {
      await dispatcher.runOnce();
      clock.advance(5_000);
      item = (await store.list({ limit: 1 }))[0];
    }
    assert.equal(item?.status, "failed");
    const triedFor = (item?.updatedAt ?? 0) - start;
    assert.ok(triedFor > 9 * 60_000 && triedFor <= 10 * 60_000, `gave up after ${triedFor} ms`);
    assert.ok((item?.attempts ?? 0) > 8, "more attempts than the old fixed limit of 8");
    assert.equal(homeserver.requests.length, item?.attempts);
    assert.match(item?.lastError ?? "", /abandon après \d+ tentative\(s\) en (9|10) min/);
    assert.equal(counts["failed:tchap"], 1);
    assert.equal(counts["retried:tchap"], (item?.attempts ?? 0) - 1);
  });

  it("gives an alert an admin retried a few attempts of its own, even past its window", async () => {
    const [destination] = config.destinations;
    if (destination) destination.retryWindowMs = 1000;
    const store = new MemoryStore();
    await commitWithAlerts(store, [gristRow(16, { Priorite: "Urgente" })], planner());
    homeserver.setOutage({ status: 503 });
    const dispatcher = dispatcherFor(store, { minAttempts: 3 });
    for (let i = 0; i < 10; i++) {
      await dispatcher.runOnce();
      clock.advance(60_000);
    }
    assert.equal((await store.list({ limit: 1 }))[0]?.status, "failed");
    const before = homeserver.requests.length;
    assert.equal(
      await store.retry((await store.list({ limit: 1 }))[0]?.key ?? "", clock.now()),
      "retried",
    );
    for (let i = 0; i < 10; i++) {
      await dispatcher.runOnce();
      clock.advance(60_000);
    }
    assert.equal(homeserver.requests.length - before, 3);
    assert.equal((await store.list({ limit: 1 }))[0]?.status, "failed");
  });

  it("gives up at once when the bot is not in the room", async () => {
    config = alertsConfigFromTchap({
      homeserverUrl: homeserver.url,
      accessToken: TOKEN,
      roomId: "!autre-salle:agent.dinum.tchap.gouv.fr",
    });
    const store = new MemoryStore();
    await commitWithAlerts(store, [gristRow(6, { Statut: "Bloqué" })], planner());
    await dispatcherFor(store).runOnce();
    const [item] = await store.list({ limit: 1 });
    assert.equal(item?.status, "failed");
    assert.equal(item?.attempts, 1);
    assert.match(item?.lastError ?? "", /^salon inconnu ou bot non membre \(404 M_NOT_FOUND/);
  });

  it("sends at most one message per second to a room", async () => {
    const store = new MemoryStore();
    const waits: number[] = [];
    const sleep = async (ms: number) => {
      waits.push(ms);
      await clock.sleep(ms);
    };
    await commitWithAlerts(
      store,
      [7, 8, 9].map((id) => gristRow(id, { Priorite: "Urgente" })),
      planner(),
    );
    await dispatcherFor(store, { sleep }).runOnce();
    assert.equal(homeserver.messages.length, 3);
    assert.deepEqual(waits, [1000, 1000]);
    assert.deepEqual(
      homeserver.messages.map((m) => String(m.content.body).split("\n")[0]),
      ["INT-007", "INT-008", "INT-009"].map((ref) => `🚨 Intervention urgente : ${ref}`),
    );
  });

  it("keeps later alerts waiting behind the oldest during an outage, without spending their attempts", async () => {
    const store = new MemoryStore();
    await commitWithAlerts(
      store,
      [10, 11, 12].map((id) => gristRow(id, { Priorite: "Urgente" })),
      planner(),
    );
    homeserver.setOutage({ status: 502 });
    await dispatcherFor(store).runOnce();
    const attempts = (await store.list({ limit: 10 })).map((item) => item.attempts).sort();
    assert.deepEqual(attempts, [0, 0, 1]);
    assert.equal(homeserver.requests.length, 1);
  });

  it("does not show an alert twice when its confirmation was lost after sending", async () => {
    const store = new MemoryStore();
    await commitWithAlerts(store, [gristRow(13, { Priorite: "Urgente" })], planner());
    let loseConfirmation = true;
    const flaky = withMarkSent(store, async (key, now) => {
      if (loseConfirmation) {
        loseConfirmation = false;
        throw new Error("disque plein");
      }
      return store.markSent(key, now);
    });
    const dispatcher = dispatcherFor(flaky);
    await assert.rejects(dispatcher.runOnce(), /disque plein/);
    assert.equal((await store.counts()).pending, 1);
    await dispatcher.runOnce();
    assert.equal(homeserver.messages.length, 1, "the homeserver dropped the repeated txnId");
    assert.equal(homeserver.requests.filter((r) => r.method === "PUT").length, 2);
    assert.deepEqual(await store.counts(), { pending: 0, sent: 1, failed: 0 });
  });

  it("delivers every pending alert exactly once after a relay restart during a Tchap outage", async () => {
    const file = join(dir, "restart.db");
    const first = new SqliteStore({ file });
    const plan = planner();
    for (const id of [21, 22, 23]) {
      await commitWithAlerts(first, [gristRow(id, { Priorite: "Urgente" })], plan);
    }
    // INT-021 reaches the room but the relay dies before recording it; then Tchap goes down.
    let crashed = false;
    const dying = withMarkSent(first, async () => {
      crashed = true;
      homeserver.setOutage({ status: 0, dropConnection: true });
      throw new Error("processus tué");
    });
    await assert.rejects(dispatcherFor(dying).runOnce(), /processus tué/);
    assert.ok(crashed);
    const during = dispatcherFor(first);
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      await during.runOnce();
    }
    await during.stop();
    assert.deepEqual(await first.counts(), { pending: 3, sent: 0, failed: 0 });
    await first.close();

    homeserver.setOutage(null);
    const second = new SqliteStore({ file });
    const restarted = dispatcherFor(second);
    for (let i = 0; i < 5 && (await second.counts()).pending > 0; i++) {
      clock.advance(300_000);
      await restarted.runOnce();
    }
    assert.deepEqual(await second.counts(), { pending: 0, sent: 3, failed: 0 });
    // INT-021 reached the room twice (before the crash, after the restart), with the same
    // txnId, so Matrix keeps one: the once-only rests on the txnId, not on the fake.
    const sends = acceptedSends(homeserver);
    assert.equal(sends.length, 4);
    assert.equal(new Set(sends.map((r) => r.url)).size, 3);
    assert.deepEqual(
      homeserver.messages.map((m) => String(m.content.body).split("\n")[0]).sort(),
      ["INT-021", "INT-022", "INT-023"].map((ref) => `🚨 Intervention urgente : ${ref}`),
    );
    await second.close();
  });

  it("sends a signed webhook carrying the event", async () => {
    const secret = "secret-partage-avec-n8n-0123456789";
    const received: { headers: Record<string, unknown>; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        received.push({ headers: request.headers, body });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      config = parseAlertsConfig(
        { destinations: [{ name: "n8n", kind: "webhook", url, secret }] },
        { baseDir: dir },
      );
      const store = new MemoryStore();
      const [event] = await commitWithAlerts(
        store,
        [gristRow(30, { Statut: "Bloqué" })],
        planner(),
      );
      await dispatcherFor(store).runOnce();
      assert.equal(received.length, 1);
      const [request] = received;
      const ok = verifySignature(
        secret,
        String(request?.headers["x-grist-realtime-timestamp"]),
        request?.body ?? "",
        String(request?.headers["x-grist-realtime-signature"]),
      );
      assert.ok(ok);
      assert.equal(request?.headers["x-grist-realtime-delivery"], `${event?.id}:n8n`);
      const body = JSON.parse(request?.body ?? "{}");
      assert.equal(body.type, "grist-realtime.alert");
      assert.equal(body.rule, "blocage");
      assert.equal(body.event.id, event?.id);
      assert.equal(body.event.record.statut, "Bloqué");
    } finally {
      receiver.close();
    }
  });

  it("sends nothing while another instance holds the lease", async () => {
    const store = new MemoryStore();
    await commitWithAlerts(store, [gristRow(40, { Priorite: "Urgente" })], planner());
    let holder = false;
    const lease = {
      runExclusive: async <T>(fn: (signal: AbortSignal) => Promise<T>) =>
        holder ? fn(new AbortController().signal) : undefined,
    };
    const dispatcher = dispatcherFor(store, { lease });
    await dispatcher.runOnce();
    assert.equal(homeserver.requests.length, 0);
    holder = true;
    await dispatcher.runOnce();
    assert.equal(homeserver.messages.length, 1);
  });

  it("runs on its own once started, wakes up on demand and stops cleanly", async () => {
    const store = new MemoryStore();
    let reads = 0;
    const counted: Outbox = {
      ...withMarkSent(store, (key, now) => store.markSent(key, now)),
      due: (now, limit) => {
        reads++;
        return store.due(now, limit);
      },
    };
    const started = (outbox: Outbox) => {
      const running = new AlertDispatcher({
        outbox,
        senders: createSenders(config),
        pollIntervalMs: 60_000,
      });
      running.start();
      return running;
    };
    const bodies = () => homeserver.messages.map((message) => String(message.content.body));
    const dispatcher = started(counted);
    await commitWithAlerts(store, [gristRow(50, { Priorite: "Urgente" })], planner());
    dispatcher.wake();
    await waitFor("the first alert", () => homeserver.messages.length === 1);
    assert.match(bodies()[0] ?? "", /INT-050/, "sent without waiting for the 60 s poll");
    await dispatcher.stop();
    const readsAtStop = reads;
    // A control dispatcher that is still running gets the same wake-up: once it has delivered,
    // a live dispatcher has had the time to deliver too, so the checks below are not vacuous.
    const controlStore = new MemoryStore();
    const control = started(controlStore);
    try {
      await commitWithAlerts(store, [gristRow(51, { Priorite: "Urgente" })], planner());
      await commitWithAlerts(controlStore, [gristRow(52, { Priorite: "Urgente" })], planner());
      dispatcher.wake();
      control.wake();
      await waitFor("the control's alert", () => bodies().some((b) => b.includes("INT-052")));
    } finally {
      await control.stop();
    }
    assert.equal(reads, readsAtStop, "the stopped dispatcher never read the outbox again");
    assert.ok(!bodies().some((body) => body.includes("INT-051")), "nothing sent after stop");
    assert.equal(homeserver.messages.length, 2);
  });
});
