/**
 * The double must behave like the real Grist captured in test/fixtures/grist: the first suite
 * replays the captures themselves (requests, answers, webhook bodies and headers, error
 * shapes); the others check behaviours the project's Grist reference describes.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CAPTURE_RECEIVER, type CapturedPost, capturedWrites, readCapture } from "./captures.ts";
import {
  type GristDouble,
  isWebhookUrlAllowed,
  type RecordedRequest,
  startGristDouble,
  startWebhookRecorder,
  type WebhookRecorder,
} from "./grist-double.ts";

const DOC = "6GsDJ8W4vfBshdYqEMXKPk";
const OWNER = "owner-key";
const EDITOR = "editor-key";

async function api(grist: GristDouble, method: string, path: string, body?: unknown, key = OWNER) {
  const response = await fetch(`${grist.url}/api/docs/${DOC}${path}`, {
    method,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

interface ColumnsCapture {
  request_columns: Array<{ id: string; fields: Record<string, unknown> }>;
  create_response: unknown;
  GET_columns: { columns: Array<{ id: string; fields: Record<string, unknown> }> };
}
interface Webhook {
  id: string;
  fields: Record<string, unknown>;
}
interface WebhooksCapture {
  request: { webhooks: Array<{ fields: Record<string, unknown> }> };
  response_status: number;
  GET_webhooks: { webhooks: Webhook[] };
}

const columnsCapture = readCapture<ColumnsCapture>("table_columns_as_created.json");
const webhooksCapture = readCapture<WebhooksCapture>("webhooks_created.json");

/** A double with the captured table and webhooks, the captures' receiver replaced by ours. */
async function capturedSetup(): Promise<{ grist: GristDouble; hooks: WebhookRecorder }> {
  const hooks = await startWebhookRecorder();
  const grist = await startGristDouble({
    apiKeys: [OWNER, EDITOR],
    docs: [{ id: DOC, access: { [OWNER]: "owners", [EDITOR]: "editors" } }],
    allowedWebhookDomains: new URL(hooks.url).host,
    waitDelayMs: 1,
  });
  const created = await api(grist, "POST", "/tables", {
    tables: [{ id: "Interventions", columns: columnsCapture.request_columns }],
  });
  assert.deepEqual(created.body, columnsCapture.create_response);
  const webhooks = await api(
    grist,
    "POST",
    "/webhooks",
    JSON.parse(JSON.stringify(webhooksCapture.request).replaceAll(CAPTURE_RECEIVER, hooks.url)),
  );
  assert.equal(webhooks.status, webhooksCapture.response_status);
  return { grist, hooks };
}

/** What must match in a webhook POST: path, body byte for byte, header names in order, values. */
function comparable(post: CapturedPost | RecordedRequest) {
  return {
    path: post.path,
    body: "raw_body" in post ? post.raw_body : post.body,
    // Host names the receiver, which differs by design.
    headers: post.headers.map(([name, value]) => [name, name === "Host" ? "<receiver>" : value]),
  };
}

describe("Grist double, compared with the captures", () => {
  let grist: GristDouble;
  let hooks: WebhookRecorder;

  before(async () => {
    ({ grist, hooks } = await capturedSetup());
  });
  after(async () => {
    await grist.close();
    await hooks.close();
  });

  it("answers GET columns as captured: ID renamed ID2, the same fields, widgetOptions as a string", async () => {
    const { body } = await api(grist, "GET", "/tables/Interventions/columns");
    const { columns } = body as ColumnsCapture["GET_columns"];
    const captured = columnsCapture.GET_columns.columns;
    assert.deepEqual(
      columns.map((c) => c.id),
      captured.map((c) => c.id),
    );
    for (const [index, column] of columns.entries()) {
      const expected = captured[index] as (typeof captured)[number];
      assert.deepEqual(Object.keys(column.fields), Object.keys(expected.fields), column.id);
      // colRef, parentId and parentPos number Grist's metadata rows: they depend on the
      // document's history (the captured table had columns before these); order is checked above.
      const { colRef: _c, parentId: _p, parentPos: _pp, ...fields } = column.fields;
      const { colRef: _ec, parentId: _ep, parentPos: _epp, ...wanted } = expected.fields;
      assert.deepEqual(fields, wanted, column.id);
    }
  });

  it("lists webhooks with the captured fields, in the captured order, authorization in clear", async () => {
    const { body } = await api(grist, "GET", "/webhooks");
    const listed = (body as { webhooks: Webhook[] }).webhooks;
    const captured = webhooksCapture.GET_webhooks.webhooks;
    assert.equal(listed.length, captured.length);
    for (const [index, webhook] of listed.entries()) {
      const expected = captured[index] as Webhook;
      assert.deepEqual(Object.keys(webhook.fields), Object.keys(expected.fields));
      // Unsubscribe keys are random; the URL names the receiver.
      const strip = ({ unsubscribeKey: _k, url: _u, ...rest }: Record<string, unknown>) => rest;
      assert.deepEqual(strip(webhook.fields), strip(expected.fields));
    }
  });

  it("replays every captured write: same answer, same webhook POSTs, bodies and headers", async () => {
    const writes = capturedWrites();
    assert.ok(writes.length >= 7, "the captures are found");
    for (const capture of writes) {
      hooks.requests.length = 0;
      const path = capture.request.path.replace(`/api/docs/${DOC}`, "");
      const answer = await api(grist, capture.request.method, path, capture.request.body);
      assert.deepEqual(
        answer,
        { status: capture.response_status, body: capture.response },
        capture.file,
      );
      await hooks.waitFor(capture.webhook_posts.length);
      await grist.whenIdle();
      // Webhooks send independently: compare per path, each path's POSTs in order.
      const byPath = (posts: Array<CapturedPost | RecordedRequest>) =>
        posts.map(comparable).sort((a, b) => a.path.localeCompare(b.path));
      assert.deepEqual(byPath(hooks.requests), byPath(capture.webhook_posts), capture.file);
    }
  });
});

describe("Grist double, beyond the captures", () => {
  let grist: GristDouble;
  let hooks: WebhookRecorder;

  before(async () => {
    ({ grist, hooks } = await capturedSetup());
  });
  after(async () => {
    await grist.close();
    await hooks.close();
  });

  it("refuses writes to the label ID, which is not a column id", async () => {
    const refused = await api(grist, "POST", "/tables/Interventions/records", {
      records: [{ fields: { ID: "INT-009" } }],
    });
    assert.deepEqual(refused, { status: 400, body: { error: 'Invalid column "ID"' } });
  });

  it("strips manualSort from REST reads unless hidden=true", async () => {
    const [id] = grist.addRows(DOC, "Interventions", [{ ID2: "INT-100" }]);
    const filter = encodeURIComponent(JSON.stringify({ id: [id] }));
    type Records = { records: Array<{ id: number; fields: Record<string, unknown> }> };
    const read = await api(grist, "GET", `/tables/Interventions/records?filter=${filter}`);
    const body = read.body as Records;
    assert.equal(body.records.length, 1);
    assert.equal(body.records[0]?.id, id);
    assert.equal("manualSort" in (body.records[0]?.fields ?? {}), false);
    assert.equal(body.records[0]?.fields.ID2, "INT-100");
    const hidden = await api(
      grist,
      "GET",
      `/tables/Interventions/records?hidden=true&filter=${filter}`,
    );
    assert.equal((hidden.body as Records).records[0]?.fields.manualSort, id);
  });

  it("sends nothing when a row is deleted: Grist has no delete event", async () => {
    const ids = grist.addRows(DOC, "Interventions", [{ ID2: "INT-201" }, { ID2: "INT-202" }]);
    await grist.whenIdle();
    const seen = hooks.requests.length;
    const deleted = await api(grist, "POST", "/tables/Interventions/records/delete", [ids[0]]);
    assert.equal(deleted.status, 200);
    grist.deleteRow(DOC, "Interventions", ids[1] as number);
    // Proof the send loop still runs after the deletes: a later add arrives, and alone.
    grist.addRows(DOC, "Interventions", [{ ID2: "INT-203" }]);
    await hooks.waitFor(seen + 2);
    await grist.whenIdle();
    const later = hooks.requests.slice(seen).map((r) => JSON.parse(r.body)[0].ID2);
    assert.deepEqual(
      later,
      ["INT-203", "INT-203"],
      "the add and add+update webhooks, nothing else",
    );
    assert.equal(
      grist.rows(DOC, "Interventions").some((r) => ids.includes(r.id as number)),
      false,
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
