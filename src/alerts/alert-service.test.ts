import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { commitWithAlerts, gristRow } from "../../test/support/alerts/events.ts";
import {
  acceptedSends,
  type FakeHomeserver,
  startFakeHomeserver,
} from "../../test/support/alerts/fake-homeserver.ts";
import { waitUntil } from "../../test/support/wait.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { createAlertService } from "./alert-service.ts";
import { alertsConfigFromTchap } from "./rules.ts";

const TOKEN = "syt_service";
const BOT = "@bot:example";
const ROOM = "!alertes:example";

let homeserver: FakeHomeserver;
before(async () => {
  homeserver = await startFakeHomeserver({
    tokens: { [TOKEN]: BOT },
    rooms: { [ROOM]: { members: [BOT] } },
  });
});
after(() => homeserver.close());

describe("alert service", () => {
  it("sends an alert right after the commit that planned it, without waiting for the poll", async () => {
    const store = new MemoryStore();
    const service = createAlertService({
      config: alertsConfigFromTchap({
        homeserverUrl: homeserver.url,
        accessToken: TOKEN,
        roomId: ROOM,
      }),
      outbox: store,
      dashboardUrl: "https://relais.example",
      pollIntervalMs: 600_000,
    });
    const unsubscribe = store.onAppended(service.onCommitted);
    service.start();
    try {
      await commitWithAlerts(store, [gristRow(1, { Priorite: "Normale" })], service.planner);
      await commitWithAlerts(store, [gristRow(1, { Priorite: "Urgente" })], service.planner);
      await waitUntil(
        () => homeserver.messages.length > 0,
        3000,
        "the alert to reach the homeserver",
      );
      assert.equal(homeserver.messages.length, 1);
      assert.match(String(homeserver.messages[0]?.content.body), /Priorité : Normale → Urgente/);
    } finally {
      unsubscribe();
      await service.stop();
    }
    assert.deepEqual(await store.counts(), { pending: 0, sent: 1, failed: 0 });
    // Stopped with nothing pending: no later send can come, so this count is final.
    assert.equal(acceptedSends(homeserver).length, 1, "one request reached the homeserver");
  });
});
