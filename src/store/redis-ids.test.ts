import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareStreamIds, parseStreamId, timeOfStreamId } from "./redis-ids.ts";

describe("redis stream ids", () => {
  it("orders ids by milliseconds then sequence, numerically rather than as text", () => {
    assert.ok(compareStreamIds("999-0", "1000-0") < 0);
    assert.ok(compareStreamIds("1000-9", "1000-10") < 0);
    assert.ok(compareStreamIds("1000-10", "1000-9") > 0);
    assert.equal(compareStreamIds("1000-1", "1000-1"), 0);
    assert.ok(compareStreamIds("18446744073709551615-0", "18446744073709551614-5") > 0);
  });

  it("refuses anything Redis could not have assigned", () => {
    for (const bad of [
      "",
      "42",
      "1-2-3",
      "-1-0",
      "1-",
      "a-1",
      "1-0\r\n",
      "18446744073709551616-0",
    ]) {
      assert.equal(parseStreamId(bad), null, JSON.stringify(bad));
    }
    assert.deepEqual(parseStreamId("1700000000000-3"), { ms: 1700000000000n, seq: 3n });
  });

  it("sorts malformed ids before valid ones so a comparison never throws", () => {
    assert.ok(compareStreamIds("garbage", "1-0") < 0);
    assert.ok(compareStreamIds("1-0", "garbage") > 0);
  });

  it("derives the event time from the milliseconds of the id", () => {
    assert.equal(timeOfStreamId("1700000000123-7"), "2023-11-14T22:13:20.123Z");
  });
});
