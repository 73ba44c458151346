/**
 * The n8n workflow files, read without n8n: valid workflow JSON, consistent connections, the
 * relay's real route and header names, and no error output wired to an answer the relay or
 * Grist would take for success. What the workflows *do* (signature check, e-mail, answers,
 * execution status) is proven in a real n8n by `npm run test:n8n` (real-n8n.e2e.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from "../../src/alerts/outgoing-webhook.ts";

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

function node(workflow: N8nWorkflow, name: string): N8nNode {
  const found = workflow.nodes.find((n) => n.name === name);
  assert.ok(found, `${workflow.name}: node ${name}`);
  return found;
}

/** Names of the nodes output `output` of `from` leads to. */
function targets(workflow: N8nWorkflow, from: string, output: number): string[] {
  return (workflow.connections[from]?.main[output] ?? []).map((c) => c.node);
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
  it("calls the relay's real route with its Authorization header and reads every answer", () => {
    const http = node(forwarder, "Transmettre au relais");
    assert.match(String(http.parameters.url), /\/webhooks\/grist/);
    assert.equal(http.parameters.method, "POST");
    assert.equal(http.parameters.genericAuthType, "httpHeaderAuth");
    const response = (http.parameters.options as { response?: { response?: object } }).response;
    assert.deepEqual(response?.response, { fullResponse: true, neverError: true });
  });

  it("sends both the relay's answer and an unreachable relay to the translator, never straight to a reply", () => {
    for (const n of forwarder.nodes) {
      if (n.name !== "Transmettre au relais") assert.equal(n.onError, undefined, n.name);
    }
    assert.deepEqual(targets(forwarder, "Transmettre au relais", 0), [
      "Traduire la réponse du relais",
    ]);
    assert.deepEqual(targets(forwarder, "Transmettre au relais", 1), [
      "Traduire la réponse du relais",
    ]);
    assert.deepEqual(targets(forwarder, "Lot accepté ?", 1), ["Échec : lot non accepté"]);
  });
});

describe("n8n (b): relay alert → e-mail", () => {
  it("keeps the raw body and reads the relay's header names", () => {
    const webhook = node(mailer, "Webhook alerte du relais");
    assert.equal((webhook.parameters.options as { rawBody?: boolean }).rawBody, true);
    const code = String(node(mailer, "Vérifier la signature").parameters.jsCode);
    for (const header of [TIMESTAMP_HEADER, SIGNATURE_HEADER, DELIVERY_HEADER]) {
      assert.ok(code.includes(header.toLowerCase()), header);
    }
  });

  it("has no error output: a configuration or SMTP failure fails the execution (500)", () => {
    for (const n of mailer.nodes) assert.equal(n.onError, undefined, n.name);
    assert.deepEqual(targets(mailer, "Envoyer le courriel", 0), ["Mémoriser la livraison"]);
    assert.equal(targets(mailer, "Envoyer le courriel", 1).length, 0);
  });

  it("remembers a delivery id only after its e-mail left", () => {
    const remember = String(node(mailer, "Mémoriser la livraison").parameters.jsCode);
    assert.match(remember, /\$getWorkflowStaticData\('global'\)/);
    const verify = String(node(mailer, "Vérifier la signature").parameters.jsCode);
    assert.ok(!/livraisons\s*=/.test(verify), "the check only reads the ids");
  });
});
