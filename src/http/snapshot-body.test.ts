import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { commitRecords, sampleRecord } from "../../test/support/event-store-contract.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { acceptsGzip, SnapshotBodyCache } from "./snapshot-body.ts";

describe("shared snapshot body", () => {
  it("reads, encodes and compresses once per state, whoever asks", async () => {
    const store = new MemoryStore();
    let reads = 0;
    const snapshot = store.snapshot.bind(store);
    store.snapshot = () => {
      reads++;
      return snapshot();
    };
    const cache = new SnapshotBodyCache(store);
    await commitRecords(store, [sampleRecord(1)]);
    const [first, second] = await Promise.all([cache.body(), cache.body()]);
    const third = await cache.body();
    assert.equal(reads, 1);
    assert.equal(second?.gzipped, first?.gzipped, "the same bytes, not a copy");
    assert.equal(third.gzipped, first?.gzipped);
    await commitRecords(store, [sampleRecord(2)]);
    const next = await cache.body();
    assert.equal(reads, 2, "an event makes the next reader read the state again");
    const state = JSON.parse(gunzipSync(next.gzipped).toString()) as { records: unknown[] };
    assert.equal(state.records.length, 2);
  });

  it("reads Accept-Encoding as HTTP means it", () => {
    assert.equal(acceptsGzip("gzip, deflate, br"), true);
    assert.equal(acceptsGzip("br;q=1, GZIP;q=0.5"), true);
    assert.equal(acceptsGzip("gzip;q=0"), false);
    assert.equal(acceptsGzip("deflate"), false);
    assert.equal(acceptsGzip(undefined), false);
  });
});
