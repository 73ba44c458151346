import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { verifySignature } from "../alerts/outgoing-webhook.ts";
import { runAlertCommand } from "./alert-command.ts";

const TOKEN = "syt_cli_bot_token";
const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
const ROOM = "!salle:agent.dinum.tchap.gouv.fr";
const ENCRYPTED_ROOM = "!prive:agent.dinum.tchap.gouv.fr";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-alert-cli-"));
let homeserver: FakeHomeserver;
before(async () => {
  homeserver = await startFakeHomeserver({
    tokens: { [TOKEN]: BOT },
    rooms: {
      [ROOM]: { members: [BOT] },
      [ENCRYPTED_ROOM]: { members: [BOT], encrypted: true },
      "!autre:agent.dinum.tchap.gouv.fr": { members: [] },
    },
  });
});
after(async () => {
  await homeserver.close();
  rmSync(dir, { recursive: true, force: true });
});

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

const tchapEnv = (overrides: Record<string, string> = {}) => ({
  TCHAP_HOMESERVER_URL: homeserver.url,
  TCHAP_ACCESS_TOKEN: TOKEN,
  TCHAP_ROOM_ID: ROOM,
  ...overrides,
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("grist-realtime alert test", () => {
  it("never posts a clear-text test into an encrypted room and points to tchap check", async () => {
    const sends = homeserver.messages.length;
    const whoBefore = homeserver.requests.filter((r) => r.url.includes("/account/whoami")).length;
    const { code, stdout, stderr } = await run(
      ["test"],
      tchapEnv({ TCHAP_ROOM_ID: ENCRYPTED_ROOM }),
    );
    // The command ran up to the room check: it named the bot after asking whoami.
    assert.match(stdout, /Jeton accepté : compte du bot @alertes:/);
    assert.ok(
      homeserver.requests.filter((r) => r.url.includes("/account/whoami")).length > whoBefore,
    );
    assert.equal(code, 1);
    assert.match(stderr, /est chiffré/);
    assert.match(stderr, /tchap check/);
    assert.equal(homeserver.messages.length, sends);
  });

  it("sends a test message to the Tchap room of the TCHAP variables and names the bot", async () => {
    const before = homeserver.messages.length;
    const result = await run(["test", "--destination", "tchap"], tchapEnv());
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /compte du bot @alertes:agent\.dinum\.tchap\.gouv\.fr/);
    assert.match(
      result.stdout,
      /envoyé dans le salon !salle:agent\.dinum\.tchap\.gouv\.fr \(événement \$event\d+\)/,
    );
    assert.equal(homeserver.messages.length, before + 1);
    const content = homeserver.messages.at(-1)?.content;
    assert.equal(content?.msgtype, "m.text");
    assert.match(String(content?.body), /^✅ Essai d'alerte grist-realtime/);
  });

  it("says the token is invalid, without printing it", async () => {
    const result = await run(["test"], tchapEnv({ TCHAP_ACCESS_TOKEN: "syt_revoked_token" }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /jeton invalide \(401 M_UNKNOWN_TOKEN/);
    assert.match(result.stderr, /nouveau jeton/);
    assert.doesNotMatch(result.stderr + result.stdout, /syt_revoked_token/);
  });

  it("says the room is unknown or the bot not a member, and which account to invite", async () => {
    const result = await run(
      ["test"],
      tchapEnv({ TCHAP_ROOM_ID: "!autre:agent.dinum.tchap.gouv.fr" }),
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /salon inconnu ou bot non membre \(403 M_FORBIDDEN/);
    assert.match(
      result.stderr,
      /le compte à inviter .* est @alertes:agent\.dinum\.tchap\.gouv\.fr/,
    );
  });

  it("says the server rate-limits, with the delay it asked for", async () => {
    homeserver.failNext(1, { status: 429, retryAfterSeconds: 3 });
    const result = await run(["test"], tchapEnv());
    assert.equal(result.code, 1);
    assert.match(result.stderr, /limité par le serveur \(429 M_LIMIT_EXCEEDED/);
    assert.match(result.stderr, /Délai demandé : 3 s/);
  });

  it("says the server cannot be reached", async () => {
    const port = await closedPort();
    const result = await run(
      ["test"],
      tchapEnv({ TCHAP_HOMESERVER_URL: `http://127.0.0.1:${port}` }),
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /erreur réseau : ECONNREFUSED/);
    assert.match(result.stderr, /injoignable/);
  });

  it("sends a signed test webhook to a webhook destination of the configuration file", async () => {
    const secret = "secret-du-webhook-de-test-0123456789";
    const received: { ok: boolean; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        const ok = verifySignature(
          secret,
          String(request.headers["x-grist-realtime-timestamp"]),
          body,
          String(request.headers["x-grist-realtime-signature"]),
        );
        received.push({ ok, body });
        response.writeHead(ok ? 204 : 401).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const file = join(dir, "alertes.json");
      writeFileSync(
        file,
        JSON.stringify({
          destinations: [
            {
              name: "tchap",
              kind: "matrix",
              homeserverUrl: homeserver.url,
              accessToken: TOKEN,
              roomId: ROOM,
            },
            { name: "n8n", kind: "webhook", url, secret },
          ],
        }),
      );
      const result = await run(["test", "--destination", "n8n", "--config", file]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /HTTP 204/);
      assert.equal(received.length, 1);
      assert.ok(received[0]?.ok);
      assert.equal(JSON.parse(received[0]?.body ?? "{}").type, "grist-realtime.test");
    } finally {
      receiver.close();
    }
  });

  it("gives advice about the receiver, not about a Tchap token, when a webhook refuses the signature", async () => {
    const receiver = createServer((_request, response) => response.writeHead(401).end());
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const file = join(dir, "refus.json");
      writeFileSync(
        file,
        JSON.stringify({
          destinations: [{ name: "n8n", kind: "webhook", url, secret: "0123456789abcdef" }],
        }),
      );
      const result = await run(["test", "--destination", "n8n", "--config", file]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /signature refusée par le destinataire \(401\)/);
      assert.match(result.stderr, /GRIST_REALTIME_ALERT_SECRET/);
      assert.doesNotMatch(result.stderr, /jeton|Tchap/);
    } finally {
      receiver.close();
    }
  });

  it("lists the configured destinations when the name is unknown or missing", async () => {
    const file = join(dir, "deux.json");
    writeFileSync(
      file,
      JSON.stringify({
        destinations: [
          { name: "a", kind: "webhook", url: "https://a.example", secret: "0123456789abcdef" },
          { name: "b", kind: "webhook", url: "https://b.example", secret: "0123456789abcdef" },
        ],
      }),
    );
    const unknown = await run(["test", "--destination", "c", "--config", file]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Destination inconnue « c » ; destinations configurées : a, b/);
    const missing = await run(["test", "--config", file]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--destination est requis/);
  });

  it("lists every error of an invalid configuration file", async () => {
    const file = join(dir, "invalide.json");
    writeFileSync(
      file,
      JSON.stringify({
        destinations: [
          { name: "t", kind: "matrix", homeserverUrl: "x", accessToken: "y", roomId: "#a:b" },
        ],
      }),
    );
    const result = await run(["test", "--config", file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /destinations\[0\]\.homeserverUrl/);
    assert.match(result.stderr, /destinations\[0\]\.roomId/);
  });

  it("explains how to configure alerts when none are, and prints help", async () => {
    const none = await run(["test"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Aucune alerte configurée/);
    const help = await run(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--destination/);
    assert.equal((await run(["envoyer"])).code, 2);
  });
});
