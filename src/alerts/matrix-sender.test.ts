import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { intervention, relayEvent } from "../../test/support/alerts/events.ts";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { type Supervisor, startSupervisor } from "../../test/support/alerts/matrix-supervisor.ts";
import { createMatrixSender } from "./matrix-sender.ts";
import { renderAlert } from "./message.ts";
import type { AlertPayload } from "./payload.ts";
import type { MatrixDestination } from "./rules.ts";

const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
const SUPERVISOR = "@cheffe:agent.dinum.tchap.gouv.fr";
const CLEAR = "!forum:agent.dinum.tchap.gouv.fr";
const ENCRYPTED = "!prive:agent.dinum.tchap.gouv.fr";
const SECRET = "une phrase secrète assez longue pour le magasin";
const PASSWORD = "mot de passe du compte du bot";

let homeserver: FakeHomeserver;
let supervisor: Supervisor;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grt-matrix-sender-"));
  homeserver = await startFakeHomeserver({
    tokens: {
      syt_bot: { userId: BOT, deviceId: "RELAISBOT" },
      syt_sup: { userId: SUPERVISOR, deviceId: "TELEPHONE" },
    },
    rooms: {
      [CLEAR]: { members: [BOT, SUPERVISOR] },
      [ENCRYPTED]: { members: [BOT, SUPERVISOR], encrypted: true },
    },
    accounts: { [BOT]: { password: PASSWORD } },
  });
  supervisor = await startSupervisor({
    homeserverUrl: homeserver.url,
    accessToken: "syt_sup",
    userId: SUPERVISOR,
    deviceId: "TELEPHONE",
  });
});
after(async () => {
  await supervisor?.stop();
  await homeserver?.close();
  await rm(dir, { recursive: true, force: true });
});

function destination(roomId: string): MatrixDestination {
  return {
    name: "tchap",
    kind: "matrix",
    homeserverUrl: homeserver.url,
    accessToken: "syt_bot",
    roomId,
    minIntervalMs: 0,
  };
}

function urgentAlert(reference: string, txnId: string): AlertPayload {
  // The relay stores no event for Matrix payloads (payload.ts).
  const event = relayEvent({
    type: "record.updated",
    record: intervention({ reference, priorite: "Urgente" }),
    changes: { priorite: { from: "Haute", to: "Urgente" } },
  });
  return {
    v: 1,
    rule: "urgent",
    eventId: event.id,
    reference,
    txnId,
    message: renderAlert(event, "🚨 Intervention urgente", {
      dashboardUrl: "https://relais.exemple.gouv.fr",
    }),
  };
}

const crossSigning: (string | undefined)[] = [];
const crypto = () => ({
  storeDir: join(dir, "tchap"),
  storeSecret: SECRET,
  crossSigning: { password: PASSWORD },
  onCrossSigning: (outcome: { state: string } | null) => crossSigning.push(outcome?.state),
});

describe("Matrix destination", () => {
  it("sends an urgent alert to an unencrypted room as m.text that notifies, unlike a notice", async () => {
    const sender = createMatrixSender(destination(CLEAR));
    const outcome = await sender.send("k1", urgentAlert("INT-101", "txn-clear-1"));
    assert.equal(outcome.ok, true);
    // A notice posted by hand, to show the push rules really are evaluated.
    await fetch(
      `${homeserver.url}/_matrix/client/v3/rooms/${encodeURIComponent(CLEAR)}/send/m.room.message/notice-1`,
      {
        method: "PUT",
        headers: { Authorization: "Bearer syt_bot" },
        body: JSON.stringify({ msgtype: "m.notice", body: "notice" }),
      },
    );
    const messages = await supervisor.waitForMessages(2);
    const alert = messages.find((m) => m.content.body !== "notice");
    const notice = messages.find((m) => m.content.body === "notice");
    assert.equal(
      homeserver.messages.find((m) => m.txnId === "txn-clear-1")?.eventType,
      "m.room.message",
    );
    assert.equal(alert?.wasEncrypted, false);
    assert.equal(alert?.content.msgtype, "m.text");
    assert.match(String(alert?.content.body), /^🚨 Intervention urgente : INT-101/);
    assert.match(String(alert?.content.formatted_body), /\?q=INT-101/);
    assert.equal(alert?.notify, true);
    assert.equal(notice?.notify, false);
  });

  it("refuses an encrypted room without a store key rather than sending in clear", async () => {
    const before = homeserver.messages.length;
    const outcome = await createMatrixSender(destination(ENCRYPTED)).send(
      "k2",
      urgentAlert("INT-102", "txn-refused"),
    );
    assert.ok(!outcome.ok && outcome.kind === "rejected" && !outcome.retryable);
    assert.match(outcome.message, /salon chiffré : définissez TCHAP_STORE_KEY/);
    assert.equal(homeserver.messages.length, before);
  });

  it("encrypts for an encrypted room; after a restart the device is the same and alerts still decrypt", async () => {
    const seen = (await supervisor.waitForMessages(0)).length;
    const first = createMatrixSender(destination(ENCRYPTED), { crypto: crypto() });
    try {
      const outcome = await first.send("k3", urgentAlert("INT-103", "txn-enc-1"));
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
    } finally {
      await first.close();
    }
    const [before] = (await supervisor.waitForMessages(seen + 1)).slice(seen);
    assert.equal(
      homeserver.messages.find((m) => m.txnId === "txn-enc-1")?.eventType,
      "m.room.encrypted",
    );
    assert.equal(before?.wasEncrypted, true);
    assert.match(String(before?.content.body), /^🚨 Intervention urgente : INT-103/);
    assert.equal(before?.content.msgtype, "m.text");
    assert.equal(before?.notify, true);
    // Cross-signed at the session's start, before the alert: no "unverified device" shield.
    assert.deepEqual(crossSigning, ["bootstrapped"]);
    assert.equal(before?.shield, 0);
    // The store left on disk is sealed: no key material in clear.
    const files = await readdir(join(dir, "tchap"));
    assert.deepEqual(files, ["_alertes_agent.dinum.tchap.gouv.fr-RELAISBOT.crypto"]);

    // A new sender starts a new worker: its IndexedDB is empty, only the file can restore it.
    const second = createMatrixSender(destination(ENCRYPTED), { crypto: crypto() });
    try {
      const outcome = await second.send("k4", urgentAlert("INT-104", "txn-enc-2"));
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
    } finally {
      await second.close();
    }
    const [after] = (await supervisor.waitForMessages(seen + 2)).slice(seen + 1);
    assert.match(String(after?.content.body), /^🚨 Intervention urgente : INT-104/);
    assert.equal(after?.senderKey, before?.senderKey);
    assert.deepEqual(Object.keys(await supervisor.devicesOf(BOT)), ["RELAISBOT"]);
    assert.deepEqual(crossSigning, ["bootstrapped", "signed"]);
    assert.equal(after?.shield, 0);
    assert.equal(homeserver.state.deviceKeyChanges.get(`${BOT}|RELAISBOT`) ?? 0, 0);
  });

  it("cannot reopen the store with another secret", async () => {
    const sender = createMatrixSender(destination(ENCRYPTED), {
      crypto: { ...crypto(), storeSecret: "un autre secret, pas le bon du tout" },
    });
    try {
      const outcome = await sender.send("k5", urgentAlert("INT-105", "txn-wrong-key"));
      assert.ok(!outcome.ok && outcome.kind === "server" && outcome.retryable);
      assert.match(outcome.message, /session chiffrée indisponible/);
    } finally {
      await sender.close();
    }
    assert.equal(homeserver.messages.filter((m) => m.txnId === "txn-wrong-key").length, 0);
  });
});
