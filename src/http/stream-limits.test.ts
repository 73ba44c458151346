import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RelayError } from "../errors.ts";
import { type SharedAddressSlots, StreamLimits } from "./stream-limits.ts";

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as RelayError).code;
  }
  return "accepted";
}

describe("StreamLimits", () => {
  it("caps streams per address and in total, and frees them on release", async () => {
    const limits = new StreamLimits(3, 2);
    const first = await limits.acquire("a");
    await limits.acquire("a");
    assert.equal(await refusal(limits.acquire("a")), "RELAY_ERR_TOO_MANY_STREAMS");
    await limits.acquire("b");
    assert.equal(await refusal(limits.acquire("c")), "RELAY_ERR_CAPACITY");
    first();
    first();
    assert.equal(limits.total, 2);
    assert.equal(await refusal(limits.acquire("a")), "accepted");
  });

  it("refuses what the shared slots refuse, without keeping a local count for it", async () => {
    const shared: SharedAddressSlots = { acquire: async () => null };
    const limits = new StreamLimits(10, 10, { slots: shared, onError: () => {} });
    assert.equal(await refusal(limits.acquire("a")), "RELAY_ERR_TOO_MANY_STREAMS");
    assert.equal(limits.total, 0);
  });

  it("releases the shared slot with the stream", async () => {
    let held = 0;
    const shared: SharedAddressSlots = {
      acquire: async () => {
        held++;
        return () => held--;
      },
    };
    const limits = new StreamLimits(10, 10, { slots: shared, onError: () => {} });
    const release = await limits.acquire("a");
    assert.equal(held, 1);
    release();
    assert.equal(held, 0);
  });

  it("still opens streams under its own cap when the shared slots are unreachable", async () => {
    const errors: unknown[] = [];
    const shared: SharedAddressSlots = {
      acquire: async () => {
        throw new RelayError("RELAY_ERR_STORE_UNAVAILABLE", "Redis injoignable");
      },
    };
    const limits = new StreamLimits(10, 1, { slots: shared, onError: (e) => errors.push(e) });
    assert.equal(await refusal(limits.acquire("a")), "accepted");
    assert.equal(errors.length, 1);
    assert.equal(await refusal(limits.acquire("a")), "RELAY_ERR_TOO_MANY_STREAMS");
  });
});
