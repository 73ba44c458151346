import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { acceptsGzip, SnapshotBodyCache } from "./snapshot-body.ts";

describe("shared snapshot body", () => {
  it("encodes and compresses once per state, whoever asks", async () => {
    const cache = new SnapshotBodyCache();
    const snapshot = { records: [], lastEventId: "4" };
    const first = await cache.body(snapshot);
    const second = await cache.body({ records: [], lastEventId: "4" });
    assert.equal(second.gzipped, first.gzipped, "the same bytes, not a copy");
    const next = await cache.body({ records: [], lastEventId: "5" });
    assert.notEqual(next.gzipped, first.gzipped);
    assert.deepEqual(JSON.parse(gunzipSync(next.gzipped).toString()), {
      records: [],
      lastEventId: "5",
    });
  });

  it("reads Accept-Encoding as HTTP means it", () => {
    assert.equal(acceptsGzip("gzip, deflate, br"), true);
    assert.equal(acceptsGzip("br;q=1, GZIP;q=0.5"), true);
    assert.equal(acceptsGzip("gzip;q=0"), false);
    assert.equal(acceptsGzip("deflate"), false);
    assert.equal(acceptsGzip(undefined), false);
  });
});
