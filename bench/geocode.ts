/**
 * Geocoding measurements (issue 8/10), run by hand:
 * `node bench/geocode.ts [addresses] [changes] [changes per second]`.
 * 1. Throughput: a relay in this process, geocoder pointed at the Géoplateforme double, is sent
 *    `addresses` rows with distinct addresses (default 1,000); reported: requests/s until every
 *    row is placed, against the configured rate limit (GEOCODER_RATE_PER_SECOND, 40 by default).
 * 2. The demo: `changes` simulated field changes (default 1,000 at 50/s; the demo itself runs
 *    at 2/s), the guide's table without coordinates, the demo's simulated geocoder; reported:
 *    address lookups, cache hits, requests, distinct addresses. Faster than the demo, more
 *    edits arrive while their address is still queued and join it instead of counting as a
 *    lookup, so the ratio depends on the rate.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RelayTarget, runSimulation } from "../src/cli/simulate-command.ts";
import { loadConfig } from "../src/config/config.ts";
import { SimulatedGeocoder } from "../src/geocode/simulated-geocoder.ts";
import { FieldSimulator } from "../src/grist/simulator.ts";
import { createLogger } from "../src/log/logger.ts";
import { createRelay } from "../src/relay.ts";
import { GeoplateformeDouble } from "../test/support/geocoder/geoplateforme-double.ts";
import { gristRow, startTestRelay } from "../test/support/test-relay.ts";

const addresses = Number(process.argv[2] ?? 1000);
const changes = Number(process.argv[3] ?? 1000);
const changesPerSecond = Number(process.argv[4] ?? 50);

async function throughput(): Promise<void> {
  const double = await GeoplateformeDouble.start();
  const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-bench-geocode-"));
  const relay = await startTestRelay({
    dataDir,
    env: { GEOCODER: "geoplateforme", GEOCODER_URL: double.url },
  });
  try {
    const rows = Array.from({ length: addresses }, (_, i) => {
      const address = `${i + 1} rue de la République, 13001 Marseille`;
      double.know(address, {
        latitude: 43.29 + i * 1e-5,
        longitude: 5.37,
        score: 0.9,
        label: address,
        postcode: "13001",
        citycode: "13201",
        city: "Marseille",
        context: "13",
      });
      return gristRow(i + 1, { Localisation: address });
    });
    const started = performance.now();
    for (let i = 0; i < rows.length; i += 100) await relay.postWebhook(rows.slice(i, i + 100));
    const acked = performance.now() - started;
    await relay.relay.geocoding?.idle();
    const elapsed = (performance.now() - started) / 1000;
    const stats = relay.relay.geocoding?.stats;
    const placed = (
      (await (await fetch(`${relay.url}/api/interventions`)).json()) as {
        records: { positionSource: string }[];
      }
    ).records.filter((r) => r.positionSource === "adresse").length;
    const first = double.requests[0]?.at ?? 0;
    const last = double.requests.at(-1)?.at ?? 0;
    const rate = (double.requests.length - 1) / ((last - first) / 1000);
    process.stdout.write(
      `throughput: ${addresses} distinct addresses, webhooks acknowledged in ${Math.round(acked)} ms, ` +
        `all placed after ${elapsed.toFixed(1)} s; ${double.requests.length} requests at ` +
        `${rate.toFixed(1)} requests/s (limit ${relay.relay.config.GEOCODER_RATE_PER_SECOND}/s); ` +
        `${placed} rows placed; cache hits ${stats?.cacheHits}, failures ${stats?.failures}\n`,
    );
  } finally {
    await relay.close();
    await double.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function demo(): Promise<void> {
  const config = loadConfig({
    env: {
      HOST: "127.0.0.1",
      PORT: "0",
      STORE: "memory",
      LOG_LEVEL: "silent",
      WEBHOOK_SECRET: "bench-geocode-secret",
    },
  });
  const relay = await createRelay(config, createLogger("silent"), {
    geocoder: new SimulatedGeocoder(),
  });
  const url = await relay.listen();
  try {
    const simulator = new FieldSimulator({ seed: 42, withCoordinates: false });
    await runSimulation({
      simulator,
      target: new RelayTarget(url, "bench-geocode-secret"),
      ratePerSecond: changesPerSecond,
      count: changes,
    });
    await relay.geocoding?.idle();
    const stats = relay.geocoding?.stats;
    const { records } = await relay.store.snapshot();
    const distinct = new Set(records.map((r) => r.localisation)).size;
    const lookups = (stats?.cacheHits ?? 0) + (stats?.cacheMisses ?? 0);
    const bySource = new Map<string, number>();
    for (const r of records)
      bySource.set(String(r.positionSource), (bySource.get(String(r.positionSource)) ?? 0) + 1);
    process.stdout.write(
      `demo: ${changes} changes at ${changesPerSecond}/s, ${records.length} rows, ${distinct} distinct addresses; ` +
        `${lookups} address lookups, ${stats?.cacheHits} cache hits ` +
        `(${((100 * (stats?.cacheHits ?? 0)) / Math.max(1, lookups)).toFixed(1)} %), ` +
        `${stats?.requests} geocoder requests; positions: ${JSON.stringify(Object.fromEntries(bySource))}\n`,
    );
  } finally {
    await relay.stop();
  }
}

await throughput();
await demo();
