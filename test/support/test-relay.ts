/**
 * Starts a real relay on a random port for tests (in this process), with a temporary data
 * folder unless one is given, so a restart on the same port and folder keeps the data.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { createRelay, type Relay } from "../../src/relay.ts";

export interface TestRelay {
  url: string;
  port: number;
  dataDir: string;
  relay: Relay;
  close(): Promise<void>;
  /** Posts Grist-shaped rows to /webhooks/grist (with the secret when one is set). */
  postWebhook(rows: unknown[], options?: { event?: "add" | "update" }): Promise<Response>;
}

export interface TestRelayOptions {
  port?: number;
  dataDir?: string;
  env?: Record<string, string>;
}

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "grist-realtime-test-"));
  const config = loadConfig({
    env: {
      HOST: "127.0.0.1",
      PORT: String(options.port ?? 0),
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
      SHUTDOWN_TIMEOUT_MS: "2000",
      // Tests that look at the drain set it; the others close at once.
      SHUTDOWN_DRAIN_MS: "0",
      // Tests never reach the Internet: a test that geocodes points GEOCODER_URL at the double.
      GEOCODER: "off",
      ...options.env,
    },
  });
  const relay = await createRelay(config, createLogger(config.LOG_LEVEL));
  await relay.listen();
  const address = relay.app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    dataDir,
    relay,
    async close() {
      await relay.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
    postWebhook(rows, postOptions = {}) {
      const query = postOptions.event ? `?event=${postOptions.event}` : "";
      const headers: Record<string, string> = { "Content-Type": "application/json" };
      if (config.WEBHOOK_SECRET) headers.Authorization = `Bearer ${config.WEBHOOK_SECRET}`;
      return fetch(`${url}/webhooks/grist${query}`, {
        method: "POST",
        headers,
        body: JSON.stringify(rows),
      });
    },
  };
}

/** A row as Grist posts it for the guide's table (column `ID` renamed `ID2`). */
export function gristRow(
  id: number,
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    manualSort: id,
    ID2: `INT-${String(id).padStart(3, "0")}`,
    Agent: "Marie Durand",
    Localisation: "12 rue de la République, 13001 Marseille",
    Type: "Voirie",
    Statut: "En attente",
    Priorite: "Normale",
    Derniere_MAJ: 1795478400,
    Commentaire: "Nid-de-poule signalé",
    ...fields,
  };
}
