import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  AlertsConfigError,
  alertsConfigFromSettings,
  alertsConfigFromTchap,
  defaultAlertRules,
  loadAlertsConfigFile,
  parseAlertsConfig,
} from "./rules.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-alert-rules-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const matrix = {
  name: "tchap",
  kind: "matrix",
  homeserverUrl: "https://matrix.agent.dinum.tchap.gouv.fr",
  accessToken: "syt_secret_token",
  roomId: "!abcdef:agent.dinum.tchap.gouv.fr",
};

function issuesOf(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof AlertsConfigError, String(error));
    return error.issues;
  }
  assert.fail("expected an AlertsConfigError");
}

describe("alert configuration", () => {
  it("accepts the example of docs/alertes.md", () => {
    const doc = readFileSync(new URL("../../docs/alertes.md", import.meta.url), "utf8");
    const example = /<!-- exemple-complet -->\s*```json\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, "docs/alertes.md has a complete example");
    writeFileSync(join(dir, "tchap-token.txt"), "syt_example\n");
    const config = parseAlertsConfig(JSON.parse(example), { baseDir: dir });
    assert.deepEqual(
      config.destinations.map((d) => d.name),
      ["tchap-astreinte", "n8n-courriel"],
    );
    assert.ok(config.rules.length >= 2);
  });

  it("applies the guide's two default rules to every destination when rules are omitted", () => {
    const config = parseAlertsConfig({ destinations: [matrix] }, { baseDir: dir });
    assert.deepEqual(config.rules, defaultAlertRules(["tchap"]));
    assert.deepEqual(
      config.rules.map((rule) => rule.name),
      ["urgence", "blocage"],
    );
    assert.equal(
      config.destinations[0]?.kind === "matrix" && config.destinations[0].minIntervalMs,
      1000,
    );
  });

  it("lists every problem at once, each with its path", () => {
    const issues = issuesOf(() =>
      parseAlertsConfig(
        {
          destinations: [
            { ...matrix, homeserverUrl: "ftp://x", roomId: "#alias:server" },
            { name: "hook", kind: "webhook", url: "https://example.org/h", secret: "short" },
          ],
          rules: [{ name: "r", triggers: [{ on: "change", field: "couleur" }], destinations: [] }],
          extra: true,
        },
        { baseDir: dir },
      ),
    );
    const paths = issues.map((issue) => issue.path).sort();
    assert.deepEqual(paths, [
      "",
      "destinations[0].homeserverUrl",
      "destinations[0].roomId",
      "destinations[1].secret",
      "rules[0].destinations",
      "rules[0].triggers[0].field",
    ]);
    assert.match(issues.find((i) => i.path === "destinations[1].secret")?.message ?? "", /16/);
  });

  it("accepts alarm triggers of the two kinds the dashboard knows, and only those", () => {
    const rules = (kind: string) => [
      { name: "r", triggers: [{ on: "alarm", kind }], destinations: ["tchap"] },
    ];
    const config = parseAlertsConfig(
      { destinations: [matrix], rules: rules("bloque") },
      { baseDir: dir },
    );
    assert.deepEqual(config.rules[0]?.triggers, [{ on: "alarm", kind: "bloque" }]);
    const issues = issuesOf(() =>
      parseAlertsConfig({ destinations: [matrix], rules: rules("rouge") }, { baseDir: dir }),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ["rules[0].triggers[0].kind"],
    );
  });

  it("reports rules naming an unknown destination and duplicate names", () => {
    const issues = issuesOf(() =>
      parseAlertsConfig(
        {
          destinations: [matrix, matrix],
          rules: [
            { name: "a", triggers: [{ on: "record.added" }], destinations: ["tchap", "salle"] },
            { name: "a", triggers: [{ on: "record.added" }], destinations: ["tchap"] },
          ],
        },
        { baseDir: dir },
      ),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ["destinations[1].name", "rules[0].destinations[1]", "rules[1].name"],
    );
    assert.match(issues[1]?.message ?? "", /« salle »/);
  });

  it("reads the access token from accessTokenFile, relative to the configuration file", () => {
    writeFileSync(join(dir, "token.txt"), "syt_from_file\n");
    const file = join(dir, "alerts.json");
    const { accessToken: _, ...withoutToken } = matrix;
    writeFileSync(
      file,
      JSON.stringify({ destinations: [{ ...withoutToken, accessTokenFile: "token.txt" }] }),
    );
    const [destination] = loadAlertsConfigFile(file).destinations;
    assert.equal(destination?.kind === "matrix" && destination.accessToken, "syt_from_file");
  });

  it("refuses both a token and a token file, or neither, and an unreadable file", () => {
    const { accessToken: _, ...withoutToken } = matrix;
    const issues = issuesOf(() =>
      parseAlertsConfig(
        {
          destinations: [
            { ...matrix, name: "a", accessTokenFile: "t" },
            { ...withoutToken, name: "b" },
            { ...withoutToken, name: "c", accessTokenFile: "missing.txt" },
          ],
        },
        { baseDir: dir },
      ),
    );
    assert.deepEqual(
      issues.map((issue) => issue.path),
      ["destinations[0]", "destinations[1]", "destinations[2].accessTokenFile"],
    );
    assert.match(issues[2]?.message ?? "", /ENOENT/);
  });

  it("says which file is not JSON without printing its content", () => {
    const file = join(dir, "broken.json");
    writeFileSync(file, '{"destinations": [ syt_secret');
    const error = (() => {
      try {
        loadAlertsConfigFile(file);
      } catch (caught) {
        return caught as Error;
      }
    })();
    assert.ok(error instanceof AlertsConfigError);
    assert.match(error.message, /JSON invalide/);
    assert.match(error.message, /broken\.json/);
    assert.doesNotMatch(error.message, /syt_secret/);
  });

  it("never echoes a secret in a validation message", () => {
    const error = (() => {
      try {
        parseAlertsConfig(
          { destinations: [{ ...matrix, accessToken: 12345, roomId: "syt_leak" }] },
          { baseDir: dir },
        );
      } catch (caught) {
        return caught as Error;
      }
    })();
    assert.ok(error instanceof AlertsConfigError);
    assert.doesNotMatch(error.message, /syt_leak|12345/);
  });

  it("builds one Matrix destination named tchap from the TCHAP variables", () => {
    const config = alertsConfigFromTchap({
      homeserverUrl: matrix.homeserverUrl,
      accessToken: matrix.accessToken,
      roomId: "!v12RoomIdWithoutServerPart",
    });
    assert.deepEqual(
      config.destinations.map((d) => [d.name, d.kind]),
      [["tchap", "matrix"]],
    );
    assert.deepEqual(config.rules, defaultAlertRules(["tchap"]));
  });

  it("names the TCHAP variable at fault", () => {
    const issues = issuesOf(() =>
      alertsConfigFromTchap({ homeserverUrl: "matrix.example", accessToken: "", roomId: "x" }),
    );
    assert.deepEqual(issues.map((issue) => issue.path).sort(), [
      "TCHAP_ACCESS_TOKEN",
      "TCHAP_HOMESERVER_URL",
      "TCHAP_ROOM_ID",
    ]);
  });
});

describe("alert settings", () => {
  it("reads the file, or the TCHAP variables, or turns alerts off", () => {
    const file = join(dir, "settings.json");
    writeFileSync(file, JSON.stringify({ destinations: [{ ...matrix, name: "salle" }] }));
    assert.equal(alertsConfigFromSettings({ ALERTS_CONFIG: file })?.destinations[0]?.name, "salle");
    const fromEnv = alertsConfigFromSettings({
      TCHAP_HOMESERVER_URL: matrix.homeserverUrl,
      TCHAP_ACCESS_TOKEN: matrix.accessToken,
      TCHAP_ROOM_ID: matrix.roomId,
    });
    assert.equal(fromEnv?.destinations[0]?.name, "tchap");
    assert.equal(alertsConfigFromSettings({}), null);
  });

  it("refuses a file and TCHAP variables together", () => {
    const issues = issuesOf(() =>
      alertsConfigFromSettings({ ALERTS_CONFIG: "x.json", TCHAP_ROOM_ID: matrix.roomId }),
    );
    assert.match(issues[0]?.message ?? "", /s'excluent/);
  });
});

describe("alert delivery settings", () => {
  it("keeps the retry policy of the file and rejects values out of range", () => {
    const config = parseAlertsConfig(
      { destinations: [matrix], delivery: { maxAttempts: 12, backoffBaseMs: 5000 } },
      { baseDir: dir },
    );
    assert.deepEqual(config.delivery, { maxAttempts: 12, backoffBaseMs: 5000 });
    const issues = issuesOf(() =>
      parseAlertsConfig(
        { destinations: [matrix], delivery: { maxAttempts: 0, retries: 3 } },
        { baseDir: dir },
      ),
    );
    assert.deepEqual(issues.map((issue) => issue.path).sort(), [
      "delivery",
      "delivery.maxAttempts",
    ]);
  });
});
