import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  GeoplateformeDouble,
  type KnownAddress,
} from "../../test/support/geocoder/geoplateforme-double.ts";
import { openSse } from "../../test/support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../../test/support/test-relay.ts";
import { waitUntil } from "../../test/support/wait.ts";

const PRADO = "12 avenue du Prado, 13008 Marseille";
const PRADO_ANSWER: KnownAddress = {
  latitude: 43.2804,
  longitude: 5.3862,
  score: 0.96,
  label: "12 Avenue du Prado 13008 Marseille",
  postcode: "13008",
  citycode: "13208",
  city: "Marseille",
  context: "13, Bouches-du-Rhône, Provence-Alpes-Côte d'Azur",
};

interface RecordView {
  id: number;
  latitude: number | null;
  longitude: number | null;
  positionSource: string | null;
  positionScore: number | null;
  fields: Record<string, unknown>;
}

async function records(relay: TestRelay): Promise<Map<number, RecordView>> {
  const body = (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
    records: RecordView[];
  };
  return new Map(body.records.map((record) => [record.id, record]));
}

function geocodingEnv(double: GeoplateformeDouble): Record<string, string> {
  return { GEOCODER: "geoplateforme", GEOCODER_URL: double.url, GEOCODER_TIMEOUT_MS: "500" };
}

describe("geocoding a row that has an address and no coordinates", () => {
  let double: GeoplateformeDouble;
  let dataDir: string;
  before(async () => {
    double = await GeoplateformeDouble.start();
    double.know(PRADO, PRADO_ANSWER);
    dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-geocode-"));
  });
  after(async () => {
    await double.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("acknowledges the webhook, then streams the double's position with positionSource adresse within a second", async () => {
    const relay = await startTestRelay({ dataDir, env: geocodingEnv(double) });
    try {
      const stream = await openSse(`${relay.url}/events`);
      const posted = performance.now();
      const response = await relay.postWebhook([gristRow(1, { Localisation: PRADO })]);
      assert.equal(response.status, 200);
      const added = await stream.waitFor((m) => m.event === "record.added");
      assert.equal((added.json as { record: RecordView }).record.positionSource, "departement");
      const placed = await stream.waitFor((m) => m.event === "record.updated", 1000);
      const elapsed = performance.now() - posted;
      const event = placed.json as {
        source: string;
        record: RecordView;
        changes: Record<string, unknown>;
      };
      assert.ok(elapsed < 1000, `${elapsed} ms`);
      assert.equal(event.source, "geocoding");
      assert.deepEqual(
        [event.record.latitude, event.record.longitude, event.record.positionSource],
        [43.2804, 5.3862, "adresse"],
      );
      assert.equal(event.record.positionScore, 0.96);
      assert.deepEqual(Object.keys(event.changes).sort(), [
        "latitude",
        "longitude",
        "positionScore",
        "positionSource",
      ]);
      // What was sent: the address text only, on the address index, one result.
      assert.deepEqual(
        double.requests.map((r) => [r.q, r.index, r.limit]),
        [[PRADO, "address", "1"]],
      );
      stream.close();
    } finally {
      await relay.close();
    }
  });

  it("keeps the position through a later edit of the row that leaves the address alone", async () => {
    const relay = await startTestRelay({ dataDir, env: geocodingEnv(double) });
    try {
      const response = await relay.postWebhook(
        [gristRow(1, { Localisation: PRADO, Statut: "En cours", Derniere_MAJ: 1795478500 })],
        { event: "update" },
      );
      assert.equal(response.status, 200);
      const row = (await records(relay)).get(1);
      assert.equal(row?.positionSource, "adresse");
      assert.deepEqual([row?.latitude, row?.longitude], [43.2804, 5.3862]);
    } finally {
      await relay.close();
    }
  });

  it("asks nothing again for the same address in another row, nor after a restart", async () => {
    const before = double.requestsFor(PRADO).length;
    assert.equal(before, 1, "the first test asked once");
    // Same data folder: a restart over the same SQLite file and its cache table.
    const relay = await startTestRelay({ dataDir, env: geocodingEnv(double) });
    try {
      await relay.postWebhook([
        gristRow(2, { Localisation: PRADO }),
        // Another spelling of the same address shares the cache entry.
        gristRow(3, { Localisation: "12 Avenue du Prado 13008 MARSEILLE" }),
      ]);
      await waitUntil(async () => {
        const rows = await records(relay);
        return (
          rows.get(2)?.positionSource === "adresse" && rows.get(3)?.positionSource === "adresse"
        );
      });
      // Both rows wait on one entry: one address, answered from the file's cache.
      assert.equal(relay.relay.geocoding?.stats.cacheHits, 1);
      assert.equal(relay.relay.geocoding?.stats.cacheMisses, 0);
      assert.equal(double.requestsFor(PRADO).length, 1);
      assert.equal(double.requests.length, 1);
    } finally {
      await relay.close();
    }
  });
});

describe("the geocoder's limits", () => {
  let double: GeoplateformeDouble;
  before(async () => {
    double = await GeoplateformeDouble.start();
  });
  after(() => double.close());

  it("retries a 429 after the Retry-After the service asked for, then places the row", async () => {
    const address = "3 rue Esquermoise, 59000 Lille";
    double.know(address, {
      ...PRADO_ANSWER,
      latitude: 50.6386,
      longitude: 3.0614,
      label: "3 Rue Esquermoise 59000 Lille",
    });
    double.failNext({ kind: "429", retryAfterSeconds: 1 });
    const relay = await startTestRelay({ env: { ...geocodingEnv(double), STORE: "memory" } });
    try {
      await relay.postWebhook([gristRow(1, { Localisation: address })]);
      await waitUntil(async () => (await records(relay)).get(1)?.positionSource === "adresse");
      const asked = double.requestsFor(address);
      assert.deepEqual(
        asked.map((r) => r.answer),
        ["429", "found"],
      );
      const waited = (asked[1]?.at ?? 0) - (asked[0]?.at ?? 0);
      assert.ok(waited >= 990, `second request after ${waited} ms`);
      assert.deepEqual(
        [(await records(relay)).get(1)?.latitude, (await records(relay)).get(1)?.longitude],
        [50.6386, 3.0614],
      );
    } finally {
      await relay.close();
    }
  });

  it("never starts more requests in a second than GEOCODER_RATE_PER_SECOND", async () => {
    const relay = await startTestRelay({
      env: { ...geocodingEnv(double), STORE: "memory", GEOCODER_RATE_PER_SECOND: "10" },
    });
    try {
      const before = double.requests.length;
      await relay.postWebhook(
        Array.from({ length: 15 }, (_, i) =>
          gristRow(i + 1, { Localisation: `${i + 1} rue du Débit, 13001 Marseille` }),
        ),
      );
      await waitUntil(() => double.requests.length - before === 15, 10_000);
      const times = double.requests.slice(before).map((r) => r.at);
      // Any 11 consecutive requests span about a second: the slack absorbs one request sent
      // late by a busy event loop; without the limit all 15 arrive within a few milliseconds.
      for (let i = 0; i + 10 < times.length; i++) {
        const span = (times[i + 10] as number) - (times[i] as number);
        assert.ok(span >= 800, `requests ${i}–${i + 10} within ${span} ms`);
      }
      const total = (times.at(-1) as number) - (times[0] as number);
      assert.ok(total >= 1300, `15 requests at 10/s took ${total} ms`);
    } finally {
      await relay.close();
    }
  });

  it("retries 5xx and timeouts with backoff, and leaves a row the service never answers at its département", async () => {
    const flaky = "8 rue Garibaldi, 69003 Lyon";
    double.know(flaky, { ...PRADO_ANSWER, latitude: 45.7611, longitude: 4.8528, label: flaky });
    double.failNext({ kind: "5xx", status: 503 }, { kind: "timeout" });
    const relay = await startTestRelay({
      env: { ...geocodingEnv(double), STORE: "memory", GEOCODER_TIMEOUT_MS: "200" },
    });
    try {
      await relay.postWebhook([gristRow(1, { Localisation: flaky })]);
      await waitUntil(async () => (await records(relay)).get(1)?.positionSource === "adresse");
      assert.deepEqual(
        double.requestsFor(flaky).map((r) => r.answer),
        ["5xx", "timeout", "found"],
      );
      // Five failures in a row: the relay gives up and the row stays approximate.
      const down = "1 cours Napoléon, 20000 Ajaccio";
      double.failNext(
        ...Array.from({ length: 5 }, () => ({ kind: "5xx" as const, status: 502 as const })),
      );
      await relay.postWebhook([gristRow(2, { Localisation: down })]);
      await waitUntil(() => (relay.relay.geocoding?.stats.failures ?? 0) === 1, 15_000);
      assert.equal(double.requestsFor(down).length, 5);
      const row = (await records(relay)).get(2);
      assert.equal(row?.positionSource, "departement");
    } finally {
      await relay.close();
    }
  });

  it("leaves a low-score answer at the département's point", async () => {
    const vague = "Lieu-dit les Granges, 13100 Aix-en-Provence";
    double.know(vague, { ...PRADO_ANSWER, score: 0.31, label: "Aix-en-Provence" });
    const relay = await startTestRelay({ env: { ...geocodingEnv(double), STORE: "memory" } });
    try {
      await relay.postWebhook([gristRow(1, { Localisation: vague })]);
      await waitUntil(() => double.requestsFor(vague).length === 1);
      await relay.relay.geocoding?.idle();
      const row = (await records(relay)).get(1);
      assert.equal(row?.positionSource, "departement");
      assert.notEqual(row?.latitude, PRADO_ANSWER.latitude);
    } finally {
      await relay.close();
    }
  });

  it("never geocodes nor moves a row with typed coordinates", async () => {
    const typed = "5 quai des Chartrons, 33000 Bordeaux";
    double.know(typed, { ...PRADO_ANSWER, latitude: 44.85, longitude: -0.57, label: typed });
    double.know(PRADO, PRADO_ANSWER);
    const relay = await startTestRelay({ env: { ...geocodingEnv(double), STORE: "memory" } });
    try {
      await relay.postWebhook([
        gristRow(1, { Localisation: typed, Latitude: 44.8412, Longitude: -0.5703 }),
        gristRow(2, { Localisation: PRADO }),
      ]);
      // Row 2 proves the geocoder ran on this batch.
      await waitUntil(async () => (await records(relay)).get(2)?.positionSource === "adresse");
      await relay.relay.geocoding?.idle();
      assert.equal(double.requestsFor(typed).length, 0);
      const row = (await records(relay)).get(1);
      assert.deepEqual(
        [row?.latitude, row?.longitude, row?.positionSource],
        [44.8412, -0.5703, "grist"],
      );
    } finally {
      await relay.close();
    }
  });
});

describe("with the geocoder off", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { GEOCODER: "off", STORE: "memory" } });
  });
  after(() => relay.close());

  it("places a 13 row in Bouches-du-Rhône and a 973 row in Guyane, as approximate", async () => {
    await relay.postWebhook([
      gristRow(1, { Localisation: "12 avenue du Prado, 13008 Marseille" }),
      gristRow(2, { Localisation: "Route de Montabo, 97300 Cayenne" }),
      gristRow(3, { Localisation: "Sans code postal" }),
    ]);
    const rows = await records(relay);
    const marseille = rows.get(1);
    const guyane = rows.get(2);
    assert.equal(marseille?.positionSource, "departement");
    assert.equal(guyane?.positionSource, "departement");
    // Bounding boxes of the départements, read off a map: Bouches-du-Rhône lies within
    // 43.15–43.93 N, 4.23–5.82 E; Guyane within 2.1–5.8 N, 51.6–54.6 W.
    const inBox = (r: RecordView | undefined, [s, n, w, e]: number[]) =>
      r?.latitude != null &&
      r.longitude != null &&
      r.latitude > (s as number) &&
      r.latitude < (n as number) &&
      r.longitude > (w as number) &&
      r.longitude < (e as number);
    assert.ok(inBox(marseille, [43.15, 43.93, 4.23, 5.82]), JSON.stringify(marseille));
    assert.ok(inBox(guyane, [2.1, 5.8, -54.6, -51.6]), JSON.stringify(guyane));
    assert.deepEqual(
      [rows.get(3)?.latitude, rows.get(3)?.positionSource],
      [null, null],
      "no département, no position",
    );
    assert.equal(relay.relay.geocoding, null);
  });
});
