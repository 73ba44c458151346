import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  commitWithAlerts,
  gristRow,
  intervention,
  relayEvent,
} from "../../test/support/alerts/events.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { AlertPayloadSchema } from "./payload.ts";
import { createAlertPlanner } from "./planner.ts";
import {
  type AlertRule,
  type AlertsConfig,
  defaultAlertRules,
  parseAlertsConfig,
} from "./rules.ts";

const config: AlertsConfig = parseAlertsConfig(
  {
    destinations: [
      {
        name: "tchap",
        kind: "matrix",
        homeserverUrl: "https://matrix.example",
        accessToken: "syt_x",
        roomId: "!r:example",
      },
      { name: "hook", kind: "webhook", url: "https://hook.example/a", secret: "0123456789abcdef" },
    ],
  },
  { baseDir: "." },
);

describe("alert planner", () => {
  it("writes one outbox entry per event and destination with the stored events", async () => {
    const store = new MemoryStore();
    const planner = createAlertPlanner(config, { dashboardUrl: "https://relais.example" });
    const [event] = await commitWithAlerts(store, [gristRow(1, { Priorite: "Urgente" })], planner);
    const items = await store.list({ limit: 10 });
    assert.deepEqual(items.map((item) => item.key).sort(), [
      `${event?.id}:hook`,
      `${event?.id}:tchap`,
    ]);
    assert.ok(items.every((item) => item.status === "pending" && item.attempts === 0));
    const tchap = AlertPayloadSchema.parse(items.find((i) => i.destination === "tchap")?.payload);
    assert.equal(tchap.message.title, "🚨 Intervention urgente : INT-001");
    assert.equal(tchap.message.link, "https://relais.example/?q=INT-001");
  });

  it("adds nothing for events no rule wants, nor for a redelivered batch", async () => {
    const store = new MemoryStore();
    const planner = createAlertPlanner(config);
    await commitWithAlerts(store, [gristRow(1, { Priorite: "Normale" })], planner);
    assert.equal((await store.counts()).pending, 0);
    await commitWithAlerts(store, [gristRow(2, { Statut: "Bloqué" })], planner);
    await commitWithAlerts(store, [gristRow(2, { Statut: "Bloqué" })], planner);
    assert.equal((await store.counts()).pending, 2, "one per destination, once");
  });

  it("sends an event matching two rules once per destination, titled by the first rule", () => {
    const plan = createAlertPlanner({ ...config, rules: defaultAlertRules(["tchap"]) });
    const both = relayEvent({
      type: "record.added",
      record: intervention({ priorite: "Urgente", statut: "Bloqué" }),
    });
    const entries = plan([both]);
    assert.deepEqual(
      entries.map((entry) => entry.key),
      ["42:tchap"],
    );
    assert.equal(AlertPayloadSchema.parse(entries[0]?.payload).rule, "urgence");
  });

  it("fixes the Matrix txnId once, from the key and the event time", () => {
    const plan = createAlertPlanner(config);
    const event = relayEvent({
      type: "record.added",
      record: intervention({ priorite: "Urgente" }),
    });
    const payload = AlertPayloadSchema.parse(plan([event])[0]?.payload);
    // Worked out outside the code: "grt" + base64url(sha256("42:tchap\n" + event time))[0..32],
    // `printf '42:tchap\n2026-11-24T09:30:01.120Z' | openssl dgst -sha256 -binary | base64`.
    assert.equal(event.time, "2026-11-24T09:30:01.120Z");
    assert.equal(payload.txnId, "grtpgFqR6lySSlDTQrfivmo2yujmOVJjI2K");
    assert.equal(
      AlertPayloadSchema.parse(plan([event])[0]?.payload).txnId,
      payload.txnId,
      "same alert, same txnId",
    );
    const later = AlertPayloadSchema.parse(
      plan([{ ...event, time: "2027-01-01T00:00:00.000Z" }])[0]?.payload,
    );
    assert.notEqual(later.txnId, payload.txnId, "another event time, another txnId");
  });

  it("keeps the whole event for webhooks only, and no secret in any payload", () => {
    const plan = createAlertPlanner(config);
    const entries = plan([
      relayEvent({ type: "record.added", record: intervention({ priorite: "Urgente" }) }),
    ]);
    const byDestination = new Map(
      entries.map((e) => [e.destination, AlertPayloadSchema.parse(e.payload)]),
    );
    assert.equal(byDestination.get("hook")?.event?.id, "42");
    assert.equal(byDestination.get("tchap")?.event, undefined);
    assert.doesNotMatch(JSON.stringify(entries), /syt_x|0123456789abcdef/);
  });

  it("refuses a dashboard URL that is not http(s)", () => {
    assert.throws(() => createAlertPlanner(config, { dashboardUrl: "javascript:alert(1)" }));
  });

  it("skips an event it cannot turn into alerts instead of failing the commit", () => {
    const broken: AlertRule = {
      ...(defaultAlertRules(["tchap"])[0] as AlertRule),
      get triggers(): AlertRule["triggers"] {
        throw new Error("règle cassée");
      },
    };
    const errors: unknown[] = [];
    const plan = createAlertPlanner(
      { ...config, rules: [broken] },
      { onError: (error) => errors.push(error) },
    );
    assert.deepEqual(plan([relayEvent({ type: "record.added" })]), []);
    assert.equal(errors.length, 1);
  });
});
