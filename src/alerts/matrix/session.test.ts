import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../../test/support/alerts/fake-homeserver.ts";
import {
  type Supervisor,
  startSupervisor,
} from "../../../test/support/alerts/matrix-supervisor.ts";
import { startMatrixSession } from "./session-host.ts";

const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
const SUPERVISOR = "@cheffe:agent.dinum.tchap.gouv.fr";
const ROOM = "!chiffre:agent.dinum.tchap.gouv.fr";

let homeserver: FakeHomeserver;
let supervisor: Supervisor;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grt-matrix-"));
  homeserver = await startFakeHomeserver({
    tokens: {
      syt_bot: { userId: BOT, deviceId: "BOTDEVICE" },
      syt_sup: { userId: SUPERVISOR, deviceId: "SUPPHONE" },
    },
    rooms: { [ROOM]: { members: [BOT, SUPERVISOR], encrypted: true } },
  });
  supervisor = await startSupervisor({
    homeserverUrl: homeserver.url,
    accessToken: "syt_sup",
    userId: SUPERVISOR,
    deviceId: "SUPPHONE",
  });
});
after(async () => {
  await supervisor?.stop();
  await homeserver?.close();
  await rm(dir, { recursive: true, force: true });
});

const session = () =>
  startMatrixSession({
    homeserverUrl: homeserver.url,
    accessToken: "syt_bot",
    userId: BOT,
    deviceId: "BOTDEVICE",
    storeFile: join(dir, "bot.crypto"),
    storeSecret: "une phrase secrète assez longue",
  });

describe("Matrix encrypted session", () => {
  it("sends an alert the supervisor's client decrypts", async () => {
    const bot = await session();
    try {
      assert.equal(await bot.isRoomEncrypted(ROOM), true);
      const outcome = await bot.send(ROOM, "txn-1", {
        msgtype: "m.text",
        body: "🚨 Intervention urgente : INT-001",
        format: "org.matrix.custom.html",
        formatted_body: "<p><strong>🚨 Intervention urgente : INT-001</strong></p>",
      });
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const [message] = await supervisor.waitForMessages(1);
      assert.equal(homeserver.messages.at(-1)?.eventType, "m.room.encrypted");
      assert.equal(message?.wasEncrypted, true);
      assert.equal(message?.content.body, "🚨 Intervention urgente : INT-001");
      // No password nor recovery key: the device is not cross-signed, and the supervisor's
      // client draws the red shield of a device its owner did not verify.
      assert.deepEqual(bot.crossSigning, { state: "missing-secret", needs: "password" });
      assert.equal(message?.shield, 2);
    } finally {
      await bot.stop();
    }
  });
});
