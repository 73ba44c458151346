import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import {
  classifyGristError,
  GristApiError,
  GristClient,
  type GristClientOptions,
} from "./rest-client.ts";

const DOC = "docRestClient0000000001";
const OWNER = "owner-key-secret-123";
const EDITOR = "editor-key";

describe("GristClient", () => {
  let grist: GristDouble;
  const client = (overrides: Partial<GristClientOptions> = {}) =>
    new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: OWNER },
      sleep: async () => {},
      ...overrides,
    });

  before(async () => {
    grist = await startGristDouble({
      apiKeys: [OWNER, EDITOR],
      docs: [{ id: DOC, access: { [OWNER]: "owners", [EDITOR]: "editors" } }],
      allowedWebhookDomains: "relay.example.fr",
    });
    grist.createTable(DOC, "Interventions", [
      { id: "Statut", type: "Choice" },
      { id: "Commentaire", type: "Text" },
    ]);
  });
  after(() => grist.close());

  it("reads and writes records with an API key", async () => {
    const ids = await client().addRecords("Interventions", [
      { Statut: "En cours" },
      { Statut: "Bloqué" },
    ]);
    const records = await client().fetchRecords("Interventions");
    assert.deepEqual(
      records.filter((r) => ids.includes(r.id)).map((r) => r.fields.Statut),
      ["En cours", "Bloqué"],
    );
  });

  it("splits a PATCH whose records set different fields, which Grist would refuse", async () => {
    const [a = 0, b = 0] = await client().addRecords("Interventions", [
      { Statut: "En attente" },
      { Statut: "En attente" },
    ]);
    await client().updateRecords("Interventions", [
      { id: a, fields: { Statut: "Terminé" } },
      { id: b, fields: { Commentaire: "RAS" } },
    ]);
    const records = await client().fetchRecords("Interventions", { filter: { id: [a, b] } });
    assert.deepEqual(
      records.map((r) => [r.fields.Statut, r.fields.Commentaire]),
      [
        ["Terminé", ""],
        ["En attente", "RAS"],
      ],
    );
  });

  it("authenticates with an access token in the query string", async () => {
    // A row of its own: the test reads it whether or not the others ran before.
    const [id = 0] = await client().addRecords("Interventions", [{ Statut: "En attente" }]);
    const { token } = grist.mintAccessToken(DOC, OWNER, { readOnly: true });
    const records = await client({ auth: { kind: "accessToken", token } }).fetchRecords(
      "Interventions",
      { filter: { id: [id] } },
    );
    assert.deepEqual(
      records.map((r) => r.fields.Statut),
      ["En attente"],
    );
  });

  it("keeps at most 10 requests in flight on one document", async () => {
    const release = grist.pauseRequests();
    const shared = client();
    const calls = Array.from({ length: 25 }, () => shared.listTables());
    while (grist.inFlight(DOC) < 10) await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all(calls);
    assert.equal(grist.peakInFlight, 10);
    assert.equal(grist.rejectedForParallelism, 0);
  });

  it("retries 429 and 5xx with full-jitter exponential backoff", async () => {
    const waits: number[] = [];
    grist.failNextRequests(
      1,
      429,
      `Too many backlogged requests for document ${DOC} - try again later?`,
    );
    grist.failNextRequests(2, 502, "Bad gateway");
    const tables = await client({
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      baseDelayMs: 100,
    }).listTables();
    assert.deepEqual(
      tables.map((t) => t.id),
      ["Interventions"],
    );
    assert.deepEqual(waits, [50, 100, 200]);
  });

  it("gives up after the last attempt with a rate-limited error", async () => {
    grist.failNextRequests(3, 429, "Exceeded daily limit for document");
    await assert.rejects(client({ maxAttempts: 3 }).listTables(), (error: unknown) => {
      assert.ok(error instanceof GristApiError);
      assert.equal(error.kind, "rate-limited");
      return true;
    });
  });

  it("never retries a POST after a server error, so a record is not added twice", async () => {
    const before = grist.writes.length;
    const countBefore = grist.rows(DOC, "Interventions").length;
    grist.failNextRequests(1, 500, "boom");
    await assert.rejects(client().addRecords("Interventions", [{ Statut: "x" }]), {
      kind: "server",
    });
    assert.equal(grist.writes.length - before, 1);
    assert.equal(grist.rows(DOC, "Interventions").length, countBefore);
  });

  it("names the document and the table when the table is missing", async () => {
    await assert.rejects(client().fetchRecords("Absente"), (error: unknown) => {
      assert.ok(error instanceof GristApiError);
      assert.equal(error.kind, "missing-table");
      assert.equal(error.tableId, "Absente");
      assert.match(error.message, /« Absente »/);
      assert.match(error.message, new RegExp(`« ${DOC} »`));
      return true;
    });
  });

  it("names the column Grist refused", async () => {
    await assert.rejects(
      client().addRecords("Interventions", [{ ID: "INT-1" }]),
      (error: unknown) => {
        assert.ok(error instanceof GristApiError);
        assert.equal(error.kind, "bad-request");
        assert.equal(error.columnId, "ID");
        return true;
      },
    );
  });

  it("classifies a wrong key, a missing document and a non-owner key", async () => {
    await assert.rejects(client({ auth: { kind: "apiKey", apiKey: "wrong" } }).listTables(), {
      kind: "bad-key",
      status: 401,
    });
    await assert.rejects(client({ docId: "nope" }).listTables(), { kind: "missing-doc" });
    await assert.rejects(client({ auth: { kind: "apiKey", apiKey: EDITOR } }).listWebhooks(), {
      kind: "not-owner",
    });
  });

  it("recognises a webhook URL Grist forbids", async () => {
    await assert.rejects(
      client().addWebhooks([
        {
          url: "http://relay.lan:3000/webhooks/grist",
          eventTypes: ["add"],
          tableId: "Interventions",
        },
      ]),
      { kind: "forbidden-url" },
    );
  });

  it("never puts the API key or the token in an error message", async () => {
    const unreachable = { url: "http://127.0.0.1:1", maxAttempts: 1 };
    const keyError = await client(unreachable)
      .listTables()
      .catch((e: unknown) => e);
    assert.ok(keyError instanceof GristApiError);
    assert.equal(keyError.kind, "unreachable");
    assert.doesNotMatch(keyError.message, new RegExp(OWNER));
    const tokenError = await client({
      ...unreachable,
      auth: { kind: "accessToken", token: "tok-SECRET" },
    })
      .listTables()
      .catch((e: unknown) => e);
    assert.ok(tokenError instanceof GristApiError);
    assert.doesNotMatch(tokenError.message, /tok-SECRET/);
    assert.doesNotMatch(String(tokenError.stack), /tok-SECRET/);
  });
});

describe("classifyGristError", () => {
  const apiKey = { path: "/api/docs/d/tables", auth: "apiKey" as const };
  it("recognises an unconfigured server", () => {
    assert.equal(
      classifyGristError(503, "Grist is not yet configured. Visit /boot", apiKey),
      "not-configured",
    );
    assert.equal(classifyGristError(503, "Service Unavailable", apiKey), "server");
  });
  it("treats 401/403 with a token as a bad token, not a bad key", () => {
    assert.equal(
      classifyGristError(401, "token misuse", { ...apiKey, auth: "accessToken" }),
      "bad-token",
    );
    assert.equal(classifyGristError(403, "No view access", apiKey), "bad-key");
  });
});
