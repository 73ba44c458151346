import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { commitWithAlerts, gristRow } from "../../test/support/alerts/events.ts";
import { createAlertPlanner } from "../alerts/planner.ts";
import { parseAlertsConfig } from "../alerts/rules.ts";
import { createTokenVerifier } from "../auth/jwt.ts";
import { createAuthorize } from "../http/authorize.ts";
import { installErrorHandling } from "../http/error-handler.ts";
import { registerAlertRoutes } from "../http/routes/alerts.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { runAlertCommand } from "./alert-command.ts";

const JWT_SECRET = "secret-de-signature-des-jetons-cli-32+!";
let app: FastifyInstance;
let url = "";
const store = new MemoryStore();
let key = "";
let planner: ReturnType<typeof createAlertPlanner>;

before(async () => {
  const config = parseAlertsConfig(
    {
      destinations: [
        { name: "n8n", kind: "webhook", url: "https://n8n.example/x", secret: "s".repeat(32) },
      ],
    },
    { baseDir: "." },
  );
  planner = createAlertPlanner(config);
  await commitWithAlerts(store, [gristRow(3, { Priorite: "Urgente" })], planner);
  const [planned] = await store.list({ limit: 1 });
  key = planned?.key ?? "";
  await store.markFailed(key, "requête refusée par le destinataire (400)", Date.now());
  app = Fastify();
  installErrorHandling(app);
  const authorize = createAuthorize(createTokenVerifier({ secret: JWT_SECRET }));
  registerAlertRoutes(app, { outbox: store, authorize });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
});
after(() => app.close());

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAlertCommand(argv, {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    env,
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

describe("grist-realtime alert retry", () => {
  it("asks the running relay, as admin, to put a failed alert back in the queue", async () => {
    const result = await run(["retry", key, "--url", url], { AUTH_JWT_SECRET: JWT_SECRET });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /remise dans la file/);
    const [item] = await store.list({ limit: 1 });
    assert.equal(item?.status, "pending");
    assert.equal(item?.attempts, 0);
  });

  it("says why the relay refused, with its error code", async () => {
    // An alert of its own still waiting to be sent (not failed), whatever ran before.
    await commitWithAlerts(store, [gristRow(4, { Priorite: "Urgente" })], planner);
    const waiting = (await store.list({ limit: 100 })).find((item) => item.key !== key);
    assert.equal(waiting?.status, "pending");
    const again = await run(["retry", waiting.key, "--url", url], {
      AUTH_JWT_SECRET: JWT_SECRET,
    });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /HTTP 409.*RELAY_ERR_ALERT_NOT_FAILED/);
    const unsigned = await run(["retry", key, "--url", url]);
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /HTTP 401.*RELAY_ERR_UNAUTHORIZED/);
  });

  it("explains usage without a key", async () => {
    const result = await run(["retry"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage : grist-realtime alert retry <clé>/);
  });
});
