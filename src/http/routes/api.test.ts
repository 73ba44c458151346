import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { openSse } from "../../../test/support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../../test/support/test-relay.ts";

describe("JSON API", () => {
  let relay: TestRelay;
  /** The id of the n-th event of this relay's store: "<epoch>.<n>". */
  let id: (n: number) => string;
  before(async () => {
    relay = await startTestRelay({ env: { CORS_ORIGINS: "https://tableau.exemple.fr" } });
    await relay.postWebhook([1, 2, 3, 4, 5].map((id) => gristRow(id)));
    await relay.postWebhook([
      gristRow(1, { Statut: "En cours" }),
      gristRow(2, { Priorite: "Urgente" }),
    ]);
    const epoch = relay.relay.store.epoch;
    id = (n) => `${epoch}.${n}`;
  });
  after(() => relay.close());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${relay.url}${path}`, { headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as any,
    };
  };

  it("gives the current state with the id it is consistent with", async () => {
    const { body } = await get("/api/interventions");
    assert.equal(body.records.length, 5);
    assert.equal(body.lastEventId, id(7));
    const filtered = await get("/api/interventions?priorite=urgente");
    assert.deepEqual(
      filtered.body.records.map((r: { id: number }) => r.id),
      [2],
    );
  });

  it("gives the latest events oldest first, pages backwards and forwards", async () => {
    const latest = await get("/api/events?limit=3");
    assert.deepEqual(
      latest.body.events.map((e: { id: string }) => e.id),
      [id(5), id(6), id(7)],
    );
    const before = await get(`/api/events?limit=3&before=${id(5)}`);
    assert.deepEqual(
      before.body.events.map((e: { id: string }) => e.id),
      [id(2), id(3), id(4)],
    );
    const afterPage = await get(`/api/events?after=${id(5)}&limit=10`);
    assert.deepEqual(
      afterPage.body.events.map((e: { id: string }) => e.id),
      [id(6), id(7)],
    );
    assert.equal(afterPage.body.lastEventId, id(7));
  });

  it("answers 410 for an event id beyond the kept history and 400 for bad parameters", async () => {
    const gone = await get(`/api/events?after=${id(99999)}`);
    assert.equal(gone.status, 410);
    assert.equal(gone.body.error.code, "RELAY_ERR_EVENT_ID_GONE");
    for (const query of ["limit=0", "limit=5000", "after=1&before=2", "after=a%0Ab"]) {
      const bad = await get(`/api/events?${query}`);
      assert.equal(bad.status, 400, query);
      assert.equal(bad.body.error.code, "RELAY_ERR_BAD_QUERY");
    }
  });

  it("answers 410 RELAY_ERR_EVENT_ID_FOREIGN for an id of another history, after or before", async () => {
    // Same positions as this store's, in another epoch (a replaced store) or with none.
    for (const foreign of ["zzzzzzzz.5", "5"]) {
      for (const query of [`after=${foreign}`, `before=${foreign}`]) {
        const answer = await get(`/api/events?${query}`);
        assert.equal(answer.status, 410, query);
        assert.equal(answer.body.error.code, "RELAY_ERR_EVENT_ID_FOREIGN", query);
      }
    }
  });

  it("tells the status of the relay", async () => {
    const { body } = await get("/api/status");
    assert.equal(body.store, "sqlite");
    assert.equal(body.ready, true);
    assert.equal(body.eventsLastHour, 7);
    assert.equal(body.lastEventId, id(7));
    assert.ok(Date.parse(body.lastWebhookAt) > 0);
    assert.deepEqual(body.alerts, { pending: 0, sent: 0, failed: 0 });
  });

  it("counts the last hour's events from the store, so a restart does not reset it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-status-"));
    try {
      const first = await startTestRelay({ dataDir });
      await first.postWebhook([1, 2, 3].map((id) => gristRow(id)));
      await first.close();
      const restarted = await startTestRelay({ dataDir });
      const body = (await (await fetch(`${restarted.url}/api/status`)).json()) as {
        eventsLastHour: number;
      };
      assert.equal(body.eventsLastHour, 3);
      await restarted.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("answers unknown routes with a JSON 404", async () => {
    const { status, body } = await get("/nope");
    assert.equal(status, 404);
    assert.equal(body.error.code, "RELAY_ERR_NOT_FOUND");
  });

  it("allows only the configured origins", async () => {
    const allowed = await get("/api/interventions", { Origin: "https://tableau.exemple.fr" });
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://tableau.exemple.fr");
    const other = await get("/api/interventions", { Origin: "https://ailleurs.example.com" });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    const preflight = await fetch(`${relay.url}/events`, {
      method: "OPTIONS",
      headers: { Origin: "https://tableau.exemple.fr", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Last-Event-ID/);
  });

  // Last: it adds an event the tests above do not expect.
  it("sends the whole state gzipped to a client that takes it, and joins the stream at its lastEventId", async () => {
    const raw = (acceptEncoding: string | null) =>
      new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
        const headers = acceptEncoding ? { "Accept-Encoding": acceptEncoding } : {};
        request(`${relay.url}/api/interventions`, { headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }),
          );
        })
          .once("error", reject)
          .end();
      });
    const plain = await raw(null);
    assert.equal(plain.encoding, undefined);
    const state = JSON.parse(plain.body.toString()) as { records: unknown[]; lastEventId: string };
    assert.equal(state.records.length, 5);
    const zipped = await raw("br, gzip;q=0.8");
    assert.equal(zipped.encoding, "gzip");
    assert.deepEqual(JSON.parse(gunzipSync(zipped.body).toString()), state);
    assert.equal((await raw("gzip;q=0")).encoding, undefined, "q=0 refuses gzip");

    const stream = await openSse(`${relay.url}/events`, { "Last-Event-ID": state.lastEventId });
    try {
      await relay.postWebhook([gristRow(9)]);
      const added = await stream.waitFor((m) => m.event === "record.added");
      assert.equal((added.json as { record: { id: number } }).record.id, 9);
      assert.deepEqual(
        stream.messages.map((m) => m.event),
        ["record.added"],
        "nothing before the state's last event is sent again",
      );
    } finally {
      stream.close();
    }
  });
});
