import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { encodeRecoveryKey } from "matrix-js-sdk/lib/crypto-api/recovery-key.js";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../../test/support/alerts/fake-homeserver.ts";
import {
  type Supervisor,
  startSupervisor,
} from "../../../test/support/alerts/matrix-supervisor.ts";
import { type CrossSigningSecrets, crossSigningLogLine } from "./cross-signing.ts";
import { startMatrixSession } from "./session-host.ts";

const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
const SUPERVISOR = "@cheffe:agent.dinum.tchap.gouv.fr";
const ROOM = "!chiffre:agent.dinum.tchap.gouv.fr";
const PASSWORD = "mot de passe du compte du bot";

interface World {
  homeserver: FakeHomeserver;
  supervisor: Supervisor;
  dir: string;
  /** Other clients a test started, stopped with the world. */
  others: Supervisor[];
}
const worlds: World[] = [];

async function world(): Promise<World> {
  const dir = await mkdtemp(join(tmpdir(), "grt-xsign-"));
  const homeserver = await startFakeHomeserver({
    tokens: {
      syt_bot: { userId: BOT, deviceId: "BOTDEVICE" },
      syt_relogin: { userId: BOT, deviceId: "NEWDEVICE" },
      syt_web: { userId: BOT, deviceId: "TCHAPWEB" },
      syt_sup: { userId: SUPERVISOR, deviceId: "SUPPHONE" },
    },
    rooms: { [ROOM]: { members: [BOT, SUPERVISOR], encrypted: true } },
    accounts: { [BOT]: { password: PASSWORD } },
  });
  const supervisor = await startSupervisor({
    homeserverUrl: homeserver.url,
    accessToken: "syt_sup",
    userId: SUPERVISOR,
    deviceId: "SUPPHONE",
  });
  const created = { homeserver, supervisor, dir, others: [] };
  worlds.push(created);
  return created;
}

afterEach(async () => {
  for (const { supervisor, homeserver, dir, others } of worlds.splice(0)) {
    for (const other of others) await other.stop();
    await supervisor.stop();
    await homeserver.close();
    await rm(dir, { recursive: true, force: true });
  }
});

function botSession(w: World, crossSigning: CrossSigningSecrets, device = "BOTDEVICE") {
  return startMatrixSession({
    homeserverUrl: w.homeserver.url,
    accessToken: device === "BOTDEVICE" ? "syt_bot" : "syt_relogin",
    userId: BOT,
    deviceId: device,
    storeFile: join(w.dir, `${device}.crypto`),
    storeSecret: "une phrase secrète assez longue",
    crossSigning,
  });
}

/** Restarts the bot's session once: start, read what it found, stop (the store is saved). */
async function runOnce(w: World, secrets: CrossSigningSecrets, device = "BOTDEVICE") {
  const bot = await botSession(w, secrets, device);
  await bot.stop();
  return bot.crossSigning;
}

const masterKeyOnServer = (w: World) =>
  JSON.stringify(w.homeserver.state.crossSigning.get(BOT)?.master_key?.keys ?? null);
const acceptedUploads = (w: World) =>
  w.homeserver.requests.filter(
    (r) => r.url.endsWith("/keys/device_signing/upload") && r.status === 200,
  ).length;

describe("cross-signing of the bot's device", () => {
  it("leaves the device unsigned and publishes nothing without the password", async () => {
    const w = await world();
    const outcome = await runOnce(w, {});
    assert.deepEqual(outcome, { state: "missing-secret", needs: "password" });
    // The supervisor did fetch the bot's keys: the device is known, just not signed.
    assert.deepEqual(Object.keys(await w.supervisor.devicesOf(BOT)), ["BOTDEVICE"]);
    assert.equal(await w.supervisor.crossSignedByOwner(BOT, "BOTDEVICE"), false);
    assert.equal(w.homeserver.state.crossSigning.has(BOT), false);
  });

  it("signs the device with the account password, as the supervisor's client sees it", async () => {
    const w = await world();
    const outcome = await runOnce(w, { password: PASSWORD });
    assert.equal(outcome?.state, "bootstrapped", JSON.stringify(outcome));
    await w.supervisor.waitForCrossSigned(BOT, "BOTDEVICE");
    // The upload went through user-interactive auth: one 401 asking for the password first.
    const uploads = w.homeserver.requests.filter((r) =>
      r.url.endsWith("/keys/device_signing/upload"),
    );
    assert.deepEqual(
      uploads.map((r) => r.status),
      [401, 200],
    );
  });

  it("keeps the same cross-signing keys across restarts, even without the password", async () => {
    const w = await world();
    const first = await runOnce(w, { password: PASSWORD });
    assert.equal(first?.state, "bootstrapped", JSON.stringify(first));
    const published = masterKeyOnServer(w);
    assert.notEqual(published, "null");
    const again = await runOnce(w, { password: PASSWORD });
    const withoutPassword = await runOnce(w, {});
    assert.equal(again?.state, "signed");
    assert.equal(withoutPassword?.state, "signed");
    assert.equal(
      again?.state === "signed" && again.masterKey,
      first?.state === "bootstrapped" && first.masterKey,
    );
    assert.equal(masterKeyOnServer(w), published);
    assert.equal(acceptedUploads(w), 1);
    assert.equal(await w.supervisor.crossSignedByOwner(BOT, "BOTDEVICE"), true);
  });

  it("publishes nothing with a wrong password, and succeeds at the next start with the right one", async () => {
    const w = await world();
    const refused = await runOnce(w, { password: "pas le bon" });
    assert.equal(refused?.state, "failed", JSON.stringify(refused));
    assert.doesNotMatch(JSON.stringify(refused), /pas le bon/);
    assert.equal(w.homeserver.state.crossSigning.has(BOT), false);
    const accepted = await runOnce(w, { password: PASSWORD });
    assert.equal(accepted?.state, "bootstrapped", JSON.stringify(accepted));
    await w.supervisor.waitForCrossSigned(BOT, "BOTDEVICE");
  });

  it("does not replace an identity published by another device, without a recovery key or with one whose storage lacks the keys", async () => {
    const w = await world();
    await runOnce(w, { password: PASSWORD });
    const published = masterKeyOnServer(w);
    // A new login: another device, with a fresh store that holds no private keys.
    const other = await runOnce(w, { password: PASSWORD }, "NEWDEVICE");
    assert.deepEqual(other, { state: "missing-secret", needs: "recovery-key" });
    // A recovery key whose secret storage does not hold the keys makes none either.
    const noStorage = await runOnce(
      w,
      { recoveryKey: encodeRecoveryKey(randomBytes(32)) ?? "" },
      "NEWDEVICE",
    );
    assert.equal(noStorage?.state, "failed", JSON.stringify(noStorage));
    assert.equal(masterKeyOnServer(w), published);
    assert.equal(acceptedUploads(w), 1);
  });

  it("reads an identity made in Tchap with the recovery key and signs the device, making no new keys", async () => {
    const w = await world();
    const tchapWeb = await startSupervisor({
      homeserverUrl: w.homeserver.url,
      accessToken: "syt_web",
      userId: BOT,
      deviceId: "TCHAPWEB",
    });
    w.others.push(tchapWeb);
    const recoveryKey = await tchapWeb.createIdentityWithRecoveryKey(PASSWORD);
    const published = masterKeyOnServer(w);
    assert.notEqual(published, "null");
    assert.equal(acceptedUploads(w), 1);
    const wrong = await runOnce(w, { recoveryKey: encodeRecoveryKey(randomBytes(32)) ?? "" });
    assert.equal(wrong?.state, "failed", JSON.stringify(wrong));
    assert.equal(await w.supervisor.crossSignedByOwner(BOT, "BOTDEVICE"), false);
    const outcome = await runOnce(w, { recoveryKey });
    assert.equal(outcome?.state, "bootstrapped", JSON.stringify(outcome));
    assert.equal(outcome?.state === "bootstrapped" && outcome.source, "recovery-key");
    await w.supervisor.waitForCrossSigned(BOT, "BOTDEVICE");
    assert.equal(masterKeyOnServer(w), published);
    assert.equal(acceptedUploads(w), 1);
    // The store now holds the keys: the next start needs no secret.
    assert.equal((await runOnce(w, {}))?.state, "signed");
  });
});

describe("crossSigningLogLine", () => {
  it("warns with the setting to define when a secret is missing, and informs when signed", () => {
    assert.deepEqual(crossSigningLogLine({ state: "missing-secret", needs: "recovery-key" }), {
      level: "warn",
      fields: { needs: "TCHAP_RECOVERY_KEY" },
      message: "bot device not cross-signed: Tchap shows it as unverified",
    });
    assert.equal(crossSigningLogLine({ state: "signed", masterKey: "MSK" }).level, "info");
    assert.equal(
      crossSigningLogLine({ state: "bootstrapped", masterKey: "MSK", source: "password" }).message,
      "bot device cross-signed now",
    );
  });
});
