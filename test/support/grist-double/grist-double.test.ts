/**
 * The double must behave like the real Grist captured in ../shared/fixtures/grist (values are
 * copied here from those captures, file named next to each one).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type GristDouble,
  isWebhookUrlAllowed,
  startGristDouble,
  startWebhookRecorder,
  type WebhookRecorder,
} from "./grist-double.ts";

const DOC = "6GsDJ8W4vfBshdYqEMXKPk";
const OWNER = "owner-key";
const EDITOR = "editor-key";

// table_columns_as_created.json: the request that created the fixture's table.
const FIXTURE_COLUMNS = [
  { id: "ID", fields: { label: "ID", type: "Text" } },
  { id: "Agent", fields: { label: "Agent", type: "Text" } },
  { id: "Localisation", fields: { label: "Localisation", type: "Text" } },
  {
    id: "Type",
    fields: {
      label: "Type",
      type: "Choice",
      widgetOptions: '{"choices": ["Maintenance", "Reparation", "Inspection"]}',
    },
  },
  {
    id: "Statut",
    fields: {
      label: "Statut",
      type: "Choice",
      widgetOptions: '{"choices": ["A faire", "En cours", "Termine"]}',
    },
  },
  {
    id: "Priorite",
    fields: {
      label: "Priorite",
      type: "Choice",
      widgetOptions: '{"choices": ["Basse", "Normale", "Haute", "Urgente"]}',
    },
  },
  { id: "Derniere_MAJ", fields: { label: "Derniere_MAJ", type: "DateTime:Europe/Paris" } },
  { id: "Commentaire", fields: { label: "Commentaire", type: "Text" } },
];

// Header names in the order Grist sent them (add_single.json, /hook/all then /hook/add).
const HEADERS_WITH_AUTH = [
  "Content-Type",
  "Authorization",
  "Accept",
  "Content-Length",
  "User-Agent",
  "Accept-Encoding",
  "Connection",
  "Host",
];

async function api(grist: GristDouble, method: string, path: string, body?: unknown, key = OWNER) {
  const response = await fetch(`${grist.url}/api/docs/${DOC}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

describe("Grist double, compared with the captures", () => {
  let grist: GristDouble;
  let hooks: WebhookRecorder;

  before(async () => {
    hooks = await startWebhookRecorder();
    const port = new URL(hooks.url).port;
    grist = await startGristDouble({
      apiKeys: [OWNER, EDITOR],
      docs: [{ id: DOC, access: { [OWNER]: "owners", [EDITOR]: "editors" } }],
      allowedWebhookDomains: `localhost:${port}`,
      waitDelayMs: 1,
    });
    const created = await api(grist, "POST", "/tables", {
      tables: [{ id: "Interventions", columns: FIXTURE_COLUMNS }],
    });
    assert.deepEqual(created.body, { tables: [{ id: "Interventions" }] });
    // webhooks_created.json
    const webhooks = await api(grist, "POST", "/webhooks", {
      webhooks: [
        {
          fields: {
            url: `${hooks.url}/hook/all`,
            eventTypes: ["add", "update"],
            tableId: "Interventions",
            enabled: true,
            name: "all",
            memo: "add+update",
            authorization: "Bearer test-webhook-secret",
          },
        },
        {
          fields: {
            url: `${hooks.url}/hook/add`,
            eventTypes: ["add"],
            tableId: "Interventions",
            enabled: true,
            name: "addonly",
          },
        },
        {
          fields: {
            url: `${hooks.url}/hook/update`,
            eventTypes: ["update"],
            tableId: "Interventions",
            enabled: true,
            name: "updateonly",
          },
        },
      ],
    });
    assert.equal(webhooks.status, 200);
  });

  after(async () => {
    await grist.close();
    await hooks.close();
  });

  it("renames the ID column to ID2 and keeps Choice widgetOptions as a JSON string", async () => {
    const { body } = await api(grist, "GET", "/tables/Interventions/columns");
    const columns = body.columns as Array<{ id: string; fields: Record<string, unknown> }>;
    assert.deepEqual(
      columns.map((c) => c.id),
      ["ID2", "Agent", "Localisation", "Type", "Statut", "Priorite", "Derniere_MAJ", "Commentaire"],
    );
    assert.equal(columns[0]?.fields.label, "ID");
    assert.equal(
      columns[3]?.fields.widgetOptions,
      '{"choices": ["Maintenance", "Reparation", "Inspection"]}',
    );
    assert.equal(columns[6]?.fields.type, "DateTime:Europe/Paris");
    assert.equal(columns[1]?.fields.widgetOptions, "");
  });

  it("lists webhooks with the stored fields and the authorization in clear", async () => {
    const { body } = await api(grist, "GET", "/webhooks");
    const first = body.webhooks[0];
    assert.deepEqual(Object.keys(first.fields), [
      "url",
      "authorization",
      "unsubscribeKey",
      "eventTypes",
      "isReadyColumn",
      "watchedColIds",
      "tableId",
      "enabled",
      "name",
      "memo",
    ]);
    assert.equal(first.fields.authorization, "Bearer test-webhook-secret");
    assert.equal(body.webhooks[1].fields.authorization, "");
    assert.equal(body.webhooks[1].fields.memo, "");
  });

  it("sends one flat-row POST per matching webhook, with Grist's headers in order", async () => {
    hooks.requests.length = 0;
    // add_single.json
    const added = await api(grist, "POST", "/tables/Interventions/records", {
      records: [
        {
          fields: {
            ID2: "INT-001",
            Agent: "Alice Martin",
            Localisation: "Batiment A, salle 12",
            Type: "Maintenance",
            Statut: "A faire",
            Priorite: "Haute",
            Derniere_MAJ: 1795478400,
            Commentaire: "Premier passage",
          },
        },
      ],
    });
    assert.deepEqual(added.body, { records: [{ id: 1 }] });
    const [all, add] = await hooks.waitFor(2);
    await grist.whenIdle();
    assert.equal(hooks.requests.length, 2, "the update-only webhook stays silent on an add");
    assert.equal(all?.path, "/hook/all");
    assert.equal(add?.path, "/hook/add");
    assert.equal(
      all?.body,
      '[{"id":1,"manualSort":1,"ID2":"INT-001","Agent":"Alice Martin","Localisation":"Batiment A, salle 12","Type":"Maintenance","Statut":"A faire","Priorite":"Haute","Derniere_MAJ":1795478400,"Commentaire":"Premier passage"}]',
    );
    assert.deepEqual(
      all?.headers.map(([name]) => name),
      HEADERS_WITH_AUTH,
    );
    assert.deepEqual(
      add?.headers.map(([name]) => name),
      HEADERS_WITH_AUTH.filter((h) => h !== "Authorization"),
    );
    const header = (name: string) => all?.headers.find(([n]) => n === name)?.[1];
    assert.equal(header("Authorization"), "Bearer test-webhook-secret");
    assert.equal(header("User-Agent"), "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)");
    assert.equal(header("Connection"), "close");
  });

  it("fills a field missing from some records of a batch with null, as captured", async () => {
    hooks.requests.length = 0;
    // add_multi.json
    await api(grist, "POST", "/tables/Interventions/records", {
      records: [
        {
          fields: {
            ID2: "INT-002",
            Agent: "Bob Durand",
            Localisation: "Batiment B",
            Type: "Reparation",
            Statut: "A faire",
            Priorite: "Normale",
            Derniere_MAJ: 1795478460,
            Commentaire: "",
          },
        },
        {
          fields: {
            ID2: "INT-003",
            Agent: "Chloe Petit",
            Localisation: "Parking",
            Type: "Inspection",
            Statut: "A faire",
            Priorite: "Basse",
            Derniere_MAJ: 1795478520,
          },
        },
        {
          fields: {
            ID2: "INT-004",
            Agent: "Alice Martin",
            Localisation: "Batiment C",
            Type: "Maintenance",
            Statut: "A faire",
            Priorite: "Urgente",
          },
        },
      ],
    });
    const [all] = await hooks.waitFor(2);
    assert.equal(
      all?.body,
      '[{"id":2,"manualSort":2,"ID2":"INT-002","Agent":"Bob Durand","Localisation":"Batiment B","Type":"Reparation","Statut":"A faire","Priorite":"Normale","Derniere_MAJ":1795478460,"Commentaire":""},{"id":3,"manualSort":3,"ID2":"INT-003","Agent":"Chloe Petit","Localisation":"Parking","Type":"Inspection","Statut":"A faire","Priorite":"Basse","Derniere_MAJ":1795478520,"Commentaire":null},{"id":4,"manualSort":4,"ID2":"INT-004","Agent":"Alice Martin","Localisation":"Batiment C","Type":"Maintenance","Statut":"A faire","Priorite":"Urgente","Derniere_MAJ":null,"Commentaire":null}]',
    );
    await grist.whenIdle();
  });

  it("refuses a PATCH whose records set different fields, and sends nothing", async () => {
    hooks.requests.length = 0;
    // update_multi_mixed_fields_rejected.json
    const rejected = await api(grist, "PATCH", "/tables/Interventions/records", {
      records: [
        { id: 2, fields: { Statut: "En cours", Derniere_MAJ: 1795485600 } },
        { id: 3, fields: { Statut: "Termine", Commentaire: "RAS" } },
        { id: 4, fields: { Priorite: "Haute" } },
      ],
    });
    assert.equal(rejected.status, 400);
    assert.deepEqual(rejected.body, { error: "PATCH requires all records to have same fields" });
    await grist.whenIdle();
    assert.equal(hooks.requests.length, 0);
  });

  it("sends updates to update webhooks only, with the whole row after the change", async () => {
    hooks.requests.length = 0;
    // update_choice_not_in_list_and_nulls.json: a Choice outside the list is accepted as is.
    const patched = await api(grist, "PATCH", "/tables/Interventions/records", {
      records: [{ id: 1, fields: { Statut: "Annule", Derniere_MAJ: null, Commentaire: null } }],
    });
    assert.deepEqual(patched, { status: 200, body: null });
    const received = await hooks.waitFor(2);
    await grist.whenIdle();
    assert.deepEqual(
      received.map((r) => r.path),
      ["/hook/all", "/hook/update"],
    );
    assert.equal(
      received[1]?.body,
      '[{"id":1,"manualSort":1,"ID2":"INT-001","Agent":"Alice Martin","Localisation":"Batiment A, salle 12","Type":"Maintenance","Statut":"Annule","Priorite":"Haute","Derniere_MAJ":null,"Commentaire":null}]',
    );
  });

  it("refuses writes to the label ID, which is not a column id", async () => {
    const refused = await api(grist, "POST", "/tables/Interventions/records", {
      records: [{ fields: { ID: "INT-009" } }],
    });
    assert.deepEqual(refused, { status: 400, body: { error: 'Invalid column "ID"' } });
  });

  it("strips manualSort from REST reads unless hidden=true", async () => {
    const { body } = await api(grist, "GET", "/tables/Interventions/records?limit=1");
    assert.equal(body.records.length, 1);
    assert.equal(body.records[0].id, 1);
    assert.equal("manualSort" in body.records[0].fields, false);
    assert.equal(body.records[0].fields.ID2, "INT-001");
    const hidden = await api(grist, "GET", "/tables/Interventions/records?hidden=true&limit=1");
    assert.equal(hidden.body.records[0].fields.manualSort, 1);
  });

  it("sends nothing when a row is deleted: Grist has no delete event", async () => {
    hooks.requests.length = 0;
    const deleted = await api(grist, "POST", "/tables/Interventions/records/delete", [4]);
    assert.equal(deleted.status, 200);
    grist.deleteRow(DOC, "Interventions", 3);
    await grist.whenIdle();
    assert.equal(hooks.requests.length, 0);
    assert.deepEqual(
      grist.rows(DOC, "Interventions").map((r) => r.id),
      [1, 2],
    );
  });

  it("answers Grist's errors for a bad key, a non-owner and an unknown document", async () => {
    assert.deepEqual(await api(grist, "GET", "/tables", undefined, "nope"), {
      status: 401,
      body: { error: "Bad request: invalid API key" },
    });
    assert.deepEqual(await api(grist, "GET", "/webhooks", undefined, EDITOR), {
      status: 403,
      body: { error: "No owner access" },
    });
    assert.equal((await api(grist, "GET", "/tables", undefined, EDITOR)).status, 200);
    const missing = await fetch(`${grist.url}/api/docs/unknown/tables`, {
      headers: { Authorization: `Bearer ${OWNER}` },
    });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: "document not found" });
  });

  it("refuses a webhook URL outside ALLOWED_WEBHOOK_DOMAINS", async () => {
    const refused = await api(grist, "POST", "/webhooks", {
      webhooks: [
        {
          fields: { url: "https://evil.example/x", eventTypes: ["add"], tableId: "Interventions" },
        },
      ],
    });
    assert.deepEqual(refused, { status: 403, body: { error: "Provided url is forbidden" } });
    const badType = await api(grist, "POST", "/webhooks", {
      webhooks: [
        { fields: { url: `${hooks.url}/x`, eventTypes: ["remove"], tableId: "Interventions" } },
      ],
    });
    assert.deepEqual(badType.body, { error: 'eventTypes[0] is none of "add", "update"' });
  });
});

describe("Grist double, webhook delivery", () => {
  it("batches at most 100 rows per POST", async () => {
    const hooks = await startWebhookRecorder();
    const grist = await startGristDouble({
      apiKeys: [OWNER],
      docs: [{ id: DOC, access: { [OWNER]: "owners" } }],
      allowedWebhookDomains: "*",
      waitDelayMs: 1,
    });
    try {
      grist.createTable(DOC, "T", [{ id: "A", type: "Int" }]);
      await api(grist, "POST", "/webhooks", {
        webhooks: [{ fields: { url: hooks.url, eventTypes: ["add"], tableId: "T" } }],
      });
      grist.addRows(
        DOC,
        "T",
        Array.from({ length: 150 }, (_, i) => ({ A: i })),
      );
      const posts = await hooks.waitFor(2);
      assert.deepEqual(
        posts.map((p) => JSON.parse(p.body).length),
        [100, 50],
      );
    } finally {
      await grist.close();
      await hooks.close();
    }
  });

  it("retries a failing endpoint and holds every other webhook of the document meanwhile", async () => {
    // First three POSTs to /slow fail: Grist retries inline, so /fast waits behind them.
    const hooks = await startWebhookRecorder((request, index) =>
      request.path === "/slow" && index < 3 ? 500 : 200,
    );
    const grist = await startGristDouble({
      apiKeys: [OWNER],
      docs: [{ id: DOC, access: { [OWNER]: "owners" } }],
      allowedWebhookDomains: "*",
      waitDelayMs: 1,
    });
    try {
      grist.createTable(DOC, "T", [{ id: "A", type: "Int" }]);
      await api(grist, "POST", "/webhooks", {
        webhooks: [
          { fields: { url: `${hooks.url}/slow`, eventTypes: ["add"], tableId: "T" } },
          { fields: { url: `${hooks.url}/fast`, eventTypes: ["add"], tableId: "T" } },
        ],
      });
      grist.addRows(DOC, "T", [{ A: 1 }]);
      const posts = await hooks.waitFor(5);
      await grist.whenIdle();
      assert.deepEqual(
        posts.map((p) => p.path),
        ["/slow", "/slow", "/slow", "/slow", "/fast"],
      );
      assert.deepEqual(
        grist.deliveries.map((d) => [d.attempt, d.outcome]),
        [
          [1, "failure"],
          [2, "failure"],
          [3, "failure"],
          [4, "success"],
          [1, "success"],
        ],
      );
    } finally {
      await grist.close();
      await hooks.close();
    }
  });

  it("loses the next batch when told to, as Grist's in-memory queue can", async () => {
    const hooks = await startWebhookRecorder();
    const grist = await startGristDouble({
      apiKeys: [OWNER],
      docs: [{ id: DOC, access: { [OWNER]: "owners" } }],
      allowedWebhookDomains: "*",
      waitDelayMs: 1,
    });
    try {
      grist.createTable(DOC, "T", [{ id: "A", type: "Int" }]);
      await api(grist, "POST", "/webhooks", {
        webhooks: [{ fields: { url: hooks.url, eventTypes: ["add", "update"], tableId: "T" } }],
      });
      grist.dropNextDeliveries(1);
      const [id] = grist.addRows(DOC, "T", [{ A: 1 }]);
      await grist.whenIdle();
      grist.updateRow(DOC, "T", id ?? 0, { A: 2 });
      grist.updateRow(DOC, "T", id ?? 0, { A: 2 }); // no change: no event
      await grist.whenIdle();
      assert.deepEqual(
        hooks.requests.map((r) => JSON.parse(r.body)[0].A),
        [2],
      );
      assert.deepEqual(
        grist.deliveries.map((d) => d.outcome),
        ["dropped", "success"],
      );
    } finally {
      await grist.close();
      await hooks.close();
    }
  });
});

describe("Grist double, access tokens", () => {
  let grist: GristDouble;
  const OTHER = "OtherDocument0000000000";

  before(async () => {
    grist = await startGristDouble({
      apiKeys: [OWNER],
      docs: [
        { id: DOC, access: { [OWNER]: "owners" } },
        { id: OTHER, access: { [OWNER]: "owners" } },
      ],
    });
    grist.createTable(DOC, "Interventions", [{ id: "A", type: "Text" }]);
    grist.createTable(OTHER, "Interventions", [{ id: "A", type: "Text" }]);
  });
  after(() => grist.close());

  const read = async (docId: string, token: string) =>
    fetch(`${grist.url}/api/docs/${docId}/tables/Interventions/records?limit=1&auth=${token}`);

  it("gives a base URL with the short document id, as getAccessToken does", () => {
    const { baseUrl, ttlMsecs } = grist.mintAccessToken(DOC, OWNER, { readOnly: true });
    assert.equal(baseUrl, `${grist.url}/api/docs/6GsDJ8W4vfBs`);
    assert.equal(ttlMsecs, 900_000);
  });

  it("accepts a token on its own document, by id or short id", async () => {
    const { token } = grist.mintAccessToken(DOC, OWNER, { readOnly: true });
    assert.equal((await read(DOC, token)).status, 200);
    assert.equal((await read("6GsDJ8W4vfBs", token)).status, 200);
  });

  it("refuses a token on another document with 401 token misuse", async () => {
    const { token } = grist.mintAccessToken(OTHER, OWNER);
    const response = await read(DOC, token);
    assert.equal(response.status, 401);
    assert.deepEqual(await response.json(), { error: "token misuse" });
  });

  it("refuses a forged, a broken and an expired token", async () => {
    const { token } = grist.mintAccessToken(DOC, OWNER);
    const forged = `${token.slice(0, -4)}AAAA`;
    assert.deepEqual(await (await read(DOC, forged)).json(), { error: "Cannot verify token" });
    assert.deepEqual(await (await read(DOC, "garbage")).json(), { error: "Broken token" });
    const expired = grist.mintAccessToken(DOC, OWNER, { ttlMs: -1000 }).token;
    assert.deepEqual(await (await read(DOC, expired)).json(), { error: "Token has expired" });
  });

  it("makes a read-only token unable to write", async () => {
    const { token } = grist.mintAccessToken(DOC, OWNER, { readOnly: true });
    const response = await fetch(
      `${grist.url}/api/docs/${DOC}/tables/Interventions/records?auth=${token}`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ records: [{ fields: { A: "x" } }] }),
      },
    );
    assert.equal(response.status, 403);
    assert.deepEqual(await response.json(), { error: "No write access" });
  });
});

describe("isWebhookUrlAllowed", () => {
  it("matches the host with its port, exactly or as a parent domain", () => {
    assert.equal(isWebhookUrlAllowed("https://relay.example.fr/x", "example.fr"), true);
    assert.equal(isWebhookUrlAllowed("https://relay.example.fr:8443/x", "example.fr"), false);
    assert.equal(
      isWebhookUrlAllowed("https://relay.example.fr:8443/x", "relay.example.fr:8443"),
      true,
    );
    assert.equal(isWebhookUrlAllowed("http://localhost:3000/x", "localhost"), false);
    assert.equal(isWebhookUrlAllowed("http://localhost:3000/x", "localhost:3000"), true);
  });

  it("allows plain http only for localhost, unless the setting is *", () => {
    assert.equal(isWebhookUrlAllowed("http://127.0.0.1:3000/x", "127.0.0.1:3000"), false);
    assert.equal(isWebhookUrlAllowed("http://relay.lan:3000/x", "relay.lan:3000"), false);
    assert.equal(isWebhookUrlAllowed("http://relay.lan:3000/x", "*"), true);
    assert.equal(isWebhookUrlAllowed("ftp://relay.lan/x", "*"), false);
  });

  it("allows nothing when unset", () => {
    assert.equal(isWebhookUrlAllowed("https://relay.example.fr/x", undefined), false);
    assert.equal(isWebhookUrlAllowed("https://relay.example.fr/x", ""), false);
  });
});
