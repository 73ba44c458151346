import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { WalSync } from "./wal-sync.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-walsync-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A sync the test finishes by hand, counting how many were asked for. */
function manualSync() {
  const pending: (() => void)[] = [];
  return {
    started: () => pending.length,
    finishNext: () => pending.shift()?.(),
    sync: () => new Promise<void>((resolve) => pending.push(resolve)),
  };
}

const settled = (promise: Promise<unknown>) => {
  const state = { done: false };
  promise.then(() => (state.done = true));
  return state;
};

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("WAL sync", () => {
  it("waits for a sync that started after the commit, and groups the commits meanwhile", async () => {
    const file = join(dir, "a.db-wal");
    writeFileSync(file, "frames");
    const manual = manualSync();
    const wal = new WalSync(file, manual.sync);
    const first = settled(wal.durable());
    await turn();
    assert.equal(manual.started(), 1);
    // Committed while the first sync runs: that sync may have missed them.
    const second = settled(wal.durable());
    const third = settled(wal.durable());
    manual.finishNext();
    await turn();
    assert.equal(first.done, true);
    assert.equal(second.done, false, "a sync begun before the commit does not cover it");
    assert.equal(third.done, false);
    assert.equal(manual.started(), 1, "one more sync, shared by both later commits");
    manual.finishNext();
    await turn();
    assert.equal(second.done && third.done, true);
    await wal.close();
  });

  it("syncs the real file", async () => {
    const file = join(dir, "b.db-wal");
    writeFileSync(file, "frames");
    const wal = new WalSync(file);
    await wal.durable();
    await wal.durable();
    await wal.close();
  });
});
