/**
 * The whole Grist side through a real relay: `setup` against the Grist double, the relay's
 * initial sync, webhooks sent by the double, a webhook lost by Grist repaired by
 * reconciliation, and a deletion (which Grist never announces) seen by reconciliation.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import { openSse, type SseConnection } from "../../test/support/sse-client.ts";
import { startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { runSetupCommand } from "../cli/setup-command.ts";

const DOC = "docChain00000000000001";
const KEY = "owner-api-key";
const SECRET = "chain-webhook-secret-0123";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function records(relay: TestRelay) {
  const body = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
    records: { id: number; reference: string; statut: string }[];
  };
  return body.records;
}

interface Chain {
  grist: GristDouble;
  relay: TestRelay;
  close(): Promise<void>;
}

/**
 * A Grist double with two rows, `setup` run against it, and a relay started on the port setup
 * registered: each test gets its own, so none depends on what another changed or on their order.
 */
async function startChain(): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), "grist-realtime-chain-"));
  const port = await freePort();
  const grist = await startGristDouble({
    apiKeys: [KEY],
    docs: [{ id: DOC, access: { [KEY]: "owners" } }],
    allowedWebhookDomains: `localhost:${port}`,
    waitDelayMs: 20,
  });
  let relay: TestRelay | undefined;
  const close = async () => {
    await relay?.close();
    await grist.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const out: string[] = [];
    const io = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => out.push(t) },
      env: {},
    };
    const argv = [
      "--grist-url",
      grist.url,
      "--doc",
      DOC,
      "--api-key",
      KEY,
      "--relay-url",
      `http://localhost:${port}`,
    ];
    const mappingFile = join(dir, "column-mapping.json");
    const code = await runSetupCommand(
      [...argv, "--webhook-secret", SECRET, "--mapping-file", mappingFile],
      io,
    );
    assert.equal(code, 0, out.join(""));
    grist.addRows(DOC, "Interventions", [
      {
        ID2: "INT-001",
        Agent: "Marie Durand",
        Localisation: "13001 Marseille",
        Statut: "En attente",
        Priorite: "Haute",
      },
      {
        ID2: "INT-002",
        Agent: "Paul Martin",
        Localisation: "69003 Lyon",
        Statut: "En cours",
        Priorite: "Normale",
      },
    ]);
    relay = await startTestRelay({
      port,
      dataDir: dir,
      env: {
        GRIST_URL: grist.url,
        GRIST_DOC_ID: DOC,
        GRIST_API_KEY: KEY,
        WEBHOOK_SECRET: SECRET,
        COLUMN_MAPPING_FILE: mappingFile,
        RECONCILE_INTERVAL_MS: "300",
      },
    });
    return { grist, relay, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Waits for the relay's initial sync, so a change made in Grist afterwards is a change. */
async function synced(relay: TestRelay): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!relay.relay.state.lastReconciliation?.ok) {
    if (Date.now() > deadline) throw new Error("the initial sync did not finish");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Grist → relay, end to end against the Grist double", () => {
  let chain: Chain;
  let grist: GristDouble;
  let relay: TestRelay;
  let stream: SseConnection | undefined;

  beforeEach(async () => {
    chain = await startChain();
    ({ grist, relay } = chain);
    stream = undefined;
  });
  afterEach(async () => {
    stream?.close();
    await chain?.close();
  });

  /** The relay's stream, opened once its initial sync is done and its snapshot received. */
  async function liveStream(): Promise<SseConnection> {
    await synced(relay);
    const opened = await openSse(`${relay.url}/events`);
    stream = opened;
    await opened.waitFor((m) => m.event === "snapshot");
    return opened;
  }

  it("fills the state from Grist at start, before any webhook", async () => {
    const deadline = Date.now() + 5000;
    // The sync commits the rows, then records its outcome: wait for both, not just the rows.
    const synced = async () =>
      (await records(relay)).length >= 2 && relay.relay.state.lastReconciliation !== null;
    while (!(await synced()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const known = await records(relay);
    assert.deepEqual(known.map((r) => r.reference).sort(), ["INT-001", "INT-002"]);
    assert.equal(relay.relay.state.lastReconciliation?.ok, true);
  });

  it("streams a change made in Grist through the webhook setup registered", async () => {
    const events = await liveStream();
    grist.updateRow(DOC, "Interventions", 1, { Statut: "Bloqué" });
    const update = await events.waitFor((m) => m.event === "record.updated");
    const event = update.json as { source: string; changes: Record<string, { to: unknown }> };
    assert.equal(event.source, "webhook");
    assert.equal(event.changes.statut?.to, "Bloqué");
  });

  it("repairs a webhook Grist lost, within one reconciliation", async () => {
    const events = await liveStream();
    grist.dropNextDeliveries(1);
    grist.updateRow(DOC, "Interventions", 2, { Statut: "Terminé" });
    const repaired = await events.waitFor(
      (m) => (m.json as { record?: { id: number; statut: string } }).record?.statut === "Terminé",
      5000,
    );
    assert.equal((repaired.json as { source: string }).source, "reconciliation");
  });

  it("turns a row deleted in Grist into record.removed", async () => {
    const events = await liveStream();
    grist.deleteRow(DOC, "Interventions", 2);
    const removed = await events.waitFor((m) => m.event === "record.removed", 5000);
    assert.equal((removed.json as { record: { id: number } }).record.id, 2);
    assert.deepEqual(
      (await records(relay)).map((r) => r.id),
      [1],
    );
  });

  it("emits nothing when reconciliation finds Grist and the relay in agreement", async () => {
    const events = await liveStream();
    const before = events.messages.length;
    // Proof a reconciliation ran meanwhile (two, so one started after `before`): without it,
    // "nothing emitted" would also hold if reconciliation had stopped.
    const state = relay.relay.state;
    const seen = new Set([state.lastReconciliation]);
    const deadline = Date.now() + 5000;
    while (seen.size < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      seen.add(state.lastReconciliation);
    }
    assert.equal(seen.size, 3, "two reconciliations ran");
    assert.equal(state.lastReconciliation?.ok, true);
    assert.equal(events.messages.length, before);
  });
});
