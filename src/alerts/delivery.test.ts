import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRetryAfter, readSmallJson, remoteText } from "./delivery.ts";

describe("delivery helpers", () => {
  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-11-24T09:30:00.000Z");
    assert.equal(parseRetryAfter("3", now), 3000);
    assert.equal(parseRetryAfter("Tue, 24 Nov 2026 09:30:10 GMT", now), 10_000);
    assert.equal(parseRetryAfter("Tue, 24 Nov 2026 09:29:00 GMT", now), 0, "a past date means now");
    assert.equal(parseRetryAfter("bientôt", now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });

  it("parses a short JSON error body and ignores an oversized or malformed one", async () => {
    assert.deepEqual(await readSmallJson(new Response('{"errcode":"M_FORBIDDEN"}')), {
      errcode: "M_FORBIDDEN",
    });
    const huge = JSON.stringify({ errcode: "M_X", error: "x".repeat(100_000) });
    assert.deepEqual(await readSmallJson(new Response(huge)), {});
    assert.deepEqual(await readSmallJson(new Response("<html>502</html>")), {});
    assert.deepEqual(await readSmallJson(new Response("[1,2]")), {});
  });

  it("makes remote text safe for one log line", () => {
    assert.equal(remoteText("User @a\nnot in room\u202e"), "User @a not in room");
    assert.equal(remoteText("y".repeat(300))?.length, 201);
    assert.equal(remoteText(42), null);
  });
});
