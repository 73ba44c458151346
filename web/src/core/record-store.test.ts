import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { intervention, liveEvent } from "../../../test/support/web/test-records.ts";
import { RecordStore } from "./record-store.ts";

describe("RecordStore", () => {
  it("replaces everything on a snapshot", () => {
    const store = new RecordStore();
    store.replaceAll([intervention({ id: 1 }), intervention({ id: 2 })]);
    store.replaceAll([intervention({ id: 3 })]);
    assert.deepEqual(
      [...store.values()].map((r) => r.id),
      [3],
    );
  });

  it("applies added, updated and removed events, and applying twice changes nothing", () => {
    const store = new RecordStore();
    store.apply(
      liveEvent({ type: "record.added", record: intervention({ id: 5, statut: "En attente" }) }),
    );
    const update = liveEvent({
      type: "record.updated",
      record: intervention({ id: 5, statut: "En cours" }),
    });
    const change = store.apply(update);
    assert.equal(change.previous?.statut, "En attente");
    store.apply(update);
    assert.equal(store.size, 1);
    assert.equal(store.get("5")?.statut, "En cours");
    store.apply(liveEvent({ type: "record.removed", record: intervention({ id: 5 }) }));
    assert.equal(store.size, 0);
  });

  it("keys string ids from the guide's format apart from numbers only by their text", () => {
    const store = new RecordStore();
    store.replaceAll([intervention({ id: "test123" }), intervention({ id: 7 })]);
    assert.equal(store.get("test123")?.id, "test123");
    assert.equal(store.get("7")?.id, 7);
  });
});
