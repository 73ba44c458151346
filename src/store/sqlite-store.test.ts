import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import {
  commitRecords,
  describeEventStoreContract,
  sampleRecord,
} from "../../test/support/event-store-contract.ts";
import { waitFor } from "../../test/support/wait.ts";
import { SqliteStore } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-sqlite-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

describeEventStoreContract(
  "sqlite",
  async () => new SqliteStore({ file: join(dir, `contract-${n++}.db`) }),
);

describe("sqlite store on disk", () => {
  it("keeps events, state, ids and the pruning mark across a reopen", async () => {
    const file = join(dir, "reopen.db");
    const first = new SqliteStore({ file });
    const events = await commitRecords(
      first,
      [1, 2, 3].map((id) => sampleRecord(id)),
    );
    await first.prune({ maxEvents: 1, maxAgeMs: 3_600_000 }, Date.now());
    await first.close();

    const second = new SqliteStore({ file });
    assert.equal((await second.snapshot()).lastEventId, events[2]?.id);
    assert.equal((await second.readAfter(events[0]?.id as string, 10)).kind, "gap");
    const [next] = await commitRecords(second, [sampleRecord(4)]);
    const epoch = second.epoch;
    assert.equal(next?.id, `${epoch}.4`, "same epoch, ids continue after the last one stored");
    await second.close();
  });

  it("starts a new epoch in a new file, so the old file's ids are foreign there", async () => {
    const first = new SqliteStore({ file: join(dir, "before-wipe.db") });
    const old = await commitRecords(
      first,
      [1, 2, 3].map((id) => sampleRecord(id)),
    );
    await first.close();
    const second = new SqliteStore({ file: join(dir, "after-wipe.db") });
    await commitRecords(
      second,
      [1, 2, 3, 4, 5].map((id) => sampleRecord(id)),
    );
    assert.deepEqual(await second.readAfter(old[1]?.id as string, 10), { kind: "foreign" });
    await second.close();
  });

  it("gives a file written before epochs an epoch and rebuilds its events' ids", async () => {
    const file = join(dir, "legacy.db");
    const legacy = new DatabaseSync(file);
    legacy.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, json TEXT NOT NULL);
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO meta VALUES ('last_seq', 1);`);
    const event = {
      id: "1",
      type: "record.added",
      time: new Date().toISOString(),
      source: "webhook",
      record: sampleRecord(1),
    };
    legacy.prepare("INSERT INTO events VALUES (1, ?, ?)").run(Date.now(), JSON.stringify(event));
    legacy.close();
    const store = new SqliteStore({ file });
    const [read] = await store.readLatest(10);
    assert.match(read?.id ?? "", /^[a-z]{8}\.1$/);
    assert.deepEqual(await store.readAfter("1", 10), { kind: "foreign" });
    await store.close();
  });

  it("with FULL, acknowledges a commit and tells listeners only once its WAL sync ended, in commit order", async () => {
    const syncs: (() => void)[] = [];
    const store = new SqliteStore({
      file: join(dir, "durable.db"),
      synchronous: "FULL",
      syncWal: () => new Promise<void>((resolve) => syncs.push(resolve)),
    });
    const heard: string[] = [];
    store.onAppended((events) => heard.push(...events.map((event) => event.id)));
    let firstDone = false;
    const first = commitRecords(store, [sampleRecord(1)]).then((events) => {
      firstDone = true;
      return events;
    });
    await waitFor("the first sync to start", () => syncs.length === 1);
    // Committed while the first sync runs: it needs a later one.
    const second = commitRecords(store, [sampleRecord(2)]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(firstDone, false);
    assert.deepEqual(heard, [], "nothing is announced before it is on disk");
    syncs.shift()?.();
    const [a] = await first;
    assert.deepEqual(heard, [a?.id]);
    await waitFor("the second sync to start", () => syncs.length === 1);
    syncs.shift()?.();
    const [b] = await second;
    assert.deepEqual(heard, [a?.id, b?.id]);
    await store.close();
  });

  it("checkpoints the WAL into the database file from a worker thread", async () => {
    const file = join(dir, "checkpoint.db");
    const store = new SqliteStore({ file, checkpointIntervalMs: 50 });
    const before = statSync(file).size;
    await commitRecords(
      store,
      Array.from({ length: 200 }, (_, i) => sampleRecord(i + 1)),
    );
    // The committing connection never checkpoints (wal_autocheckpoint = 0): only the worker
    // makes the main file grow while the store is open.
    await waitFor("the main file to grow", () => statSync(file).size > before, 10_000);
    await store.close();
  });
});
