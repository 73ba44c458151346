import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import { runSetupCommand } from "./setup-command.ts";

const DOC = "docSetupCommand0000001";
const OWNER = "owner-key-0123456789";
const EDITOR = "editor-key-0123456789";
const SECRET = "secret-de-webhook-0123456789";

function capture(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
      env,
    },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

describe("grist-realtime setup", () => {
  let grist: GristDouble;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "setup-command-"));
    grist = await startGristDouble({
      apiKeys: [OWNER, EDITOR],
      docs: [{ id: DOC, access: { [OWNER]: "owners", [EDITOR]: "editors" } }],
      allowedWebhookDomains: "relais.example.fr:8443",
    });
    env = {
      GRIST_URL: grist.url,
      GRIST_DOC_ID: DOC,
      GRIST_API_KEY: OWNER,
      RELAY_PUBLIC_URL: "https://relais.example.fr:8443",
      WEBHOOK_SECRET: SECRET,
      DATA_DIR: dir,
    };
  });
  after(async () => {
    await grist.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a wrong key with an actionable French message and changes nothing", async () => {
    const run = capture({ ...env, GRIST_API_KEY: "wrong-key" });
    const code = await runSetupCommand([], run.io);
    assert.equal(code, 1);
    assert.match(run.stderr(), /Grist refuse la clé API/);
    assert.match(run.stderr(), /GRIST_API_KEY/);
    assert.doesNotMatch(run.stderr(), /wrong-key/);
    assert.equal(grist.writes.length, 0);
  });

  it("refuses a non-owner key before any change, saying an owner's key is needed", async () => {
    const run = capture({ ...env, GRIST_API_KEY: EDITOR });
    const code = await runSetupCommand([], run.io);
    assert.equal(code, 1);
    assert.match(run.stderr(), /Seul un propriétaire/);
    assert.match(run.stderr(), /clé API d'un propriétaire/);
    assert.equal(grist.writes.length, 0);
  });

  it("says which document is missing", async () => {
    const run = capture({ ...env, GRIST_DOC_ID: "inconnu" });
    assert.equal(await runSetupCommand([], run.io), 1);
    assert.match(run.stderr(), /ne trouve pas le document « inconnu »/);
  });

  it("prepares the document and prints what the operator must still do", async () => {
    const run = capture(env);
    const code = await runSetupCommand([], run.io);
    assert.equal(code, 0, run.stderr());
    const out = run.stdout();
    assert.match(out, /Table créée/);
    assert.match(out, /ID → ID2/);
    assert.match(out, /https:\/\/relais\.example\.fr:8443\/widget\//);
    assert.match(out, /ALLOWED_WEBHOOK_DOMAINS=relais\.example\.fr:8443/);
    assert.match(out, /GRIST_TRIGGER_WAIT_DELAY=100/);
    assert.doesNotMatch(out, new RegExp(SECRET));
    const mapping = JSON.parse(await readFile(join(dir, "column-mapping.json"), "utf8"));
    assert.equal(mapping.reference, "ID2");

    const again = capture(env);
    assert.equal(await runSetupCommand([], again.io), 0);
    assert.match(again.stdout(), /Rien n'a changé/);
  });

  it("lets flags win over the environment", async () => {
    const run = capture({ ...env, GRIST_DOC_ID: "inconnu" });
    assert.equal(await runSetupCommand(["--doc", DOC, "--dry-run"], run.io), 0, run.stderr());
    assert.match(run.stdout(), new RegExp(`Document « ${DOC} »`));
  });

  it("warns that Grist refuses plain http for a host other than localhost", async () => {
    const run = capture({ ...env, RELAY_PUBLIC_URL: "http://relais.lan:8080" });
    await runSetupCommand(["--dry-run"], run.io);
    assert.match(run.stdout(), /ALLOWED_WEBHOOK_DOMAINS=relais\.lan:8080/);
    assert.match(run.stdout(), /Grist refuse http:\/\/ sauf pour « localhost »/);
  });

  it("names an unknown flag and exits with 2", async () => {
    const run = capture(env);
    assert.equal(await runSetupCommand(["--gristurl", "x"], run.io), 2);
    assert.match(run.stderr(), /Option inconnue : --gristurl/);
  });

  it("lists every missing setting at once and exits with 2", async () => {
    const run = capture({});
    assert.equal(await runSetupCommand([], run.io), 2);
    for (const name of [
      "GRIST_URL",
      "GRIST_DOC_ID",
      "GRIST_API_KEY",
      "RELAY_PUBLIC_URL",
      "WEBHOOK_SECRET",
    ]) {
      assert.match(run.stderr(), new RegExp(name));
    }
  });

  it("refuses a secret that could not travel as a header", async () => {
    const run = capture({ ...env, WEBHOOK_SECRET: "court\r\nX-Injected: 1 and long" });
    assert.equal(await runSetupCommand([], run.io), 2);
    assert.match(run.stderr(), /--webhook-secret/);
  });

  it("prints a French help", async () => {
    const run = capture({});
    assert.equal(await runSetupCommand(["--help"], run.io), 0);
    assert.match(run.stdout(), /Usage : grist-realtime setup/);
    assert.match(run.stdout(), /--relay-url/);
  });
});

/** `Derniere_MAJ` as a trigger formula Grist stamps on every change (grist.md §9). */
describe("grist-realtime setup and the Derniere_MAJ trigger formula", () => {
  const TRIGGER_DOC = "docSetupTrigger0000001";
  let grist: GristDouble;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "setup-trigger-"));
    grist = await startGristDouble({
      apiKeys: [OWNER],
      docs: [
        { id: DOC, access: { [OWNER]: "owners" } },
        { id: TRIGGER_DOC, access: { [OWNER]: "owners" } },
      ],
      allowedWebhookDomains: "relais.example.fr:8443",
    });
    env = {
      GRIST_URL: grist.url,
      GRIST_API_KEY: OWNER,
      RELAY_PUBLIC_URL: "https://relais.example.fr:8443",
      WEBHOOK_SECRET: SECRET,
      DATA_DIR: dir,
    };
  });
  after(async () => {
    await grist.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function lastUpdateColumn(docId: string) {
    const response = await fetch(`${grist.url}/api/docs/${docId}/tables/Interventions/columns`, {
      headers: { Authorization: `Bearer ${OWNER}` },
    });
    const { columns } = (await response.json()) as {
      columns: { id: string; fields: Record<string, unknown> }[];
    };
    const column = columns.find((c) => c.id === "Derniere_MAJ");
    assert.ok(column);
    return column.fields;
  }

  it("creates it as a trigger formula Grist restamps, and a second run changes nothing", async () => {
    const run = capture({ ...env, GRIST_DOC_ID: DOC });
    assert.equal(await runSetupCommand([], run.io), 0, run.stderr());
    assert.match(run.stdout(), /Colonne « Derniere_MAJ » réglée en formule déclenchée NOW\(\)/);
    const fields = await lastUpdateColumn(DOC);
    assert.deepEqual([fields.isFormula, fields.formula, fields.recalcWhen], [false, "NOW()", 2]);

    // What the setting is for: Grist dates a change to any other field by itself.
    const [row] = grist.addRows(DOC, "Interventions", [{ Statut: "En attente" }]);
    grist.updateRow(DOC, "Interventions", row as number, { Derniere_MAJ: 1_000_000 });
    const before = Date.now() / 1000;
    grist.updateRow(DOC, "Interventions", row as number, { Statut: "En cours" });
    const stamped = grist.rows(DOC, "Interventions")[0]?.Derniere_MAJ as number;
    assert.ok(stamped >= before - 1, `restamped (${stamped})`);

    const writes = grist.writes.length;
    const again = capture({ ...env, GRIST_DOC_ID: DOC });
    assert.equal(await runSetupCommand([], again.io), 0);
    assert.equal(grist.writes.length, writes, "the second run writes nothing");
    assert.match(again.stdout(), /Colonne « Derniere_MAJ » : formule déclenchée déjà en place/);
    assert.match(again.stdout(), /Rien n'a changé/);
  });

  it("converts an existing plain column only with --migrate, and says so", async () => {
    grist.createTable(TRIGGER_DOC, "Interventions", [
      { id: "Statut", type: "Choice" },
      { id: "Derniere_MAJ", type: "DateTime:Europe/Paris" },
    ]);
    grist.addRows(TRIGGER_DOC, "Interventions", [
      { Statut: "En cours", Derniere_MAJ: 1_795_000_000 },
    ]);

    const without = capture({ ...env, GRIST_DOC_ID: TRIGGER_DOC });
    assert.equal(await runSetupCommand([], without.io), 0, without.stderr());
    assert.match(without.stdout(), /« Derniere_MAJ » est une colonne de données ordinaire/);
    assert.match(without.stdout(), /relancez la même commande avec --migrate/);
    assert.equal((await lastUpdateColumn(TRIGGER_DOC)).recalcWhen, 0, "left as it was");

    const migrate = capture({ ...env, GRIST_DOC_ID: TRIGGER_DOC });
    assert.equal(await runSetupCommand(["--migrate"], migrate.io), 0, migrate.stderr());
    assert.match(
      migrate.stdout(),
      /Colonne « Derniere_MAJ » convertie en formule déclenchée NOW\(\).*dates déjà saisies sont conservées/,
    );
    const fields = await lastUpdateColumn(TRIGGER_DOC);
    assert.deepEqual([fields.isFormula, fields.formula, fields.recalcWhen], [false, "NOW()", 2]);
    assert.equal(
      grist.rows(TRIGGER_DOC, "Interventions")[0]?.Derniere_MAJ,
      1_795_000_000,
      "the dates already entered are kept",
    );

    const after = capture({ ...env, GRIST_DOC_ID: TRIGGER_DOC });
    const writes = grist.writes.length;
    assert.equal(await runSetupCommand(["--migrate"], after.io), 0);
    assert.equal(grist.writes.length, writes, "converted once: nothing more to do");
  });
});
