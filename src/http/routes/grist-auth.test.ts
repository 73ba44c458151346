import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import {
  type GristDouble,
  startGristDouble,
} from "../../../test/support/grist-double/grist-double.ts";
import { installErrorHandling } from "../error-handler.ts";
import { gristAuthRoutes } from "./grist-auth.ts";

const DOC = "docGristAuth0000000001";
const OTHER = "otherGristDoc000000001";

describe("POST /auth/grist", () => {
  let grist: GristDouble;
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    grist = await startGristDouble({
      apiKeys: ["agent"],
      docs: [
        { id: DOC, access: { agent: "viewers" } },
        { id: OTHER, access: { agent: "owners" } },
      ],
    });
    grist.createTable(DOC, "Interventions", [{ id: "Statut", type: "Choice" }]);
    grist.createTable(OTHER, "Interventions", [{ id: "Statut", type: "Choice" }]);
    app = Fastify();
    installErrorHandling(app);
    await app.register(gristAuthRoutes, {
      grist: { url: grist.url, docId: DOC, table: "Interventions" },
      mint: async (claims) => `jwt:${claims.role}:${claims.ttlSeconds}`,
    });
    url = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await app.close();
    await grist.close();
  });

  const post = (body: unknown) =>
    fetch(`${url}/auth/grist`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("trades a valid Grist token for a short-lived viewer token", async () => {
    const { token, baseUrl } = grist.mintAccessToken(DOC, "agent", { readOnly: true });
    const response = await post({ gristToken: token, baseUrl });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.deepEqual(await response.json(), { token: "jwt:viewer:300", expiresInSeconds: 300 });
  });

  it("answers 401 for an invalid token", async () => {
    const response = await post({
      gristToken: "forged.token.value",
      baseUrl: `${grist.url}/api/docs/${DOC}`,
    });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, "RELAY_ERR_UNAUTHORIZED");
    assert.equal(JSON.stringify(body).includes("forged.token.value"), false);
  });

  it("answers 403 for a token whose base URL is another document", async () => {
    const { token, baseUrl } = grist.mintAccessToken(OTHER, "agent");
    const response = await post({ gristToken: token, baseUrl });
    assert.equal(response.status, 403);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_FORBIDDEN",
    );
  });

  it("answers 401 for a token of another document passed off as this one", async () => {
    const { token } = grist.mintAccessToken(OTHER, "agent");
    const response = await post({ gristToken: token, baseUrl: `${grist.url}/api/docs/${DOC}` });
    assert.equal(response.status, 401);
  });

  it("answers 400 for a body without the token", async () => {
    const response = await post({ baseUrl: `${grist.url}/api/docs/${DOC}` });
    assert.equal(response.status, 400);
    assert.equal(
      ((await response.json()) as { error: { code: string } }).error.code,
      "RELAY_ERR_BAD_PAYLOAD",
    );
  });
});
