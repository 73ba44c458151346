import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type GristDouble,
  startGristDouble,
} from "../../test/support/grist-double/grist-double.ts";
import { RelayError } from "../errors.ts";
import { baseUrlMatches, GristTokenExchange, type RelayTokenClaims } from "./token-exchange.ts";

const DOC = "6GsDJ8W4vfBshdYqEMXKPk";

describe("baseUrlMatches", () => {
  const grist = { url: "https://grist.example.fr", docId: DOC };

  it("accepts the configured document by full id or by its short url id", () => {
    assert.equal(baseUrlMatches(`https://grist.example.fr/api/docs/${DOC}`, grist), true);
    assert.equal(baseUrlMatches("https://grist.example.fr/api/docs/6GsDJ8W4vfBs", grist), true);
    assert.equal(
      baseUrlMatches("https://grist.example.fr/o/equipe/api/docs/6GsDJ8W4vfBs/", grist),
      true,
    );
  });

  it("accepts a configured server under a path prefix", () => {
    const prefixed = { url: "https://intra.example.fr/grist/", docId: DOC };
    assert.equal(baseUrlMatches(`https://intra.example.fr/grist/api/docs/${DOC}`, prefixed), true);
    assert.equal(baseUrlMatches(`https://intra.example.fr/api/docs/${DOC}`, prefixed), false);
  });

  it("refuses another server, another document or a short prefix", () => {
    assert.equal(baseUrlMatches(`https://evil.example/api/docs/${DOC}`, grist), false);
    assert.equal(baseUrlMatches(`http://grist.example.fr/api/docs/${DOC}`, grist), false);
    assert.equal(
      baseUrlMatches("https://grist.example.fr/api/docs/OtherDoc000000000000000", grist),
      false,
    );
    assert.equal(baseUrlMatches("https://grist.example.fr/api/docs/6GsD", grist), false);
    assert.equal(baseUrlMatches(`https://grist.example.fr/api/docs/${DOC}/../x`, grist), false);
    assert.equal(baseUrlMatches(`https://grist.example.fr/api/docs/${DOC}?x=1`, grist), false);
    assert.equal(baseUrlMatches("not a url", grist), false);
  });
});

describe("GristTokenExchange", () => {
  let grist: GristDouble;
  const OTHER = "OtherDocument0000000001";
  const minted: RelayTokenClaims[] = [];
  let requestsToGrist: string[] = [];

  before(async () => {
    grist = await startGristDouble({
      apiKeys: ["alice", "bob"],
      docs: [
        { id: DOC, access: { alice: "editors" } },
        { id: OTHER, access: { alice: "owners", bob: "owners" } },
      ],
    });
    grist.createTable(DOC, "Interventions", [{ id: "Statut", type: "Choice" }]);
    grist.createTable(OTHER, "Interventions", [{ id: "Statut", type: "Choice" }]);
  });
  after(() => grist.close());

  const exchange = () =>
    new GristTokenExchange({
      grist: { url: grist.url, docId: DOC, table: "Interventions" },
      mint: async (claims) => {
        minted.push(claims);
        return `relay-token-${minted.length}`;
      },
      fetch: (input, init) => {
        requestsToGrist.push(new URL(String(input)).origin);
        return fetch(input, init);
      },
    });

  it("mints a viewer token for five minutes when Grist accepts the token", async () => {
    const { token, baseUrl } = grist.mintAccessToken(DOC, "alice", { readOnly: true });
    const result = await exchange().exchange(token, baseUrl);
    assert.deepEqual(result, { token: `relay-token-${minted.length}`, expiresInSeconds: 300 });
    assert.deepEqual(minted.at(-1), {
      role: "viewer",
      subject: `grist:${DOC}:user:1`,
      ttlSeconds: 300,
    });
  });

  it("refuses a token of another document even presented with this document's base URL", async () => {
    const { token } = grist.mintAccessToken(OTHER, "alice");
    const error = await exchange()
      .exchange(token, `${grist.url}/api/docs/${DOC}`)
      .catch((e: unknown) => e);
    assert.ok(error instanceof RelayError);
    assert.equal(error.code, "RELAY_ERR_UNAUTHORIZED");
    assert.match(error.message, /token misuse/);
  });

  it("refuses a base URL elsewhere without ever calling it", async () => {
    requestsToGrist = [];
    const { token } = grist.mintAccessToken(DOC, "alice");
    await assert.rejects(exchange().exchange(token, "http://169.254.169.254/api/docs/x"), {
      code: "RELAY_ERR_FORBIDDEN",
    });
    assert.deepEqual(requestsToGrist, []);
  });

  it("refuses a token of a user who cannot see the document", async () => {
    const forged = grist.mintAccessToken(DOC, "bob");
    await assert.rejects(exchange().exchange(forged.token, forged.baseUrl), {
      code: "RELAY_ERR_FORBIDDEN",
    });
  });

  it("refuses an expired or made-up token", async () => {
    const expired = grist.mintAccessToken(DOC, "alice", { ttlMs: -1 });
    await assert.rejects(exchange().exchange(expired.token, expired.baseUrl), {
      code: "RELAY_ERR_UNAUTHORIZED",
    });
    await assert.rejects(exchange().exchange("not.a.token", expired.baseUrl), {
      code: "RELAY_ERR_UNAUTHORIZED",
    });
  });

  it("answers 502 when Grist cannot be reached", async () => {
    const unreachable = new GristTokenExchange({
      grist: { url: "http://127.0.0.1:1", docId: DOC, table: "Interventions" },
      mint: async () => "never",
    });
    await assert.rejects(unreachable.exchange("t.t.t", `http://127.0.0.1:1/api/docs/${DOC}`), {
      code: "RELAY_ERR_GRIST_UNREACHABLE",
    });
  });

  it("refuses more simultaneous checks than allowed instead of queueing them", async () => {
    const limited = new GristTokenExchange({
      grist: { url: grist.url, docId: DOC, table: "Interventions" },
      mint: async () => "ok",
      maxConcurrentChecks: 1,
    });
    const { token, baseUrl } = grist.mintAccessToken(DOC, "alice");
    const release = grist.pauseRequests();
    const first = limited.exchange(token, baseUrl);
    while (grist.inFlight(DOC) < 1) await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(limited.exchange(token, baseUrl), { code: "RELAY_ERR_RATE_LIMITED" });
    release();
    assert.equal((await first).token, "ok");
  });
});
