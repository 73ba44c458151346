/**
 * The n8n workflow files: valid n8n workflow JSON, consistent connections, and wired to the
 * relay as it really is (route, method, header names, signature scheme). The HTTP Request node
 * of (a) is replayed against a real relay, and the Code node of (b) is run on a real signed
 * alert, the way n8n would evaluate them.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signBody,
  TIMESTAMP_HEADER,
} from "../../src/alerts/outgoing-webhook.ts";
import type { AlertPayload } from "../../src/alerts/payload.ts";
import { webhookBody } from "../../src/alerts/senders.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";

interface N8nNode {
  id: string;
  name: string;
  type: string;
  typeVersion: number;
  position: [number, number];
  parameters: Record<string, unknown>;
  onError?: string;
  credentials?: Record<string, { id: string; name: string }>;
}
interface N8nConnection {
  node: string;
  type: string;
  index: number;
}
interface N8nWorkflow {
  id: string;
  name: string;
  nodes: N8nNode[];
  connections: Record<string, { main: N8nConnection[][] }>;
  settings: Record<string, unknown>;
}

function load(file: string): N8nWorkflow {
  return JSON.parse(readFileSync(new URL(file, import.meta.url), "utf8"));
}
const readme = readFileSync(new URL("README.md", import.meta.url), "utf8");
const forwarder = load("grist-vers-relais.json");
const mailer = load("relais-vers-email.json");

function node(workflow: N8nWorkflow, type: string, name?: string): N8nNode {
  const found = workflow.nodes.find(
    (n) => n.type === type && (name === undefined || n.name === name),
  );
  assert.ok(found, `${workflow.name}: node ${type} ${name ?? ""}`);
  return found;
}

/** Targets of output `output` of the node named `from`. */
function targets(workflow: N8nWorkflow, from: string, output: number): N8nNode[] {
  return (workflow.connections[from]?.main[output] ?? []).map(
    (c) => workflow.nodes.find((n) => n.name === c.node) as N8nNode,
  );
}

/** The status a Respond to Webhook node answers with. */
function responseCode(respond: N8nNode | undefined): number {
  assert.equal(respond?.type, "n8n-nodes-base.respondToWebhook");
  return Number(
    (respond?.parameters.options as { responseCode?: number } | undefined)?.responseCode,
  );
}

/**
 * n8n parameter values: a leading "=" makes the string a template whose `{{ … }}` parts are
 * JavaScript; a template that is one expression keeps its value's type.
 */
function evaluate(value: unknown, context: Record<string, unknown>): unknown {
  if (typeof value !== "string" || !value.startsWith("=")) return value;
  const parts = value.slice(1).split(/(\{\{[\s\S]*?\}\})/);
  const names = Object.keys(context);
  const values = parts.map((part) => {
    if (!part.startsWith("{{")) return part;
    // Test only: evaluates the workflow's own expressions, never outside input.
    return new Function(...names, `return (${part.slice(2, -2)});`)(...Object.values(context));
  });
  const single = values.length === 3 && values[0] === "" && values[2] === "";
  return single ? values[1] : values.join("");
}

describe("n8n workflow files", () => {
  for (const workflow of [forwarder, mailer]) {
    it(`${workflow.name}: is a valid n8n workflow whose connections name existing nodes`, () => {
      assert.match(workflow.id, /^[A-Za-z0-9]{16}$/);
      assert.equal(workflow.settings.executionOrder, "v1");
      const names = new Set(workflow.nodes.map((n) => n.name));
      const ids = new Set(workflow.nodes.map((n) => n.id));
      assert.equal(names.size, workflow.nodes.length, "unique node names");
      assert.equal(ids.size, workflow.nodes.length, "unique node ids");
      for (const n of workflow.nodes) {
        assert.match(n.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.match(n.type, /^n8n-nodes-base\.[A-Za-z]+$/);
        assert.equal(typeof n.typeVersion, "number");
        assert.ok(n.position.length === 2 && n.position.every(Number.isFinite));
        assert.equal(typeof n.parameters, "object");
        for (const credential of Object.values(n.credentials ?? {})) {
          assert.ok(
            readme.includes(credential.name),
            `README names credential « ${credential.name} »`,
          );
        }
      }
      const reached = new Set<string>();
      for (const [from, outputs] of Object.entries(workflow.connections)) {
        assert.ok(names.has(from), `connection from unknown node ${from}`);
        for (const connection of outputs.main.flat()) {
          assert.ok(names.has(connection.node), `connection to unknown node ${connection.node}`);
          assert.equal(connection.type, "main");
          assert.equal(connection.index, 0);
          reached.add(connection.node);
        }
      }
      const triggers = workflow.nodes.filter((n) => n.type === "n8n-nodes-base.webhook");
      assert.equal(triggers.length, 1);
      for (const n of workflow.nodes) {
        if (n !== triggers[0]) assert.ok(reached.has(n.name), `${n.name} is reachable`);
      }
    });
  }
});

describe("n8n (a): Grist → relay forwarder", () => {
  const SECRET = "secret-du-webhook-du-relais-0123";
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { WEBHOOK_SECRET: SECRET } });
  });
  after(() => relay.close());

  const webhook = node(forwarder, "n8n-nodes-base.webhook");
  const http = node(forwarder, "n8n-nodes-base.httpRequest");

  /** The request the HTTP Request node sends for an incoming Grist call, as n8n builds it. */
  function replay(query: Record<string, string>, rows: unknown[], authorization: string) {
    const context = { $env: { RELAY_URL: relay.url }, $json: { query, body: rows } };
    const url = String(evaluate(http.parameters.url, context));
    const body = evaluate(http.parameters.jsonBody, context);
    return {
      url,
      response: fetch(url, {
        method: String(http.parameters.method),
        // httpHeaderAuth credential as the README has it created: name Authorization.
        headers: { Authorization: authorization, "Content-Type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    };
  }

  it("receives Grist's POST and answers through Respond to Webhook nodes", () => {
    assert.equal(webhook.parameters.httpMethod, "POST");
    assert.equal(webhook.parameters.responseMode, "responseNode");
    assert.equal(webhook.parameters.authentication, "headerAuth");
    assert.ok(webhook.credentials?.httpHeaderAuth);
  });

  it("forwards the body unchanged to POST /webhooks/grist with the Authorization header", async () => {
    assert.equal(http.parameters.method, "POST");
    assert.equal(http.parameters.genericAuthType, "httpHeaderAuth");
    assert.ok(http.credentials?.httpHeaderAuth);
    assert.match(
      readme,
      /« Relais grist-realtime \(Authorization\) » : nom `Authorization`, valeur\s+`Bearer <WEBHOOK_SECRET du relais>`/,
    );
    const { url, response } = replay(
      { event: "add" },
      [gristRow(1), gristRow(2)],
      `Bearer ${SECRET}`,
    );
    assert.equal(url, `${relay.url}/webhooks/grist?event=add`);
    const answer = await response;
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { received: 2, events: 2 });
    assert.equal(replay({}, [], "x").url, `${relay.url}/webhooks/grist`);
    await replay({}, [], "x").response;
  });

  it("lets a relay refusal fail the node so that Grist gets a non-2xx and retries", async () => {
    const refused = await replay({ event: "update" }, [gristRow(3)], "Bearer wrong-secret")
      .response;
    assert.equal(refused.status, 401);
    const options = JSON.stringify(http.parameters.options ?? {});
    assert.doesNotMatch(options, /neverError/, "« Never Error » stays off");
    assert.equal(http.onError, "continueErrorOutput");
    const [ok] = targets(forwarder, http.name, 0);
    const [failed] = targets(forwarder, http.name, 1);
    assert.equal(ok?.type, "n8n-nodes-base.respondToWebhook");
    assert.equal(responseCode(ok), 200);
    assert.equal(failed?.type, "n8n-nodes-base.respondToWebhook");
    const code = responseCode(failed);
    assert.ok(code >= 500 && code <= 599, `error branch answers ${code}`);
  });
});

describe("n8n (b): relay alert → e-mail", () => {
  const SECRET = "secret-partage-relais-n8n-0123456789";
  const webhook = node(mailer, "n8n-nodes-base.webhook");
  const code = node(mailer, "n8n-nodes-base.code");
  const email = node(mailer, "n8n-nodes-base.emailSend");
  const jsCode = String(code.parameters.jsCode);

  const payload: AlertPayload = {
    v: 1,
    rule: "urgence",
    eventId: "42",
    reference: "INT-042",
    txnId: "t",
    message: {
      title: "🚨 Intervention urgente : INT-042",
      text: "🚨 Intervention urgente : INT-042\nPriorité : Haute → Urgente",
      html: "<p><strong>🚨 Intervention urgente : INT-042</strong></p>",
      link: null,
    },
    event: { id: "42", type: "record.updated" },
  };

  /** Runs the Code node as n8n does: async body, `$input`, `$env`, `this.helpers`, `require`. */
  async function runCode(headers: Record<string, string>, raw: string, secret = SECRET) {
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    const run = new AsyncFunction("$input", "$env", "require", jsCode);
    const context = {
      helpers: {
        getBinaryDataBuffer: async (index: number, property: string) => {
          assert.deepEqual([index, property], [0, "data"]);
          return Buffer.from(raw, "utf8");
        },
      },
    };
    // NODE_FUNCTION_ALLOW_BUILTIN=crypto: the only module the node may load.
    const requireCrypto = (name: string) => {
      assert.equal(name, "crypto");
      return crypto;
    };
    return run.call(
      context,
      { first: () => ({ json: { headers, body: JSON.parse(raw) } }) },
      { GRIST_REALTIME_ALERT_SECRET: secret },
      requireCrypto,
    );
  }

  function signedHeaders(raw: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) {
    return {
      [TIMESTAMP_HEADER.toLowerCase()]: String(timestamp),
      [SIGNATURE_HEADER.toLowerCase()]: signBody(secret, String(timestamp), raw),
      [DELIVERY_HEADER.toLowerCase()]: "42:n8n-courriel",
    };
  }

  it("keeps the raw body and reads the relay's header names", () => {
    assert.equal(webhook.parameters.httpMethod, "POST");
    assert.equal((webhook.parameters.options as { rawBody: boolean }).rawBody, true);
    for (const header of [TIMESTAMP_HEADER, SIGNATURE_HEADER, DELIVERY_HEADER]) {
      assert.ok(jsCode.includes(`'${header.toLowerCase()}'`), header);
    }
  });

  it("accepts an alert signed by the relay with the shared secret and mails its text", async () => {
    const raw = webhookBody("42:n8n-courriel", payload);
    const [item] = await runCode(signedHeaders(raw, SECRET), raw);
    assert.equal(item.json.delivery, "42:n8n-courriel");
    assert.equal(item.json.type, "grist-realtime.alert");
    const context = { $json: item.json };
    assert.equal(evaluate(email.parameters.subject, context), payload.message.title);
    assert.equal(evaluate(email.parameters.text, context), payload.message.text);
    assert.equal(evaluate(email.parameters.html, context), payload.message.html);
    const [done] = targets(mailer, email.name, 0);
    assert.equal(responseCode(done), 200);
  });

  it("refuses a signature made with another secret, a tampered body and a stale timestamp", async () => {
    const raw = webhookBody("42:n8n-courriel", payload);
    await assert.rejects(
      runCode(signedHeaders(raw, "un-autre-secret-0123456789"), raw),
      /signature invalide/,
    );
    await assert.rejects(
      runCode(signedHeaders(raw, SECRET), raw.replace("urgence", "Urgence")),
      /signature invalide/,
    );
    const stale = Math.floor(Date.now() / 1000) - 600;
    await assert.rejects(runCode(signedHeaders(raw, SECRET, stale), raw), /horodatage/);
    assert.equal(code.onError, "continueErrorOutput");
    const [refuse] = targets(mailer, code.name, 1);
    assert.equal(responseCode(refuse), 401);
  });

  it("asks the relay to retry when the e-mail cannot be sent", () => {
    assert.equal(email.onError, "continueErrorOutput");
    const [retry] = targets(mailer, email.name, 1);
    assert.equal(responseCode(retry), 503);
  });
});
