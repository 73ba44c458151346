import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { commitWithAlerts, gristRow } from "../../test/support/alerts/events.ts";
import {
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { type Supervisor, startSupervisor } from "../../test/support/alerts/matrix-supervisor.ts";
import { waitUntil } from "../../test/support/wait.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { createAlertService } from "./alert-service.ts";
import { alertsConfigFromTchap } from "./rules.ts";

const BOT = "@alertes:agent.dinum.tchap.gouv.fr";
const SUPERVISOR = "@cheffe:agent.dinum.tchap.gouv.fr";
const ROOM = "!prive:agent.dinum.tchap.gouv.fr";
const RETRY_AFTER_MS = 700;

let homeserver: FakeHomeserver;
let supervisor: Supervisor;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "grt-matrix-retry-"));
  homeserver = await startFakeHomeserver({
    tokens: {
      syt_bot: { userId: BOT, deviceId: "RELAISBOT" },
      syt_sup: { userId: SUPERVISOR, deviceId: "TELEPHONE" },
    },
    rooms: { [ROOM]: { members: [BOT, SUPERVISOR], encrypted: true } },
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

describe("encrypted alert under rate limiting", () => {
  it("retries a 429 on the encrypted send once the wait has passed, and the room gets it exactly once", async () => {
    const store = new MemoryStore();
    const service = createAlertService({
      config: alertsConfigFromTchap({
        homeserverUrl: homeserver.url,
        accessToken: "syt_bot",
        roomId: ROOM,
      }),
      outbox: store,
      pollIntervalMs: 50,
      backoff: { baseMs: 100, maxMs: 1000 },
      matrixCrypto: { storeDir: join(dir, "tchap"), storeSecret: "secret du magasin de test" },
    });
    const unsubscribe = store.onAppended(service.onCommitted);
    homeserver.failNext(1, { status: 429, retryAfterMs: RETRY_AFTER_MS });
    service.start();
    try {
      await commitWithAlerts(store, [gristRow(1, { Priorite: "Normale" })], service.planner);
      await commitWithAlerts(store, [gristRow(1, { Priorite: "Urgente" })], service.planner);
      const [message] = await supervisor.waitForMessages(1);
      assert.match(String(message?.content.body), /Priorité : Normale → Urgente/);
      await waitUntil(() => homeserver.messages.length > 0, 20_000);
    } finally {
      unsubscribe();
      await service.stop();
    }
    const sends = homeserver.requests.filter(
      (r) => r.method === "PUT" && r.url.includes("/send/m.room.encrypted/"),
    );
    assert.deepEqual(
      sends.map((r) => r.status),
      [429, 200],
    );
    const [limited, delivered] = sends;
    assert.ok((delivered?.at ?? 0) - (limited?.at ?? 0) >= RETRY_AFTER_MS);
    assert.equal(
      new URL(limited?.url ?? "", "http://x").pathname,
      new URL(delivered?.url ?? "", "http://x").pathname,
    );
    const roomMessages = homeserver.state
      .roomEvents(ROOM)
      .filter((event) => event.type === "m.room.encrypted");
    assert.equal(roomMessages.length, 1);
    assert.equal((await supervisor.waitForMessages(1)).length, 1);
    assert.deepEqual(await store.counts(), { pending: 0, sent: 1, failed: 0 });
  });
});
