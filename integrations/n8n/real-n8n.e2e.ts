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
let credentialsFile: string;
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

interface ExecutionView {
  id: number;
  status: string;
  /** n8n's serialised run data: node outputs (headers included) and the error, as stored. */
  data: string;
}

/** The latest executions of a workflow whose stored data mentions `text`, newest first. */
function executionsMentioning(workflowId: string, text: string): ExecutionView[] {
  const db = new DatabaseSync(join(work, "n8n", ".n8n", "database.sqlite"), { readOnly: true });
  try {
    const rows = db
      .prepare(
        `SELECT e.id AS id, e.status AS status, d.data AS data FROM execution_entity e
         JOIN execution_data d ON d.executionId = e.id
         WHERE e.workflowId = ? ORDER BY e.id DESC LIMIT 200`,
      )
      .all(workflowId) as unknown as ExecutionView[];
    return rows.filter((r) => r.data.includes(text));
  } finally {
    db.close();
  }
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

/** The environment the README asks for; each setup mistake below removes one part of it. */
function goodEnv(): Record<string, string> {
  return {
    RELAY_URL: relay.url,
    GRIST_REALTIME_ALERT_SECRET: ALERT_SECRET,
    NODE_FUNCTION_ALLOW_BUILTIN: "crypto",
    N8N_BLOCK_ENV_ACCESS_IN_NODE: "false",
  };
}

async function restartN8n(env: Record<string, string>): Promise<void> {
  await n8n?.stop();
  n8n = null;
  n8nOptions = { ...n8nOptions, env };
  await startAndWaitForWebhooks();
}

/** A correctly signed alert posted straight to n8n, as the relay would send it. */
function signedAlert(delivery: string, title: string): Promise<Response> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify({ type: "grist-realtime.alert", id: delivery, title, text: title });
  return fetch(alertUrl, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Grist-Realtime-Timestamp": timestamp,
      "X-Grist-Realtime-Signature": signBody(ALERT_SECRET, timestamp, body),
      "X-Grist-Realtime-Delivery": delivery,
    },
    body,
  });
}

/**
 * Proves what one setup mistake does: a signed alert gets 500 from n8n, the execution that
 * carried it is `error` for the expected reason, the relay's pending alert (`reference`) meets
 * the same 500 and stays pending, and no e-mail leaves.
 */
async function refusedWith500(reference: string, delivery: string, reason: RegExp) {
  const title = `Essai ${delivery}`;
  const response = await signedAlert(delivery, title);
  assert.equal(response.status, 500, await response.clone().text());
  const failed = await until("exécution en erreur", 20_000, async () => {
    const runs = executionsMentioning("RelaisVersEmail1", delivery);
    return runs.find((run) => run.status === "error") ?? null;
  });
  assert.match(failed.data, reason);
  // The relay's own retry, after this restart, met the same refusal.
  const key = (await alertFor(reference))?.key ?? "";
  const sinceId = failed.id;
  const retried = await until("un nouvel essai du relais refusé", 60_000, async () => {
    // Finished ones only: an execution still under way is `new` or `running`.
    const runs = executionsMentioning("RelaisVersEmail1", key).filter(
      (run) => run.id > sinceId && run.status !== "new" && run.status !== "running",
    );
    return runs.length > 0 ? runs : null;
  });
  assert.deepEqual(
    retried.map((run) => run.status).filter((status) => status !== "error"),
    [],
  );
  assert.match(retried[0]?.data ?? "", reason);
  const alert = await alertFor(reference);
  assert.equal(alert?.status, "pending", "retried, not given up");
  assert.equal(mailsAbout(reference), 0);
  assert.equal(mailsAbout(title), 0);
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
      // Quick retries, yet one alert stays pending through four n8n restarts (about 1 min,
      // several under load): waits of 2–4 s within the most attempts the schema allows.
      delivery: { backoffBaseMs: 500, backoffMaxMs: 4000, maxAttempts: 100 },
    }),
  );
  relayPort = 0;
  await startRelay();
  n8nOptions = {
    install,
    userFolder: join(work, "n8n"),
    port: n8nPort,
    env: goodEnv(),
  };
  // The README's steps, in its order: credentials, workflows, publish, then start.
  const credentials = join(work, "identifiants.json");
  credentialsFile = credentials;
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

describe("setup mistakes in a real n8n (n8n restarted for each)", () => {
  // One alert of the relay stays pending through every mistake, and must leave once at the end.
  let reference = "";

  before(async () => {
    const { NODE_FUNCTION_ALLOW_BUILTIN: _, ...env } = goodEnv();
    await restartN8n(env);
    reference = await urgentIntervention();
    const failing = await until("un essai refusé par n8n", 60_000, async () => {
      const found = await alertFor(reference);
      return found && found.attempts >= 1 ? found : null;
    });
    assert.equal(failing.status, "pending", "retried, not given up");
    assert.match(failing.lastError ?? "", /\(500\)/);
  });

  it("answers 500 when n8n runs without NODE_FUNCTION_ALLOW_BUILTIN (crypto refused)", async () => {
    await refusedWith500(reference, "sans-crypto", /Module 'crypto' is disallowed/);
  });

  it("answers 500 when n8n blocks $env (N8N_BLOCK_ENV_ACCESS_IN_NODE not set to false)", async () => {
    const { N8N_BLOCK_ENV_ACCESS_IN_NODE: _, ...env } = goodEnv();
    await restartN8n(env);
    await refusedWith500(reference, "env-bloque", /access to env vars denied/);
  });

  it("answers 503 to Grist when n8n blocks $env, so Grist keeps the batch", async () => {
    // Same n8n as the case above: RELAY_URL cannot be read, nothing reaches the relay.
    const response = await fetch(`${n8n?.url}/webhook/grist-realtime?event=add`, {
      method: "POST",
      headers: { Authorization: `Bearer ${GRIST_TO_N8N}`, "Content-Type": "application/json" },
      body: JSON.stringify([gristRow(950, { Agent: "Env Bloque" })]),
    });
    assert.equal(response.status, 503, await response.clone().text());
    const failed = await until("exécution en erreur", 20_000, async () => {
      const runs = executionsMentioning("GristVersRelais1", "Env Bloque");
      return runs.find((run) => run.status === "error") ?? null;
    });
    assert.match(failed.data, /access to env vars denied/);
    const stored = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
      records: { agent?: string }[];
    };
    assert.ok(!stored.records.some((record) => record.agent === "Env Bloque"));
  });

  it("answers 500 when GRIST_REALTIME_ALERT_SECRET is missing from n8n's environment", async () => {
    const { GRIST_REALTIME_ALERT_SECRET: _, ...env } = goodEnv();
    await restartN8n(env);
    // n8n appends "[line N]" to the error the Code node threw (the bare text is also in the code).
    await refusedWith500(
      reference,
      "sans-secret",
      /GRIST_REALTIME_ALERT_SECRET n'est pas défini dans l'environnement de n8n \[line/,
    );
  });

  it("answers 500 when the SMTP credential does not exist", async () => {
    await n8n?.stop();
    n8n = null;
    // As if the operator had skipped that credential: n8n's own CLI cannot delete one.
    const db = new DatabaseSync(join(work, "n8n", ".n8n", "database.sqlite"));
    try {
      db.prepare("DELETE FROM shared_credentials WHERE credentialsId = ?").run("SmtpAlertesInter");
      const { changes } = db
        .prepare("DELETE FROM credentials_entity WHERE id = ?")
        .run("SmtpAlertesInter");
      assert.equal(changes, 1);
    } finally {
      db.close();
    }
    await restartN8n(goodEnv());
    await refusedWith500(
      reference,
      "sans-smtp",
      /Credential with ID \\*"SmtpAlertesInter\\*" does not exist/,
    );
  });

  it("once the setup is fixed, the relay's retries deliver the pending alert exactly once", async () => {
    // The README's fix: import the credentials again (n8n already runs with the right variables).
    const result = await runN8nCli(n8nOptions, [
      "import:credentials",
      `--input=${credentialsFile}`,
    ]);
    assert.equal(result.code, 0, result.output);
    await until("alerte envoyée", 120_000, async () =>
      (await alertFor(reference))?.status === "sent" ? true : null,
    );
    assert.equal(mailsAbout(reference), 1);
  });
});
