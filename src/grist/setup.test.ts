import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import { ColumnMappingFileSchema } from "../domain/column-mapping.ts";
import { GristClient } from "./rest-client.ts";
import { runSetup, type SetupOptions, WEBHOOK_NAMES, webhookUrl } from "./setup.ts";

const DOC = "docSetup00000000000001";
const OWNER = "owner-key";
const RELAY = "https://relais.example.fr";
const SECRET = "un-secret-de-webhook-assez-long";

describe("runSetup", () => {
  let grist: GristDouble;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "grist-setup-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    grist = await startGristDouble({
      apiKeys: [OWNER],
      docs: [{ id: DOC, access: { [OWNER]: "owners" } }],
      allowedWebhookDomains: "relais.example.fr",
    });
  });
  afterEach(() => grist.close());

  const options = (overrides: Partial<SetupOptions> = {}): SetupOptions => ({
    client: new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: OWNER },
    }),
    tableId: "Interventions",
    relayUrl: RELAY,
    webhookSecret: SECRET,
    mappingPath: join(dir, `${Math.random().toString(36).slice(2)}`, "column-mapping.json"),
    ...overrides,
  });

  it("creates the table, the mapping and both webhooks, then changes nothing on a second run", async () => {
    const opts = options();
    const first = await runSetup(opts);
    assert.equal(first.tableCreated, true);
    assert.ok(grist.writes.length > 0);
    assert.deepEqual(
      first.webhooks.map((w) => [w.event, w.action]),
      [
        ["add", "created"],
        ["update", "created"],
      ],
    );
    const mapping = JSON.parse(await readFile(opts.mappingPath, "utf8"));
    assert.deepEqual(ColumnMappingFileSchema.parse(mapping), mapping);
    assert.equal(mapping.reference, "ID2");
    assert.equal(mapping.statut, "Statut");
    assert.deepEqual(mapping.dateColumns, ["Derniere_MAJ"]);

    const writesAfterFirst = grist.writes.length;
    const second = await runSetup(opts);
    assert.equal(grist.writes.length, writesAfterFirst, "the second run must not write to Grist");
    assert.equal(second.tableCreated, false);
    assert.deepEqual(second.columnsAdded, []);
    assert.deepEqual(second.choicesAdded, []);
    assert.equal(second.mappingWritten, false);
    assert.deepEqual(
      second.webhooks.map((w) => w.action),
      ["unchanged", "unchanged"],
    );
  });

  it("registers one webhook per event with its own URL and the secret as a Bearer header", async () => {
    await runSetup(options());
    const hooks = await new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: OWNER },
    }).listWebhooks();
    assert.deepEqual(
      hooks.map((h) => [h.fields.name, h.fields.url, h.fields.eventTypes, h.fields.authorization]),
      [
        [WEBHOOK_NAMES.add, `${RELAY}/webhooks/grist?event=add`, ["add"], `Bearer ${SECRET}`],
        [
          WEBHOOK_NAMES.update,
          `${RELAY}/webhooks/grist?event=update`,
          ["update"],
          `Bearer ${SECRET}`,
        ],
      ],
    );
  });

  it("completes an existing table without touching its data or its own choices", async () => {
    // The captured document: statuses without accents, no Commentaire column, a row of data.
    grist.createTable(DOC, "Interventions", [
      { id: "ID", label: "ID", type: "Text" },
      { id: "Agent", type: "Text" },
      { id: "Localisation", type: "Text" },
      {
        id: "Type",
        type: "Choice",
        widgetOptions: JSON.stringify({
          choices: ["Maintenance", "Reparation"],
          choiceOptions: { Maintenance: { fillColor: "#FF0000" } },
        }),
      },
      {
        id: "Statut",
        type: "Choice",
        widgetOptions: '{"choices": ["A faire", "En cours", "Termine"]}',
      },
      { id: "Priorite", type: "Text" },
      { id: "Derniere_MAJ", type: "DateTime:UTC" },
    ]);
    grist.addRows(DOC, "Interventions", [
      { ID2: "INT-001", Statut: "A faire", Agent: "Alice Martin" },
    ]);
    const report = await runSetup(options());

    assert.deepEqual(report.columnsAdded, ["Commentaire"]);
    assert.deepEqual(report.choicesAdded, [
      { column: "Type", choices: ["Voirie", "Signalisation", "Bâtiment", "Inspection"] },
      { column: "Statut", choices: ["En attente", "Bloqué"] },
    ]);
    const text = report.notices.join("\n");
    assert.match(text, /« Reparation » est conservé à la place de « Réparation »/);
    assert.match(text, /« Termine » est conservé à la place de « Terminé »/);
    assert.match(text, /choix supplémentaires conservés : « A faire »/);
    assert.match(text, /« Priorite » est de type Text \(attendu Choice\)/);
    assert.match(text, /DateTime:UTC/);
    assert.match(text, /facultative « Latitude »/);

    const [row] = grist.rows(DOC, "Interventions");
    assert.equal(row?.ID2, "INT-001");
    assert.equal(row?.Statut, "A faire");
    assert.equal(row?.Commentaire, "");
    const columns = await new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: OWNER },
    }).listColumns("Interventions");
    const type = columns.find((c) => c.id === "Type");
    assert.deepEqual(JSON.parse(type?.fields.widgetOptions ?? ""), {
      choices: ["Maintenance", "Reparation", "Voirie", "Signalisation", "Bâtiment", "Inspection"],
      choiceOptions: { Maintenance: { fillColor: "#FF0000" } },
    });
    assert.equal(columns.find((c) => c.id === "Priorite")?.fields.type, "Text");
    assert.equal(
      grist.writes.filter((w) => w.method === "DELETE" || w.path.endsWith("/delete")).length,
      0,
    );
  });

  it("adds the Latitude and Longitude columns to an existing table when asked", async () => {
    grist.createTable(DOC, "Interventions", [
      { id: "Localisation", type: "Text" },
      { id: "Statut", type: "Choice" },
    ]);
    const report = await runSetup(options({ coordinates: true }));
    assert.ok(report.columnsAdded.includes("Latitude"), report.columnsAdded.join());
    assert.ok(report.columnsAdded.includes("Longitude"));
    const columns = await new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: OWNER },
    }).listColumns("Interventions");
    assert.equal(columns.find((c) => c.id === "Latitude")?.fields.type, "Numeric");
  });

  it("updates a webhook it recognises by URL when the secret changed, and only that field", async () => {
    const client = new GristClient({
      url: grist.url,
      docId: DOC,
      auth: { kind: "apiKey", apiKey: OWNER },
    });
    await runSetup(options());
    const [add] = await client.listWebhooks();
    await client.updateWebhook(add?.id ?? "", {
      name: "renommé à la main",
      authorization: "Bearer ancien",
    });
    const report = await runSetup(options());
    assert.deepEqual(
      report.webhooks.map((w) => [w.event, w.action, w.changed]),
      [
        ["add", "updated", ["name", "authorization"]],
        ["update", "unchanged", []],
      ],
    );
    const hooks = await client.listWebhooks();
    assert.equal(hooks.length, 2);
    assert.equal(hooks[0]?.fields.authorization, `Bearer ${SECRET}`);
  });

  it("writes nothing at all in a dry run", async () => {
    const opts = options({ dryRun: true });
    const report = await runSetup(opts);
    assert.equal(report.tableCreated, true);
    assert.deepEqual(
      report.webhooks.map((w) => w.action),
      ["created", "created"],
    );
    assert.equal(grist.writes.length, 0);
    await assert.rejects(readFile(opts.mappingPath));
  });

  it("builds the webhook URL under a path prefix", () => {
    assert.equal(
      webhookUrl("https://x.fr/relais/", "add"),
      "https://x.fr/relais/webhooks/grist?event=add",
    );
  });
});
