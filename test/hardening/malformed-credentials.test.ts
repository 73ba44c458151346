/** Issue 12, row 4: a malformed cookie or token is the client's mistake, answered 401. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestRelay, type TestRelay } from "../support/test-relay.ts";

describe("malformed subscriber credentials", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { AUTH_JWT_SECRET: "j".repeat(32) } });
  });
  after(() => relay.close());

  for (const path of ["/api/interventions", "/events", "/metrics"]) {
    it(`answers 401 RELAY_ERR_UNAUTHORIZED to a cookie that is not URL-encoded on ${path}`, async () => {
      const response = await fetch(`${relay.url}${path}`, {
        headers: { Cookie: "grist_realtime_token=%" },
      });
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, "RELAY_ERR_UNAUTHORIZED");
    });
  }

  it("answers 401 to tokens that are not JWTs at all", async () => {
    for (const token of ["%", "a.b.c", "....", "e30.e30.", "x".repeat(9000)]) {
      const response = await fetch(`${relay.url}/api/interventions`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(response.status, 401, token.slice(0, 20));
      const body = (await response.json()) as { error: { code: string } };
      assert.equal(body.error.code, "RELAY_ERR_UNAUTHORIZED");
    }
  });
});
