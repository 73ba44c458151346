/**
 * Behaviour every EventStore must show. Each implementation's test file calls
 * `describeEventStoreContract` with a factory that gives a fresh, empty store.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideEvents } from "../../src/domain/changes.ts";
import { buildColumnMapping } from "../../src/domain/column-mapping.ts";
import type { PendingEvent, RelayEvent } from "../../src/domain/events.ts";
import type { Intervention } from "../../src/domain/intervention.ts";
import { normalizeRecord } from "../../src/domain/normalize.ts";
import type { EventStore } from "../../src/store/event-store.ts";
import type { Outbox } from "../../src/store/outbox.ts";

const mapping = buildColumnMapping();

export function sampleRecord(
  id: number,
  statut = "En attente",
  extra: Record<string, unknown> = {},
): Intervention {
  return normalizeRecord(
    id,
    {
      ID2: `INT-${id}`,
      Agent: "Marie Durand",
      Localisation: "1 quai X, 13002 Marseille",
      Statut: statut,
      ...extra,
    },
    mapping,
  );
}

/** Commits records through the real decision, as the ingest service does. */
export function commitRecords(store: EventStore, records: Intervention[]): Promise<RelayEvent[]> {
  return store.commit(
    records.map((record) => String(record.id)),
    (current) => decideEvents(records, current, { source: "webhook", mapping }),
  );
}

export function describeEventStoreContract(
  name: string,
  open: () => Promise<EventStore & Outbox>,
): void {
  describe(`${name} store contract`, () => {
    it("assigns strictly increasing ids in commit order", async () => {
      const store = await open();
      const first = await commitRecords(store, [sampleRecord(1), sampleRecord(2)]);
      const second = await commitRecords(store, [sampleRecord(3)]);
      const ids = [...first, ...second].map((event) => event.id);
      assert.equal(ids.length, 3);
      for (let i = 1; i < ids.length; i++) {
        assert.ok(
          store.compareIds(ids[i - 1] as string, ids[i] as string) < 0,
          `${ids[i - 1]} < ${ids[i]}`,
        );
      }
      await store.close();
    });

    it("stores nothing for a row identical to the known state", async () => {
      const store = await open();
      await commitRecords(store, [sampleRecord(1)]);
      const again = await commitRecords(store, [sampleRecord(1)]);
      assert.deepEqual(again, []);
      const snapshot = await store.snapshot();
      assert.equal(snapshot.records.length, 1);
      await store.close();
    });

    it("keeps the current state and the id it is consistent with", async () => {
      const store = await open();
      await commitRecords(store, [sampleRecord(1), sampleRecord(2)]);
      const [update] = await commitRecords(store, [sampleRecord(1, "En cours")]);
      const snapshot = await store.snapshot();
      assert.equal(snapshot.lastEventId, update?.id);
      const one = snapshot.records.find((record) => record.id === 1);
      assert.equal(one?.statut, "En cours");
      assert.equal(update?.type, "record.updated");
      assert.deepEqual(update?.changes?.statut, { from: "En attente", to: "En cours" });
      await store.close();
    });

    it("removes a record from the state on record.removed", async () => {
      const store = await open();
      await commitRecords(store, [sampleRecord(1), sampleRecord(2)]);
      await store.commit(["1"], (current) => {
        const record = current.get("1");
        assert.ok(record);
        return [
          { type: "record.removed", source: "reconciliation", record } satisfies PendingEvent,
        ];
      });
      const snapshot = await store.snapshot();
      assert.deepEqual(
        snapshot.records.map((record) => record.id),
        [2],
      );
      await store.close();
    });

    it("reads every event after an id, in order, and pages with a limit", async () => {
      const store = await open();
      const events = await commitRecords(
        store,
        [1, 2, 3, 4, 5].map((id) => sampleRecord(id)),
      );
      const first = events[0]?.id as string;
      const page = await store.readAfter(first, 2);
      assert.equal(page.kind, "events");
      assert.deepEqual(
        page.kind === "events" ? page.events.map((event) => event.id) : [],
        events.slice(1, 3).map((event) => event.id),
      );
      const tail = await store.readAfter(events[4]?.id as string, 10);
      assert.deepEqual(tail, { kind: "events", events: [] });
      await store.close();
    });

    it("reports a gap for an id past the newest or a pruned id", async () => {
      const store = await open();
      const events = await commitRecords(
        store,
        [1, 2, 3, 4].map((id) => sampleRecord(id)),
      );
      const newest = events[3]?.id as string;
      const [epoch, position] = newest.split(".");
      // Same epoch, a position no commit reached yet (a sequence, or a Redis entry id).
      const ahead = position?.includes("-") ? "99999999999999-0" : "99999999999999";
      assert.equal((await store.readAfter(`${epoch}.${ahead}`, 10)).kind, "gap");
      const pruned = await store.prune({ maxEvents: 2, maxAgeMs: 3_600_000 }, Date.now());
      assert.equal(pruned, 2);
      assert.equal((await store.readAfter(events[0]?.id as string, 10)).kind, "gap");
      const fromKept = await store.readAfter(events[1]?.id as string, 10);
      assert.deepEqual(
        fromKept.kind === "events" ? fromKept.events.map((event) => event.id) : null,
        events.slice(2).map((event) => event.id),
      );
      assert.equal((await store.snapshot()).records.length, 4, "pruning never touches state");
      await store.close();
    });

    it("answers foreign for an id of another store, a bare position or a malformed id", async () => {
      const older = await open();
      const oldEvents = await commitRecords(
        older,
        [1, 2].map((id) => sampleRecord(id)),
      );
      await older.close();
      const store = await open();
      const events = await commitRecords(
        store,
        [1, 2, 3, 4, 5].map((id) => sampleRecord(id)),
      );
      const oldId = oldEvents[0]?.id ?? "";
      const [epoch, position = ""] = (events[0]?.id ?? "").split(".");
      assert.notEqual(oldId.split(".")[0], epoch);
      assert.deepEqual(await store.readAfter(oldId, 10), { kind: "foreign" });
      for (const bad of [position, "not-an-id\r\n", "", `${oldId}.1`, "ABCDEFGH.1"]) {
        assert.deepEqual(await store.readAfter(bad, 10), { kind: "foreign" }, JSON.stringify(bad));
      }
      assert.ok(store.compareIds(oldId, events[0]?.id ?? "") < 0, "other histories sort first");
      await store.close();
    });

    it("counts the events committed since a moment", async () => {
      const store = await open();
      const before = Date.now() - 1;
      await commitRecords(store, [sampleRecord(1), sampleRecord(2)]);
      await commitRecords(store, [sampleRecord(1, "En cours")]);
      assert.equal(await store.countSince(before), 3);
      // From two minutes back: the events' own minute is past the boundary (Redis reads its
      // per-minute counters there instead of the stream).
      assert.equal(await store.countSince(Date.now() - 120_000), 3);
      assert.equal(await store.countSince(Date.now() + 60_000), 0);
      await store.close();
    });

    it("prunes events older than the maximum age", async () => {
      const store = await open();
      await commitRecords(store, [sampleRecord(1), sampleRecord(2)]);
      const pruned = await store.prune({ maxEvents: 1000, maxAgeMs: 60_000 }, Date.now() + 120_000);
      assert.equal(pruned, 2);
      assert.deepEqual(await store.readLatest(10), []);
      // What was pruned by age is no longer counted either (Redis drops its minute counters).
      assert.equal(await store.countSince(0), 0);
      await store.close();
    });

    it("reads the latest events oldest first and pages backwards", async () => {
      const store = await open();
      const events = await commitRecords(
        store,
        [1, 2, 3, 4, 5].map((id) => sampleRecord(id)),
      );
      const latest = await store.readLatest(2);
      assert.deepEqual(
        latest.map((event) => event.id),
        events.slice(3).map((event) => event.id),
      );
      const before = await store.readLatest(2, events[3]?.id);
      assert.deepEqual(
        before.map((event) => event.id),
        events.slice(1, 3).map((event) => event.id),
      );
      await store.close();
    });

    it("tells listeners about every committed event once, in order", async () => {
      const store = await open();
      const seen: string[] = [];
      const stop = store.onAppended((events) => {
        for (const event of events) seen.push(event.id);
      });
      const a = await commitRecords(store, [sampleRecord(1), sampleRecord(2)]);
      await commitRecords(store, [sampleRecord(1)]);
      const b = await commitRecords(store, [sampleRecord(2, "Bloqué")]);
      // Listeners may run on another connection (Redis): wait until they caught up.
      const deadline = Date.now() + 2000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(
        seen,
        [...a, ...b].map((event) => event.id),
      );
      stop();
      await store.close();
    });

    it("writes outbox entries with their events and keeps the first of duplicate keys", async () => {
      const store = await open();
      const outbox = (events: readonly RelayEvent[]) =>
        events.map((event) => ({
          key: `${event.record.id}:tchap`,
          destination: "tchap",
          payload: { id: event.id },
        }));
      await store.commit(
        ["1"],
        (current) => decideEvents([sampleRecord(1)], current, { source: "webhook", mapping }),
        { outbox },
      );
      await store.commit(
        ["1"],
        (current) =>
          decideEvents([sampleRecord(1, "Bloqué")], current, { source: "webhook", mapping }),
        { outbox },
      );
      const due = await store.due(Date.now() + 1, 10);
      assert.equal(due.length, 1);
      assert.equal(due[0]?.key, "1:tchap");
      assert.deepEqual(await store.counts(), { pending: 1, sent: 0, failed: 0 });
      await store.reschedule("1:tchap", Date.now() + 60_000, "HTTP 500", Date.now());
      assert.equal((await store.due(Date.now() + 1, 10)).length, 0, "rescheduled items wait");
      await store.markFailed("1:tchap", "too many attempts", Date.now());
      const failed = await store.list({ status: "failed", limit: 10 });
      assert.equal(failed[0]?.attempts, 2);
      assert.equal(failed[0]?.lastError, "too many attempts");
      await store.close();
    });

    it("puts a failed outbox entry back in the queue on an admin retry, and only a failed one", async () => {
      const store = await open();
      const outbox = (events: readonly RelayEvent[]) =>
        events.map((event) => ({ key: `${event.record.id}:n8n`, destination: "n8n", payload: {} }));
      await store.commit(
        ["2"],
        (current) => decideEvents([sampleRecord(2)], current, { source: "webhook", mapping }),
        { outbox },
      );
      assert.equal(await store.retry("2:n8n", Date.now()), "not-failed");
      assert.equal(await store.retry("nope:n8n", Date.now()), "not-found");
      await store.reschedule("2:n8n", Date.now() + 60_000, "HTTP 404", Date.now());
      await store.markFailed("2:n8n", "HTTP 400", Date.now());
      const at = Date.now() + 5;
      assert.equal(await store.retry("2:n8n", at), "retried");
      const [item] = await store.due(at, 10);
      assert.equal(item?.key, "2:n8n");
      assert.equal(item?.status, "pending");
      assert.equal(item?.attempts, 0, "a retried alert gets its attempts afresh");
      assert.equal(item?.lastError, "HTTP 400", "the reason it failed stays visible");
      assert.deepEqual(await store.counts(), { pending: 1, sent: 0, failed: 0 });
      assert.equal(await store.retry("2:n8n", at), "not-failed", "a second retry changes nothing");
      await store.close();
    });

    it("stores no event and no outbox entry when the decision throws", async () => {
      const store = await open();
      await assert.rejects(
        store.commit(["1"], () => {
          throw new Error("boom");
        }),
      );
      assert.equal((await store.snapshot()).lastEventId, null);
      await commitRecords(store, [sampleRecord(1)]);
      assert.equal(
        (await store.snapshot()).records.length,
        1,
        "the store still works after a failed commit",
      );
      await store.close();
    });
  });
}
