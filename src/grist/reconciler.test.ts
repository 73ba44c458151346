import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
  startWebhookRecorder,
  type WebhookRecorder,
} from "../../test/support/grist-double/grist-double.ts";
import { buildColumnMapping } from "../domain/column-mapping.ts";
import {
  type ReconcileResult,
  Reconciler,
  type ReconcilerOptions,
  type RowSink,
} from "./reconciler.ts";
import { GristClient } from "./rest-client.ts";

const DOC = "docReconciler000000001";
const KEY = "owner-key";
const TABLE = "Interventions";

/** A sink that keeps the last row per key and reports only real changes, like the ingest service. */
class RecordingSink implements RowSink {
  readonly state = new Map<string, string>();
  readonly ingested: Array<{ rows: Record<string, unknown>[]; source: string }> = [];
  readonly removals: Array<{ present: string[]; source: string }> = [];

  async ingest(rows: Record<string, unknown>[], options: { source: string }) {
    this.ingested.push({ rows, source: options.source });
    const events: Array<{ type: string; id: unknown }> = [];
    for (const row of rows) {
      const key = String(row.id);
      const json = JSON.stringify(row);
      const previous = this.state.get(key);
      if (previous === json) continue;
      events.push({ type: previous === undefined ? "record.added" : "record.updated", id: row.id });
      this.state.set(key, json);
    }
    return { received: rows.length, events };
  }

  async removeMissing(present: ReadonlySet<string>, source: string) {
    this.removals.push({ present: [...present].sort(), source });
    const gone = [...this.state.keys()].filter((key) => !present.has(key));
    for (const key of gone) this.state.delete(key);
    return gone.map((key) => ({ type: "record.removed", key }));
  }
}

const silent = { info() {}, warn() {}, debug() {}, error() {} };

describe("Reconciler", () => {
  let grist: GristDouble;
  let hooks: WebhookRecorder;
  let sink: RecordingSink;
  let results: ReconcileResult[];

  beforeEach(async () => {
    hooks = await startWebhookRecorder();
    grist = await startGristDouble({
      apiKeys: [KEY],
      docs: [{ id: DOC, access: { [KEY]: "owners" } }],
      allowedWebhookDomains: `localhost:${new URL(hooks.url).port}`,
      waitDelayMs: 1,
    });
    grist.createTable(DOC, TABLE, [
      { id: "ID", label: "ID", type: "Text" },
      { id: "Statut", type: "Choice" },
      { id: "Derniere_MAJ", type: "DateTime:Europe/Paris" },
    ]);
    grist.addRows(DOC, TABLE, [
      { ID2: "INT-001", Statut: "En attente", Derniere_MAJ: 1795478400 },
      { ID2: "INT-002", Statut: "En cours", Derniere_MAJ: 1795478460 },
      { ID2: "INT-003", Statut: "Bloqué", Derniere_MAJ: null },
    ]);
    sink = new RecordingSink();
    results = [];
  });
  afterEach(async () => {
    await grist.close();
    await hooks.close();
  });

  const reconciler = (overrides: Partial<ReconcilerOptions> = {}) =>
    new Reconciler({
      client: new GristClient({
        url: grist.url,
        docId: DOC,
        auth: { kind: "apiKey", apiKey: KEY },
        maxAttempts: 1,
      }),
      table: TABLE,
      sink,
      intervalMs: 0,
      logger: silent,
      onResult: (result) => results.push(result),
      ...overrides,
    });

  it("fills the sink at start with every Grist row as a flat row, marked sync", async () => {
    const result = await reconciler().start();
    assert.deepEqual(sink.ingested[0]?.rows, [
      { ID2: "INT-001", Statut: "En attente", Derniere_MAJ: 1795478400, id: 1 },
      { ID2: "INT-002", Statut: "En cours", Derniere_MAJ: 1795478460, id: 2 },
      { ID2: "INT-003", Statut: "Bloqué", Derniere_MAJ: null, id: 3 },
    ]);
    assert.equal(sink.ingested[0]?.source, "sync");
    assert.equal(result?.source, "sync");
    assert.equal(result?.ok, true);
    assert.equal(result?.added, 3);
    assert.deepEqual(results, [result]);
  });

  it("passes the keys still in Grist to removeMissing once a row is deleted", async () => {
    const r = reconciler();
    await r.start();
    grist.deleteRow(DOC, TABLE, 2);
    const result = await r.runOnce();
    assert.deepEqual(sink.removals.at(-1), { present: ["1", "3"], source: "reconciliation" });
    assert.equal(result?.removed, 1);
    assert.equal(result?.updated, 0);
    assert.deepEqual([...sink.state.keys()], ["1", "3"]);
  });

  it("repairs a webhook Grist lost: the changed row reaches the sink, the others make no event", async () => {
    await new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: KEY },
    }).addWebhooks([
      { url: `${hooks.url}/webhooks/grist?event=update`, eventTypes: ["update"], tableId: TABLE },
    ]);
    const r = reconciler();
    await r.start();
    grist.dropNextDeliveries(1);
    grist.updateRow(DOC, TABLE, 1, { Statut: "Terminé", Derniere_MAJ: 1795482000 });
    await grist.whenIdle();
    assert.equal(hooks.requests.length, 0, "the webhook was lost");

    const result = await r.runOnce();
    assert.equal(result?.updated, 1);
    assert.equal(result?.added, 0);
    assert.deepEqual(JSON.parse(sink.state.get("1") ?? "{}"), {
      ID2: "INT-001",
      Statut: "Terminé",
      Derniere_MAJ: 1795482000,
      id: 1,
    });
  });

  it("never runs twice at once: a call during a run shares it", async () => {
    let calls = 0;
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = reconciler({
      client: {
        docId: DOC,
        async fetchRecords() {
          calls++;
          await gate;
          return [];
        },
      },
    });
    const first = r.runOnce();
    const second = r.runOnce();
    assert.equal(first, second);
    release();
    await first;
    assert.equal(calls, 1);
  });

  it("reports a Grist failure by document and table, and removes nothing", async () => {
    grist.failNextRequests(1, 500, "database is locked");
    const result = await reconciler().start();
    assert.equal(result?.ok, false);
    assert.match(result?.error ?? "", new RegExp(`« ${TABLE} » du document « ${DOC} »`));
    assert.equal(sink.removals.length, 0);
    assert.equal(sink.ingested.length, 0);
  });

  it("stays a sync until one succeeds", async () => {
    grist.failNextRequests(1, 500, "boom");
    const r = reconciler();
    await r.start();
    const second = await r.runOnce();
    assert.deepEqual(
      results.map((x) => [x.source, x.ok]),
      [
        ["sync", false],
        ["sync", true],
      ],
    );
    assert.equal(second?.added, 3);
  });

  it("does nothing when another instance holds the lease", async () => {
    const result = await reconciler({ lease: { runExclusive: async () => undefined } }).start();
    assert.equal(result, undefined);
    assert.equal(sink.ingested.length, 0);
    assert.deepEqual(results, []);
  });

  it("reports a lease failure instead of crashing", async () => {
    const result = await reconciler({
      lease: {
        runExclusive: async () => {
          throw new Error("redis down");
        },
      },
    }).start();
    assert.equal(result?.ok, false);
    assert.match(result?.error ?? "", /redis down/);
  });

  it("ingests in bounded batches", async () => {
    await reconciler({ batchSize: 2 }).start();
    assert.deepEqual(
      sink.ingested.map((call) => call.rows.length),
      [2, 1],
    );
  });

  it("warns once when rows no longer carry the reference column", async () => {
    const warnings: string[] = [];
    const r = reconciler({
      mapping: buildColumnMapping({ reference: "Reference" }),
      logger: { ...silent, warn: (_details, message) => warnings.push(message) },
    });
    await r.start();
    await r.runOnce();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /grist-realtime setup/);
  });

  /**
   * Runs a control reconciler on the same timer until it has reconciled `runs` times. Once it
   * has, a reconciler that stop() had not stopped would have run too: negative checks made after
   * this are not vacuous.
   */
  async function controlReconciles(intervalMs: number, runs: number): Promise<void> {
    let seen = 0;
    let done = () => {};
    const enough = new Promise<void>((resolve) => {
      done = resolve;
    });
    const control = reconciler({
      intervalMs,
      onResult: (result) => {
        if (result.source === "reconciliation" && ++seen === runs) done();
      },
    });
    await control.start();
    try {
      await enough;
    } finally {
      await control.stop();
    }
  }

  it("keeps reconciling on its timer until stopped", async () => {
    let seen = () => {};
    const threeRuns = new Promise<void>((resolve) => {
      seen = resolve;
    });
    const watching = reconciler({
      intervalMs: 1,
      onResult: (result) => {
        results.push(result);
        if (results.length === 3) seen();
      },
    });
    await watching.start();
    await threeRuns;
    await watching.stop();
    const count = results.length;
    assert.deepEqual(
      results.slice(0, 3).map((x) => x.source),
      ["sync", "reconciliation", "reconciliation"],
    );
    await controlReconciles(1, 3);
    assert.equal(results.length, count, "no run after stop");
  });

  it("cancels a timer already armed when stopped between runs", async () => {
    const idle = reconciler({ intervalMs: 20 });
    await idle.start(); // the sync is done and the next run is waiting on its timer
    await idle.stop();
    await controlReconciles(20, 2);
    assert.deepEqual(
      results.map((x) => x.source),
      ["sync"],
      "no run after stop",
    );
  });
});
