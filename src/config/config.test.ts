import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { describe, it } from "node:test";
import { ConfigError, loadConfig, redactConfig } from "./config.ts";

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

describe("loadConfig", () => {
  it("starts from embedded defaults on loopback", () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.HOST, "127.0.0.1");
    assert.equal(config.PORT, 8080);
    assert.equal(config.STORE, "sqlite");
    assert.equal(config.HEARTBEAT_MS, 30000);
    assert.equal(config.authEnabled, false);
    assert.ok(Object.isFrozen(config));
  });

  it("lets flags win over the environment", () => {
    const config = loadConfig({ env: { PORT: "9000" }, argv: ["--port", "9100", "--trust-proxy"] });
    assert.equal(config.PORT, 9100);
    assert.equal(config.TRUST_PROXY, true);
  });

  it("lists every problem at once, naming the variable and its flag", () => {
    const problems = problemsOf(() =>
      loadConfig({ env: { PORT: "70000", STORE: "mongo", HEARTBEAT_MS: "5" } }),
    );
    assert.equal(problems.length, 3);
    assert.match(problems.join("\n"), /PORT \(--port\)/);
    assert.match(problems.join("\n"), /STORE \(--store\)/);
    assert.match(problems.join("\n"), /HEARTBEAT_MS \(--heartbeat-ms\)/);
  });

  it("names an unknown flag", () => {
    const problems = problemsOf(() => loadConfig({ argv: ["--prot", "1"] }));
    assert.match(problems[0] ?? "", /--prot/);
  });

  it("refuses a public address without authentication unless told explicitly", () => {
    const problems = problemsOf(() => loadConfig({ env: { HOST: "0.0.0.0" } }));
    assert.match(problems[0] ?? "", /sans authentification/);
    assert.equal(
      loadConfig({ env: { HOST: "0.0.0.0", ALLOW_UNAUTHENTICATED_PUBLIC: "true" } }).HOST,
      "0.0.0.0",
    );
    const secret = "s".repeat(32);
    assert.equal(
      loadConfig({ env: { HOST: "0.0.0.0", AUTH_JWT_SECRET: secret, WEBHOOK_SECRET: secret } })
        .authEnabled,
      true,
    );
  });

  it("refuses a short webhook secret and incomplete Grist or Tchap settings", () => {
    const problems = problemsOf(() =>
      loadConfig({
        env: {
          WEBHOOK_SECRET: "short",
          GRIST_URL: "https://grist.example.fr",
          TCHAP_ROOM_ID: "!a:b",
        },
      }),
    );
    assert.match(problems.join("\n"), /WEBHOOK_SECRET/);
    assert.ok(problems.length >= 1);
    const cross = problemsOf(() =>
      loadConfig({ env: { GRIST_URL: "https://grist.example.fr", TCHAP_ROOM_ID: "!a:b" } }),
    );
    assert.equal(cross.length, 2);
  });

  it("geocodes with the Géoplateforme by default, and refuses write-back without a Grist document", () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.GEOCODER, "geoplateforme");
    assert.equal(config.GEOCODER_URL, "https://data.geopf.fr/geocodage");
    assert.equal(config.GEOCODER_MIN_SCORE, 0.5);
    assert.ok(config.GEOCODER_RATE_PER_SECOND < 50, "under the service's 50 requests/s");
    assert.equal(config.GEOCODE_WRITE_BACK, false);
    assert.match(config.MAP_TILE_URL, /^https:\/\/data\.geopf\.fr\/wmts\?.*PLANIGNV2/);
    assert.equal(config.MAP_TILE_ATTRIBUTION, "© IGN");
    assert.match(
      problemsOf(() => loadConfig({ env: { GEOCODE_WRITE_BACK: "true" } })).join("\n"),
      /GEOCODE_WRITE_BACK.*GRIST_URL/,
    );
    assert.match(
      problemsOf(() => loadConfig({ env: { GEOCODER_RATE_PER_SECOND: "50" } })).join("\n"),
      /GEOCODER_RATE_PER_SECOND/,
    );
  });

  it("reads a secret from <NAME>_FILE and masks it when shown", () => {
    const config = loadConfig({
      env: { WEBHOOK_SECRET_FILE: "/run/secrets/webhook" },
      readFile: (path) => (path === "/run/secrets/webhook" ? "a-very-long-webhook-secret\n" : ""),
    });
    assert.equal(config.WEBHOOK_SECRET, "a-very-long-webhook-secret");
    assert.equal(redactConfig(config).WEBHOOK_SECRET, "[masqué]");
    assert.equal(redactConfig(config).AUTH_JWT_SECRET, "(non défini)");
  });

  it("refuses an empty secret instead of treating it as unset", () => {
    const problems = problemsOf(() => loadConfig({ env: { WEBHOOK_SECRET: "" } }));
    assert.match(problems.join("\n"), /WEBHOOK_SECRET \(--webhook-secret\) : vide/);
    assert.match(
      problemsOf(() => loadConfig({ env: { AUTH_JWT_SECRET: "" } })).join("\n"),
      /AUTH_JWT_SECRET/,
    );
  });

  it("refuses a public address with subscriber auth but unauthenticated webhooks unless told explicitly", () => {
    const jwt = "j".repeat(32);
    const problems = problemsOf(() =>
      loadConfig({ env: { HOST: "0.0.0.0", AUTH_JWT_SECRET: jwt } }),
    );
    assert.match(problems.join("\n"), /WEBHOOK_SECRET .*requis pour écouter sur 0\.0\.0\.0/);
    const explicit = loadConfig({
      env: { HOST: "0.0.0.0", AUTH_JWT_SECRET: jwt, ALLOW_UNAUTHENTICATED_WEBHOOKS: "true" },
    });
    assert.equal(explicit.WEBHOOK_SECRET, undefined);
    const secured = loadConfig({
      env: { HOST: "0.0.0.0", AUTH_JWT_SECRET: jwt, WEBHOOK_SECRET: "w".repeat(16) },
    });
    assert.equal(secured.authEnabled, true);
    // Loopback stays as easy as before: nothing else can reach it.
    assert.equal(loadConfig({ env: { AUTH_JWT_SECRET: jwt } }).HOST, "127.0.0.1");
  });

  it("refuses several WORKERS unless the store is Redis", () => {
    for (const STORE of ["sqlite", "memory"]) {
      const problems = problemsOf(() => loadConfig({ env: { STORE, WORKERS: "2" } }));
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? "", /WORKERS .*STORE=redis/);
    }
    assert.equal(loadConfig({ env: { STORE: "sqlite", WORKERS: "1" } }).WORKERS, 1);
    assert.equal(loadConfig({ env: { STORE: "redis", WORKERS: "3" } }).WORKERS, 3);
  });

  it("reads WORKERS=auto as one process per core", () => {
    const workers = loadConfig({ env: { STORE: "redis", WORKERS: "auto" } }).WORKERS;
    assert.equal(workers, availableParallelism());
  });
});
