import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
  startWebhookRecorder,
} from "../../test/support/grist-double/grist-double.ts";
import { startTestRelay } from "../../test/support/test-relay.ts";
import { FieldSimulator } from "../grist/simulator.ts";
import { GristWebhookBodySchema } from "../grist/webhook-payload.ts";
import { runSimulateCommand } from "./simulate-command.ts";

const SECRET = "secret-de-simulation-0123";

function capture(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
      env,
    },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

const withoutTime = (row: Record<string, unknown>) => {
  const { Derniere_MAJ: _time, ...rest } = row;
  return rest;
};

describe("grist-realtime simulate", () => {
  it("posts one Grist-format row per event to the relay, with the secret and the event type", async () => {
    const relay = await startWebhookRecorder();
    try {
      const run = capture();
      const code = await runSimulateCommand(
        [
          "--relay-url",
          relay.url,
          "--webhook-secret",
          SECRET,
          "--count",
          "12",
          "--rate",
          "1000",
          "--seed",
          "7",
          "--quiet",
        ],
        run.io,
      );
      assert.equal(code, 0, run.stderr());
      assert.equal(relay.requests.length, 12);
      const expected = new FieldSimulator({ seed: 7 });
      for (const request of relay.requests) {
        const event = expected.next(Math.floor(Date.now() / 1000));
        assert.equal(request.method, "POST");
        assert.equal(request.path, `/webhooks/grist?event=${event.kind}`);
        const header = (name: string) =>
          request.headers.find(([n]) => n.toLowerCase() === name)?.[1];
        assert.equal(header("authorization"), `Bearer ${SECRET}`);
        assert.equal(header("content-type"), "application/json");
        const body = GristWebhookBodySchema.parse(JSON.parse(request.body));
        assert.equal(body.length, 1);
        assert.deepEqual(withoutTime(body[0] as Record<string, unknown>), withoutTime(event.row));
      }
      assert.match(run.stdout(), /Bilan : 12 envoyé\(s\)/);
    } finally {
      await relay.close();
    }
  });

  it("stops at the first 401 and says the secret must match the relay's", async () => {
    const relay = await startWebhookRecorder(() => 401);
    try {
      const run = capture({ WEBHOOK_SECRET: "mauvais-secret-0123456" });
      const code = await runSimulateCommand(
        ["--relay-url", relay.url, "--count", "5", "--rate", "1000", "--quiet"],
        run.io,
      );
      assert.equal(code, 1);
      assert.equal(relay.requests.length, 1);
      assert.match(run.stderr(), /WEBHOOK_SECRET/);
    } finally {
      await relay.close();
    }
  });

  it("writes to a Grist document, which then sends the webhooks itself", async () => {
    const relay = await startWebhookRecorder();
    let grist: GristDouble | undefined;
    try {
      grist = await startGristDouble({
        apiKeys: ["k"],
        docs: [{ id: "docSimulate00000000001", access: { k: "owners" } }],
        allowedWebhookDomains: "*",
        waitDelayMs: 1,
      });
      grist.createTable("docSimulate00000000001", "Interventions", [
        { id: "ID", label: "ID", type: "Text" },
        { id: "Agent", type: "Text" },
        { id: "Localisation", type: "Text" },
        { id: "Type", type: "Choice" },
        { id: "Statut", type: "Choice" },
        { id: "Priorite", type: "Choice" },
        { id: "Derniere_MAJ", type: "DateTime:Europe/Paris" },
        { id: "Commentaire", type: "Text" },
      ]);
      const hooksResponse = await fetch(`${grist.url}/api/docs/docSimulate00000000001/webhooks`, {
        method: "POST",
        headers: { Authorization: "Bearer k", "Content-Type": "application/json" },
        body: JSON.stringify({
          webhooks: [
            {
              fields: {
                url: `${relay.url}/webhooks/grist`,
                eventTypes: ["add", "update"],
                tableId: "Interventions",
              },
            },
          ],
        }),
      });
      assert.equal(hooksResponse.status, 200);
      const run = capture({
        GRIST_URL: grist.url,
        GRIST_DOC_ID: "docSimulate00000000001",
        GRIST_API_KEY: "k",
      });
      const code = await runSimulateCommand(
        ["--count", "8", "--rate", "1000", "--seed", "3", "--quiet"],
        run.io,
      );
      assert.equal(code, 0, run.stderr());
      await grist.whenIdle();
      const rows = grist.rows("docSimulate00000000001", "Interventions");
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => typeof r.ID2 === "string" && !("Latitude" in r)));
      assert.ok(
        grist.writes.some((w) => w.method === "PATCH"),
        "status changes are PATCHes",
      );
      const delivered = relay.requests.flatMap(
        (r) => JSON.parse(r.body) as Array<Record<string, unknown>>,
      );
      assert.equal(delivered.length, 8);
      assert.equal(delivered[0]?.manualSort, 1);
    } finally {
      await grist?.close();
      await relay.close();
    }
  });

  it("drives a real relay whose snapshot then holds every simulated intervention", async () => {
    const relay = await startTestRelay({ env: { WEBHOOK_SECRET: SECRET, STORE: "memory" } });
    try {
      const run = capture({ RELAY_PUBLIC_URL: relay.url, WEBHOOK_SECRET: SECRET });
      assert.equal(
        await runSimulateCommand(
          ["--count", "20", "--rate", "1000", "--seed", "5", "--quiet"],
          run.io,
        ),
        0,
        run.stderr(),
      );
      const expected = new FieldSimulator({ seed: 5 });
      const ids = new Set(Array.from({ length: 20 }, () => expected.next(0).row.id));
      const body = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
        records: Array<{ id: number; departement: string | null }>;
      };
      assert.deepEqual(new Set(body.records.map((r) => r.id)), ids);
      assert.ok(body.records.every((r) => r.departement !== null));
    } finally {
      await relay.close();
    }
  });

  it("refuses an unknown flag or a bad rate with exit code 2", async () => {
    const unknown = capture();
    assert.equal(await runSimulateCommand(["--speed", "3"], unknown.io), 2);
    assert.match(unknown.stderr(), /Option inconnue : --speed/);
    const badRate = capture();
    assert.equal(await runSimulateCommand(["--rate", "zero"], badRate.io), 2);
    assert.match(badRate.stderr(), /--rate/);
  });

  it("prints a French help", async () => {
    const run = capture();
    assert.equal(await runSimulateCommand(["--help"], run.io), 0);
    assert.match(run.stdout(), /Usage : grist-realtime simulate/);
  });
});
