import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { liveEvent } from "../../../test/support/web/test-records.ts";
import { EventLog } from "./event-log.ts";

const ids = (log: EventLog) => log.list().map((e) => e.id);

describe("EventLog", () => {
  it("appends live events once", () => {
    const log = new EventLog();
    assert.equal(log.append(liveEvent({ id: "a" })), true);
    assert.equal(log.append(liveEvent({ id: "a" })), false);
    assert.deepEqual(ids(log), ["a"]);
  });

  it("puts a history page before live events and drops the overlap", () => {
    const log = new EventLog();
    log.append(liveEvent({ id: "c" }));
    log.append(liveEvent({ id: "d" }));
    log.prepend([liveEvent({ id: "a" }), liveEvent({ id: "b" }), liveEvent({ id: "c" })]);
    assert.deepEqual(ids(log), ["a", "b", "c", "d"]);
    log.prepend([liveEvent({ id: "z" }), liveEvent({ id: "a" })]);
    assert.deepEqual(ids(log), ["z", "a", "b", "c", "d"]);
    assert.equal(log.oldest?.id, "z");
  });

  it("forgets the oldest events beyond its capacity", () => {
    const log = new EventLog(3);
    for (const id of ["1", "2", "3", "4", "5"]) log.append(liveEvent({ id }));
    assert.deepEqual(ids(log), ["3", "4", "5"]);
    assert.equal(log.has("1"), false);
    assert.equal(log.append(liveEvent({ id: "1" })), true);
  });
});
