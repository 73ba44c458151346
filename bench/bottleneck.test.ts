import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bottleneckReasons } from "./bottleneck.ts";

const calm = { cpuPercent: 40, lateSends: 0, eventLoopP99Ms: 5, latencyP99Ms: 150 };

describe("load generator bottleneck flag", () => {
  it("stays empty when the generator had slack", () => {
    assert.deepEqual(bottleneckReasons(calm), []);
  });

  it("flags a generator near a full core", () => {
    assert.equal(bottleneckReasons({ ...calm, cpuPercent: 95 }).length, 1);
  });

  it("flags sends that waited for a free slot", () => {
    assert.match(bottleneckReasons({ ...calm, lateSends: 3 })[0] ?? "", /3 envois/);
  });

  it("flags a generator loop whose delay is half the measured tail or more", () => {
    assert.equal(bottleneckReasons({ ...calm, eventLoopP99Ms: 80 }).length, 1);
    assert.equal(bottleneckReasons({ ...calm, eventLoopP99Ms: 70 }).length, 0);
  });
});
