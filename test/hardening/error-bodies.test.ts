/**
 * Issue 12, row 5: what Node's HTTP parser refuses (broken request, headers too large, headers
 * too slow) is answered with the relay's error body and a registry code, then closed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ERROR_CODES } from "../../src/errors.ts";
import { RawHttp } from "../support/raw-http.ts";
import { startTestRelay, type TestRelay } from "../support/test-relay.ts";

function errorCode(body: string): string {
  const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
  assert.equal(typeof parsed.error?.message, "string", body);
  return parsed.error?.code ?? "";
}

describe("HTTP parse errors and timeouts", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { REQUEST_TIMEOUT_MS: "1000" } });
  });
  after(() => relay.close());

  it("answers a malformed request with 400 RELAY_ERR_BAD_REQUEST and closes", async () => {
    const client = await RawHttp.open(relay.port);
    await client.write("GET /livez HTTP/1.1\r\nHost: relay\r\nthis is not a header\r\n\r\n");
    const response = await client.response();
    assert.equal(response.status, 400);
    assert.match(response.headers["content-type"] ?? "", /application\/json/);
    assert.equal(errorCode(response.body), "RELAY_ERR_BAD_REQUEST");
    await client.closed;
  });

  it("answers headers larger than Node accepts with 431 RELAY_ERR_HEADERS_TOO_LARGE", async () => {
    const client = await RawHttp.open(relay.port);
    await client.write(
      `GET /livez HTTP/1.1\r\nHost: relay\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    const response = await client.response();
    assert.equal(response.status, 431);
    assert.equal(errorCode(response.body), "RELAY_ERR_HEADERS_TOO_LARGE");
    await client.closed;
  });

  it("answers headers that never finish with 408 RELAY_ERR_REQUEST_TIMEOUT within REQUEST_TIMEOUT_MS", async () => {
    const client = await RawHttp.open(relay.port);
    await client.write("GET /livez HTTP/1.1\r\nHost: relay\r\n");
    const response = await client.response(8000);
    assert.equal(response.status, 408);
    assert.equal(errorCode(response.body), "RELAY_ERR_REQUEST_TIMEOUT");
    const closedAfter = await client.closed;
    // 1 s timeout, checked every second by Node: well under Node's own 60 s default.
    assert.ok(closedAfter < 5000, `closed after ${Math.round(closedAfter)} ms`);
  });

  it("uses only codes of the registry", () => {
    for (const code of [
      "RELAY_ERR_BAD_REQUEST",
      "RELAY_ERR_HEADERS_TOO_LARGE",
      "RELAY_ERR_REQUEST_TIMEOUT",
    ])
      assert.ok(code in ERROR_CODES, code);
  });
});
