import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  commitRecords,
  describeEventStoreContract,
  sampleRecord,
} from "../../test/support/event-store-contract.ts";
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
    assert.equal(next?.id, "4", "ids continue after the last one stored");
    await second.close();
  });
});
