/**
 * `npm run test:n8n` (opt-in, not part of `npm test`): the two workflows of this folder in a
 * real n8n, imported, credentialed and published exactly as the README says, between a real
 * relay, a fake SMTP server and a Grist-shaped client. See test/support/n8n/ for the install.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { signBody } from "../../src/alerts/outgoing-webhook.ts";
import { type FakeSmtp, startFakeSmtp } from "../../test/support/n8n/fake-smtp.ts";
import { ensureN8n, type N8nInstall } from "../../test/support/n8n/n8n-install.ts";
import {
  freePort,
  type N8nOptions,
  type N8nServer,
  runN8nCli,
  startN8n,
} from "../../test/support/n8n/n8n-process.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";

const ALERT_SECRET = "secret-des-alertes-pour-n8n-0123456789";
const RELAY_WEBHOOK_SECRET = "secret-des-webhooks-du-relais-0123456";
const GRIST_TO_N8N = "secret-grist-vers-n8n-0123456789";
const WORKFLOWS_DIR = new URL(".", import.meta.url).pathname;

const log = (line: string) => process.stderr.write(`[test:n8n] ${line}\n`);

interface AlertView {
  key: string;
  status: string;
  attempts: number;
  lastError: string | null;
  reference: string | null;
}

let install: N8nInstall;
let work: string;
let smtp: FakeSmtp;
let relay: TestRelay;
let relayDataDir: string;
let relayPort: number;
let n8nOptions: N8nOptions;
let n8n: N8nServer | null = null;
let alertUrl: string;
let row = 100;

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`délai dépassé : ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function alerts(): Promise<AlertView[]> {
  const response = await fetch(`${relay.url}/api/alerts?limit=500`);
  return ((await response.json()) as { alerts: AlertView[] }).alerts;
}

async function alertFor(reference: string): Promise<AlertView | null> {
  return (await alerts()).find((alert) => alert.reference === reference) ?? null;
}

/** Posts one urgent intervention to the relay; returns its reference (INT-…). */
async function urgentIntervention(): Promise<string> {
  row++;
  const response = await relay.postWebhook([gristRow(row, { Priorite: "Urgente" })]);
  assert.equal(response.status, 200);
  return `INT-${String(row).padStart(3, "0")}`;
}

function mailsAbout(reference: string): number {
  return smtp.mails.filter((mail) => mail.data.includes(reference)).length;
}

/** Status of the latest executions of a workflow, newest first, read from n8n's database. */
function executionStatuses(workflowId: string): string[] {
  const db = new DatabaseSync(join(work, "n8n", ".n8n", "database.sqlite"), { readOnly: true });
  try {
    const rows = db
      .prepare("SELECT status FROM execution_entity WHERE workflowId = ? ORDER BY id DESC LIMIT 20")
      .all(workflowId) as { status: string }[];
    return rows.map((r) => r.status);
  } finally {
    db.close();
  }
}

async function startRelay(): Promise<void> {
  relay = await startTestRelay({
    port: relayPort,
    dataDir: relayDataDir,
    env: {
      ALERTS_CONFIG: join(work, "alertes.json"),
      WEBHOOK_SECRET: RELAY_WEBHOOK_SECRET,
    },
  });
  relayPort = relay.port;
}

/** n8n registers its webhooks a while after /healthz: until then it answers 404. */
async function startAndWaitForWebhooks(): Promise<void> {
  const started = Date.now();
  n8n = await startN8n(n8nOptions);
  await until("webhooks n8n enregistrés", 120_000, async () => {
    const response = await fetch(alertUrl, { method: "POST", body: "{}" });
    return response.status === 404 ? null : true;
  });
  log(`n8n prêt en ${Math.round((Date.now() - started) / 1000)} s`);
}

before(async () => {
  const t0 = Date.now();
  install = await ensureN8n(log);
  log(`installation n8n prête en ${Math.round((Date.now() - t0) / 1000)} s (${install.dir})`);
  work = mkdtempSync(join(tmpdir(), "grist-realtime-n8n-"));
  relayDataDir = join(work, "relais");
  smtp = await startFakeSmtp();
  const n8nPort = await freePort();
  alertUrl = `http://127.0.0.1:${n8nPort}/webhook/grist-realtime-alerte`;
  writeFileSync(
    join(work, "alertes.json"),
    JSON.stringify({
      destinations: [
        { name: "n8n-courriel", kind: "webhook", url: alertUrl, secret: ALERT_SECRET },
      ],
      rules: [
        {
          name: "urgence",
          title: "Intervention urgente",
          triggers: [{ on: "record.added", where: { priorite: "Urgente" } }],
          destinations: ["n8n-courriel"],
        },
      ],
      delivery: { backoffBaseMs: 500, backoffMaxMs: 2000 },
    }),
  );
  relayPort = 0;
  await startRelay();
  n8nOptions = {
    install,
    userFolder: join(work, "n8n"),
    port: n8nPort,
    env: {
      RELAY_URL: relay.url,
      GRIST_REALTIME_ALERT_SECRET: ALERT_SECRET,
      NODE_FUNCTION_ALLOW_BUILTIN: "crypto",
      N8N_BLOCK_ENV_ACCESS_IN_NODE: "false",
    },
  };
  // The README's steps, in its order: credentials, workflows, publish, then start.
  const credentials = join(work, "identifiants.json");
  writeFileSync(
    credentials,
    JSON.stringify([
      {
        id: "SmtpAlertesInter",
        name: "SMTP des alertes",
        type: "smtp",
        data: {
          user: "",
          password: "",
          host: "127.0.0.1",
          port: smtp.port,
          secure: false,
          disableStartTls: true,
        },
      },
      {
        id: "GristVersN8nAuth",
        name: "Grist vers n8n (Authorization)",
        type: "httpHeaderAuth",
        data: { name: "Authorization", value: `Bearer ${GRIST_TO_N8N}` },
      },
      {
        id: "RelaisGristRtAut",
        name: "Relais grist-realtime (Authorization)",
        type: "httpHeaderAuth",
        data: { name: "Authorization", value: `Bearer ${RELAY_WEBHOOK_SECRET}` },
      },
    ]),
  );
  for (const args of [
    ["import:credentials", `--input=${credentials}`],
    ["import:workflow", "--separate", `--input=${WORKFLOWS_DIR}`],
    ["publish:workflow", "--id=GristVersRelais1"],
    ["publish:workflow", "--id=RelaisVersEmail1"],
  ]) {
    const result = await runN8nCli(n8nOptions, args);
    assert.equal(result.code, 0, `n8n ${args.join(" ")}\n${result.output}`);
  }
  await startAndWaitForWebhooks();
});

after(async () => {
  await n8n?.stop();
  await relay?.close();
  await smtp?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the n8n workflows in a real n8n", () => {
  it("turns one relay alert into exactly one e-mail, and the relay marks it sent", async () => {
    const reference = await urgentIntervention();
    await until("courriel", 60_000, async () => (mailsAbout(reference) > 0 ? true : null));
    const alert = await until("alerte envoyée", 30_000, async () => {
      const found = await alertFor(reference);
      return found?.status === "sent" ? found : null;
    });
    assert.equal(alert.attempts, 1);
    assert.equal(mailsAbout(reference), 1);
    const mail = smtp.mails.find((m) => m.data.includes(reference));
    assert.deepEqual(mail?.to, ["astreinte@exemple.gouv.fr"]);
  });

  it("answers 500 while the SMTP server is down, so the relay retries and one e-mail leaves once it is up", async () => {
    await smtp.stop();
    let reference = "";
    try {
      reference = await urgentIntervention();
      const failing = await until("un essai refusé par n8n", 60_000, async () => {
        const found = await alertFor(reference);
        return found && found.attempts >= 1 ? found : null;
      });
      assert.equal(failing.status, "pending", "retried, not given up");
      assert.match(failing.lastError ?? "", /\(500\)/);
      await until("exécution en erreur", 10_000, async () =>
        executionStatuses("RelaisVersEmail1")[0] === "error" ? true : null,
      );
    } finally {
      // Up again whatever happened: the scenarios after this one need it.
      await smtp.start();
    }
    await until("alerte envoyée", 60_000, async () =>
      (await alertFor(reference))?.status === "sent" ? true : null,
    );
    assert.equal(mailsAbout(reference), 1);
  });

  it("loses no alert while n8n restarts", async () => {
    await n8n?.stop();
    n8n = null;
    let reference = "";
    try {
      reference = await urgentIntervention();
      await until("un essai pendant l'arrêt", 30_000, async () => {
        const found = await alertFor(reference);
        return found && found.attempts >= 1 ? true : null;
      });
    } finally {
      await startAndWaitForWebhooks();
    }
    await until("alerte envoyée", 90_000, async () =>
      (await alertFor(reference))?.status === "sent" ? true : null,
    );
    assert.equal(mailsAbout(reference), 1);
  });

  it("refuses a tampered signature with 401 and sends no e-mail", async () => {
    const before = smtp.mails.length;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify({
      type: "grist-realtime.alert",
      id: "faux",
      title: "Faux",
      text: "x",
    });
    const response = await fetch(alertUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Grist-Realtime-Timestamp": timestamp,
        "X-Grist-Realtime-Signature": signBody("un-autre-secret-0123456789", timestamp, body),
        "X-Grist-Realtime-Delivery": "faux",
      },
      body,
    });
    assert.equal(response.status, 401);
    assert.equal(smtp.mails.length, before);
  });

  it("acknowledges a repeated delivery id without a second e-mail", async () => {
    const [sent] = (await alerts()).filter((alert) => alert.status === "sent");
    assert.ok(sent, "an alert already went out");
    const before = smtp.mails.length;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const body = JSON.stringify({
      type: "grist-realtime.alert",
      id: sent.key,
      title: "Rejeu",
      text: "x",
    });
    const response = await fetch(alertUrl, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "X-Grist-Realtime-Timestamp": timestamp,
        "X-Grist-Realtime-Signature": signBody(ALERT_SECRET, timestamp, body),
        "X-Grist-Realtime-Delivery": sent.key,
      },
      body,
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { doublon?: boolean }).doublon, true);
    assert.equal(smtp.mails.length, before);
  });

  it("forwards a Grist-shaped webhook to the relay, which stores it", async () => {
    const gristUrl = `${n8n?.url}/webhook/grist-realtime?event=add`;
    const response = await fetch(gristUrl, {
      method: "POST",
      headers: { Authorization: `Bearer ${GRIST_TO_N8N}`, "Content-Type": "application/json" },
      body: JSON.stringify([gristRow(900, { Agent: "Paul Martin" })]),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const stored = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
      records: { reference?: string; agent?: string }[];
    };
    assert.ok(stored.records.some((record) => record.agent === "Paul Martin"));
    await until("exécution réussie", 10_000, async () =>
      executionStatuses("GristVersRelais1")[0] === "success" ? true : null,
    );
  });

  it("passes the relay's 4xx back to Grist, and marks the execution failed", async () => {
    const response = await fetch(`${n8n?.url}/webhook/grist-realtime`, {
      method: "POST",
      headers: { Authorization: `Bearer ${GRIST_TO_N8N}`, "Content-Type": "application/json" },
      body: JSON.stringify({ pas: "un lot Grist" }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error?: { code?: string } };
    assert.equal(body.error?.code, "RELAY_ERR_BAD_PAYLOAD");
    await until("exécution en erreur", 10_000, async () =>
      executionStatuses("GristVersRelais1")[0] === "error" ? true : null,
    );
  });

  it("answers 503 to Grist while the relay is down, and marks the execution failed", async () => {
    await relay.close();
    try {
      const response = await fetch(`${n8n?.url}/webhook/grist-realtime?event=add`, {
        method: "POST",
        headers: { Authorization: `Bearer ${GRIST_TO_N8N}`, "Content-Type": "application/json" },
        body: JSON.stringify([gristRow(901)]),
      });
      assert.equal(response.status, 503);
      const before = executionStatuses("GristVersRelais1").length;
      assert.ok(before > 0);
      await until("exécution en erreur", 10_000, async () =>
        executionStatuses("GristVersRelais1")[0] === "error" ? true : null,
      );
    } finally {
      await startRelay();
    }
  });
});
