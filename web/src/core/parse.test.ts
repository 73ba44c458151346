import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { buildColumnMapping } from "../../../src/domain/column-mapping.ts";
import { RelayEventSchema } from "../../../src/domain/events.ts";
import { normalizeRecord } from "../../../src/domain/normalize.ts";
import { decodeRow } from "../../../src/grist/decode.ts";
import {
  parseAppConfig,
  parseEventsPage,
  parseRelayEvent,
  parseRelayStatus,
  parseSnapshot,
} from "./parse.ts";

const wireEvent = {
  id: "42",
  type: "record.updated",
  time: "2026-11-24T09:30:01.120Z",
  source: "webhook",
  record: {
    id: 1,
    reference: "INT-001",
    agent: "Alice Martin",
    localisation: "12 rue de la République, 13001 Marseille",
    type: "Voirie",
    statut: "En cours",
    priorite: "Haute",
    derniereMaj: "2026-11-24T09:30:00.000Z",
    commentaire: "Technicien sur place",
    latitude: 43.2965,
    longitude: 5.3698,
    departement: "13",
    fields: { ID2: "INT-001" },
  },
  changes: { statut: { from: "En attente", to: "En cours" } },
};

describe("parseRelayEvent", () => {
  it("accepts the event of the protocol reference", () => {
    const event = parseRelayEvent(wireEvent);
    assert.equal(event?.id, "42");
    assert.equal(event?.record.agent, "Alice Martin");
    assert.deepEqual(event?.changes, { statut: { from: "En attente", to: "En cours" } });
  });

  it("accepts an out-of-scope removal that carries only the record id", () => {
    const event = parseRelayEvent({
      ...wireEvent,
      type: "record.removed",
      record: { id: 7 },
      reason: "out-of-scope",
    });
    assert.equal(event?.record.id, 7);
    assert.equal(event?.record.statut, null);
    assert.equal(event?.reason, "out-of-scope");
  });

  it("rejects frames without an id, with an unknown type or without a record", () => {
    assert.equal(parseRelayEvent({ ...wireEvent, id: 42 }), null);
    assert.equal(parseRelayEvent({ ...wireEvent, type: "record.exploded" }), null);
    assert.equal(parseRelayEvent({ ...wireEvent, record: null }), null);
    assert.equal(parseRelayEvent("<script>"), null);
  });

  it("turns non-text values of text fields into text or null", () => {
    const event = parseRelayEvent({
      ...wireEvent,
      record: { ...wireEvent.record, reference: 12, agent: { evil: 1 } },
    });
    assert.equal(event?.record.reference, "12");
    assert.equal(event?.record.agent, null);
  });
});

describe("parseSnapshot and parseEventsPage", () => {
  it("keeps the valid records of a snapshot and its last event id", () => {
    const snapshot = parseSnapshot({
      records: [wireEvent.record, { nope: true }],
      lastEventId: "42",
    });
    assert.equal(snapshot?.records.length, 1);
    assert.equal(snapshot?.lastEventId, "42");
    assert.equal(parseSnapshot({ records: [], lastEventId: "" })?.lastEventId, null);
  });

  it("keeps the valid events of a history page in order", () => {
    const page = parseEventsPage({
      events: [wireEvent, { ...wireEvent, id: "43" }, {}],
      lastEventId: "43",
    });
    assert.deepEqual(
      page?.events.map((e) => e.id),
      ["42", "43"],
    );
  });
});

describe("parseAppConfig", () => {
  it("falls back to defaults for missing or invalid values", () => {
    const config = parseAppConfig({
      heartbeatMs: -1,
      title: "  ",
      tileUrl: "https://tiles.example/{z}/{x}/{y}.png",
      gristUrl: "",
    });
    assert.equal(config.heartbeatMs, 30_000);
    assert.equal(config.title, "Interventions en temps réel");
    assert.equal(config.tileUrl, "https://tiles.example/{z}/{x}/{y}.png");
    assert.equal(config.gristUrl, null);
  });

  it("reads whether the relay requires a token, and knows nothing when an older relay is silent", () => {
    assert.equal(parseAppConfig({ authRequired: true }).authRequired, true);
    assert.equal(parseAppConfig({ authRequired: false }).authRequired, false);
    assert.equal(parseAppConfig({}).authRequired, null);
    assert.equal(parseAppConfig({ authRequired: "true" }).authRequired, null);
  });
});

describe("parseRelayStatus", () => {
  it("reads the status document and tolerates a missing reconciliation", () => {
    const status = parseRelayStatus({
      version: "0.1.0",
      ready: true,
      subscribers: 3,
      eventsLastHour: 12,
      lastWebhookAt: null,
      lastReconciliation: null,
      alerts: { pending: 0, sent: 4, failed: 1 },
    });
    assert.equal(status?.subscribers, 3);
    assert.equal(status?.lastReconciliation, null);
    assert.deepEqual(status?.alerts, { pending: 0, sent: 4, failed: 1 });
  });
});

describe("the page's hand-written check and the relay's event schema", () => {
  /** Every row Grist posted in the captures of test/fixtures/grist/, normalized by the relay. */
  function capturedRecords() {
    const dir = new URL("../../../test/fixtures/grist/", import.meta.url);
    const mapping = buildColumnMapping();
    const records = [];
    for (const name of readdirSync(dir).filter((file) => file.endsWith(".json"))) {
      const capture = JSON.parse(readFileSync(new URL(name, dir), "utf8")) as {
        webhook_posts?: { json_body?: unknown }[];
      };
      for (const post of capture.webhook_posts ?? []) {
        if (!Array.isArray(post.json_body)) continue;
        for (const { id, ...cells } of post.json_body as { id: number }[]) {
          records.push(normalizeRecord(id, decodeRow(cells, mapping.dateColumns), mapping));
        }
      }
    }
    return records;
  }

  it("reads every event the relay would stream from the captured rows as the schema does", () => {
    const records = capturedRecords();
    assert.ok(records.length >= 20, `${records.length} captured rows`);
    const events = records.flatMap((record, index) => {
      const base = { id: String(index + 1), time: "2026-11-24T09:30:01.120Z", record };
      const updated = {
        ...base,
        type: "record.updated",
        source: "reconciliation",
        changes: { statut: { from: "En cours", to: record.statut } },
      };
      return [
        { ...base, type: "record.added", source: "webhook" },
        updated,
        { ...base, type: "record.removed", source: "sync" },
      ];
    });
    for (const event of events) {
      const wire = JSON.parse(JSON.stringify(event));
      const schema = RelayEventSchema.parse(wire);
      assert.deepEqual(parseRelayEvent(wire), schema, `${event.type} of record ${event.record.id}`);
    }
  });

  it("refuses what the schema refuses on the fields the page relies on", () => {
    const [record] = capturedRecords();
    const good = { id: "1", type: "record.added", time: "t", source: "webhook", record };
    const bad = [
      { ...good, type: "record.moved" },
      { ...good, id: 1 },
      { ...good, record: { ...record, id: "" } },
      { ...good, record: null },
    ];
    for (const event of bad) {
      const wire = JSON.parse(JSON.stringify(event));
      assert.equal(RelayEventSchema.safeParse(wire).success, false);
      assert.equal(parseRelayEvent(wire), null, JSON.stringify(event).slice(0, 80));
    }
  });
});
