import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DestinationPacer } from "./pacer.ts";

describe("destination pacer", () => {
  it("lets one message per interval through to each destination independently", () => {
    let now = 10_000;
    const pacer = new DestinationPacer(() => now);
    assert.equal(pacer.waitMs("tchap", 1000), 0);
    pacer.recordAttempt("tchap");
    now += 400;
    assert.equal(pacer.waitMs("tchap", 1000), 600);
    assert.equal(pacer.waitMs("webhook", 0), 0);
    now += 600;
    assert.equal(pacer.waitMs("tchap", 1000), 0);
  });

  it("holds a destination until a rate limit or outage delay has passed", () => {
    let now = 0;
    const pacer = new DestinationPacer(() => now);
    pacer.blockUntil("tchap", 5000);
    pacer.blockUntil("tchap", 3000);
    assert.equal(
      pacer.waitMs("tchap", 1000),
      5000,
      "a shorter block does not shorten a longer one",
    );
    now = 5000;
    assert.equal(pacer.waitMs("tchap", 1000), 0);
  });
});
