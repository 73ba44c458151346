import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { deviceSigningStatus } from "../alerts/matrix/device-signing-status.ts";
import { startMatrixSession } from "../alerts/matrix/session-host.ts";
import { storeFileFor } from "../alerts/matrix-sender.ts";
import { runTchapCommand, TCHAP_EXIT } from "./tchap-command.ts";

const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
/** A second bot account, whose cross-signing the login test sets up. */
const NIGHT_BOT = "@astreinte:agent.dinum.tchap.gouv.fr";
const CLEAR = "!forum:agent.dinum.tchap.gouv.fr";
const ENCRYPTED = "!prive:agent.dinum.tchap.gouv.fr";
const READ_ONLY = "!annonces:agent.dinum.tchap.gouv.fr";
const ELSEWHERE = "!autre:agent.dinum.tchap.gouv.fr";

let homeserver: FakeHomeserver;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grt-tchap-cli-"));
  homeserver = await startFakeHomeserver({
    tokens: { syt_bot: { userId: BOT, deviceId: "RELAISBOT" } },
    accounts: {
      [BOT]: { password: "mot de passe", email: "alertes@dinum.gouv.fr" },
      [NIGHT_BOT]: { password: "mot de passe de nuit" },
    },
    rooms: {
      [CLEAR]: { members: [BOT, "@cheffe:x"] },
      [ENCRYPTED]: { members: [BOT, "@cheffe:x"], encrypted: true },
      [READ_ONLY]: {
        members: ["@admin:x", BOT],
        powerLevels: { users: { "@admin:x": 100 }, events_default: 50 },
      },
      [ELSEWHERE]: { members: ["@cheffe:x"] },
    },
  });
});
after(async () => {
  await homeserver.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runTchapCommand(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { DATA_DIR: dir, ...env },
  });
  return { code, stdout, stderr };
}

const check = (env: Record<string, string>) =>
  run(["check"], {
    TCHAP_HOMESERVER_URL: homeserver.url,
    TCHAP_ACCESS_TOKEN: "syt_bot",
    TCHAP_ROOM_ID: CLEAR,
    ...env,
  });

describe("tchap login", () => {
  it("logs in by e-mail, saves token and device id as 0600 files and never prints the token", async () => {
    const passwordFile = join(dir, "password");
    await writeFile(passwordFile, "mot de passe\n");
    const out = join(dir, "secrets");
    const result = await run([
      "login",
      "--homeserver",
      homeserver.url,
      "--user",
      "alertes@dinum.gouv.fr",
      "--password-file",
      passwordFile,
      "--out-dir",
      out,
    ]);
    assert.equal(result.code, TCHAP_EXIT.ok, result.stderr);
    const token = (await readFile(join(out, "tchap-access-token"), "utf8")).trim();
    const deviceId = (await readFile(join(out, "tchap-device-id"), "utf8")).trim();
    assert.match(token, /^syt_/);
    assert.equal((await stat(join(out, "tchap-access-token"))).mode & 0o777, 0o600);
    assert.ok(!result.stdout.includes(token) && !result.stderr.includes(token));
    assert.match(result.stdout, new RegExp(`Connecté : compte ${BOT}, appareil ${deviceId}`));
    // The saved token is a working one, for that device.
    const whoami = await fetch(`${homeserver.url}/_matrix/client/v3/account/whoami`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.deepEqual(await whoami.json(), { user_id: BOT, device_id: deviceId });
  });

  it("with TCHAP_STORE_KEY, cross-signs the new device with the same password, printed nowhere", async () => {
    const passwordFile = join(dir, "night-password");
    await writeFile(passwordFile, "mot de passe de nuit\n");
    const out = join(dir, "night");
    const result = await run(
      [
        "login",
        "--homeserver",
        homeserver.url,
        "--user",
        NIGHT_BOT,
        "--password-file",
        passwordFile,
        "--out-dir",
        out,
      ],
      { TCHAP_STORE_KEY: "secret du magasin" },
    );
    assert.equal(result.code, TCHAP_EXIT.ok, result.stderr);
    const deviceId = (await readFile(join(out, "tchap-device-id"), "utf8")).trim();
    assert.match(
      result.stdout,
      new RegExp(`✔ Appareil ${deviceId} signé par le compte \\(signature croisée\\)`),
    );
    assert.doesNotMatch(result.stdout + result.stderr, /mot de passe de nuit/);
    // What others' clients will read: the device signed by the account's new identity.
    const token = (await readFile(join(out, "tchap-access-token"), "utf8")).trim();
    const keys = await fetch(`${homeserver.url}/_matrix/client/v3/keys/query`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ device_keys: { [NIGHT_BOT]: [] } }),
    });
    assert.equal(
      deviceSigningStatus((await keys.json()) as Record<string, unknown>, NIGHT_BOT, deviceId),
      "signed",
    );
    // The relay opens the same sealed store: the private keys are there, not in a plain file.
    const stored = await stat(storeFileFor(join(dir, "tchap"), NIGHT_BOT, deviceId));
    assert.ok(stored.size > 0);
  });

  it("says the password was refused, exit 1", async () => {
    const passwordFile = join(dir, "wrong");
    await writeFile(passwordFile, "pas le bon");
    const result = await run([
      "login",
      "--homeserver",
      homeserver.url,
      "--user",
      BOT,
      "--password-file",
      passwordFile,
      "--out-dir",
      join(dir, "none"),
    ]);
    assert.equal(result.code, TCHAP_EXIT.badToken);
    assert.match(result.stderr, /Connexion refusée : identifiant ou mot de passe refusé/);
    assert.match(result.stderr, /Vérifiez l'adresse e-mail du compte du bot/);
  });

  it("refuses a missing --password-file, exit 2", async () => {
    const result = await run(["login", "--homeserver", homeserver.url, "--user", BOT]);
    assert.equal(result.code, TCHAP_EXIT.usage);
    assert.match(result.stderr, /--password-file sont obligatoires/);
  });
});

describe("tchap check", () => {
  it("passes for a clear room and says it is not encrypted", async () => {
    const result = await check({});
    assert.equal(result.code, TCHAP_EXIT.ok, result.stderr);
    assert.match(
      result.stdout,
      /✔ Jeton valide : compte @alertes:agent.dinum.tchap.gouv.fr, appareil RELAISBOT/,
    );
    assert.match(result.stdout, /✔ Le bot est membre du salon/);
    assert.match(result.stdout, /ℹ Salon non chiffré/);
    assert.match(result.stdout, /✔ Le bot peut écrire dans le salon/);
  });

  it("passes for an encrypted room when TCHAP_STORE_KEY is set", async () => {
    const result = await check({ TCHAP_ROOM_ID: ENCRYPTED, TCHAP_STORE_KEY: "secret" });
    assert.equal(result.code, TCHAP_EXIT.ok, result.stderr);
    assert.match(
      result.stdout,
      /✔ Salon chiffré de bout en bout : le relais chiffrera les alertes/,
    );
  });

  it("says whether the bot's device is cross-signed, from none to signed by the relay's session", async () => {
    const encrypted = { TCHAP_ROOM_ID: ENCRYPTED, TCHAP_STORE_KEY: "secret" };
    const before = await check(encrypted);
    assert.equal(before.code, TCHAP_EXIT.ok, before.stderr);
    assert.match(before.stdout, /ℹ L'appareil RELAISBOT n'a pas encore publié ses clés/);
    const runSession = async (password?: string) => {
      const session = await startMatrixSession({
        homeserverUrl: homeserver.url,
        accessToken: "syt_bot",
        userId: BOT,
        deviceId: "RELAISBOT",
        storeFile: join(dir, "relaisbot.crypto"),
        storeSecret: "secret",
        crossSigning: password ? { password } : {},
      });
      await session.stop();
      return session.crossSigning?.state;
    };
    assert.equal(await runSession(), "missing-secret");
    const unsigned = await check(encrypted);
    assert.equal(unsigned.code, TCHAP_EXIT.ok, unsigned.stderr);
    assert.match(unsigned.stdout, /⚠ L'appareil RELAISBOT du bot n'est pas signé par son compte/);
    assert.match(unsigned.stdout, /→ Définissez TCHAP_PASSWORD_FILE/);
    assert.equal(await runSession("mot de passe"), "bootstrapped");
    const signed = await check(encrypted);
    assert.equal(signed.code, TCHAP_EXIT.ok, signed.stderr);
    assert.match(signed.stdout, /✔ L'appareil RELAISBOT du bot est signé par son compte/);
  });

  const failures: [string, Record<string, string>, number, RegExp][] = [
    [
      "a revoked token",
      { TCHAP_ACCESS_TOKEN: "syt_revoked" },
      TCHAP_EXIT.badToken,
      /relancez « grist-realtime tchap login »/,
    ],
    [
      "a room the bot has not joined",
      { TCHAP_ROOM_ID: ELSEWHERE },
      TCHAP_EXIT.room,
      /invitez le compte du bot/,
    ],
    [
      "an unknown room",
      { TCHAP_ROOM_ID: "!inconnu:x" },
      TCHAP_EXIT.room,
      /Vérifiez l'identifiant du salon/,
    ],
    [
      "an encrypted room without TCHAP_STORE_KEY",
      { TCHAP_ROOM_ID: ENCRYPTED },
      TCHAP_EXIT.storeKey,
      /TCHAP_STORE_KEY n'est pas défini/,
    ],
    [
      "a room where the bot may not write",
      { TCHAP_ROOM_ID: READ_ONLY },
      TCHAP_EXIT.cannotSend,
      /ne peut pas écrire dans ce salon \(niveau 0, 50 requis\)/,
    ],
  ];
  for (const [what, env, code, advice] of failures) {
    it(`fails with exit ${code} and says what to fix for ${what}`, async () => {
      const result = await check(env);
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, /^✘ /);
      assert.match(result.stderr, advice);
    });
  }

  it("fails with exit 6 when the server cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const result = await check({ TCHAP_HOMESERVER_URL: `http://127.0.0.1:${port}` });
    assert.equal(result.code, TCHAP_EXIT.unreachable);
    assert.match(result.stderr, /erreur réseau : ECONNREFUSED/);
    assert.match(result.stderr, /Vérifiez TCHAP_HOMESERVER_URL/);
  });

  it("fails with exit 2 without the TCHAP_* settings", async () => {
    const result = await run(["check"]);
    assert.equal(result.code, TCHAP_EXIT.usage);
    assert.match(result.stderr, /Définissez TCHAP_HOMESERVER_URL/);
  });
});
