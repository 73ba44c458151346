import assert from "node:assert/strict";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { commitRecords, sampleRecord } from "../../test/support/event-store-contract.ts";
import type { RelayEvent } from "../domain/events.ts";
import { NOOP_METRICS } from "../metrics/metrics.ts";
import type { EventStore } from "../store/event-store.ts";
import { MemoryStore } from "../store/memory-store.ts";
import { Hub } from "./hub.ts";
import { NO_FILTER } from "./record-filter.ts";
import { Subscriber } from "./subscriber.ts";

/** The memory store, with some methods replaced by the test. */
function delegate(memory: MemoryStore, overrides: Partial<EventStore>): EventStore {
  return {
    kind: "memory",
    epoch: memory.epoch,
    commit: (keys, decide, options) => memory.commit(keys, decide, options),
    readAfter: (afterId, limit) => memory.readAfter(afterId, limit),
    readLatest: (limit, beforeId) => memory.readLatest(limit, beforeId),
    snapshot: () => memory.snapshot(),
    countSince: (sinceMs) => memory.countSince(sinceMs),
    prune: (policy, now) => memory.prune(policy, now),
    compareIds: (a, b) => memory.compareIds(a, b),
    onAppended: (listener) => memory.onAppended(listener),
    isReady: () => memory.isReady(),
    close: () => memory.close(),
    ...overrides,
  };
}

/** A server-side socket for the hub and the frames its client received (event#id). */
interface Pair {
  socket: Socket;
  frames: string[];
  waitFor(frame: string): Promise<void>;
}

describe("the hub's fan-out", () => {
  let server: Server;
  let port = 0;
  const accepted: Socket[] = [];
  before(async () => {
    server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function pair(): Promise<Pair> {
    const client = connect({ host: "127.0.0.1", port });
    await new Promise((resolve) => client.once("connect", resolve));
    while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const socket = accepted.shift() as Socket;
    const frames: string[] = [];
    cleanups.push(() => {
      client.destroy();
      socket.destroy();
    });
    let text = "";
    client.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      let end = text.indexOf("\n\n");
      while (end >= 0) {
        const lines = text.slice(0, end).split("\n");
        const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
        // Positions only: every id in these tests is of one store, so one epoch.
        const id = lines
          .find((l) => l.startsWith("id: "))
          ?.slice(4)
          .replace(/^[a-z]{8}\./, "");
        if (event) frames.push(`${event}#${id}`);
        text = text.slice(end + 2);
        end = text.indexOf("\n\n");
      }
    });
    return {
      socket,
      frames,
      async waitFor(frame) {
        for (let i = 0; i < 500 && !frames.includes(frame); i++)
          await new Promise((resolve) => setTimeout(resolve, 10));
        assert.ok(frames.includes(frame), `${frame} arrived (got ${frames.join(", ")})`);
      },
    };
  }

  function setup(store: EventStore = new MemoryStore(), fanOutSlice?: number) {
    const hub = new Hub({
      store,
      metrics: NOOP_METRICS,
      heartbeatMs: 60_000,
      retryMs: 1000,
      maxQueuedBytes: 1 << 20,
      maxPendingEvents: 100,
      ...(fanOutSlice ? { fanOutSlice } : {}),
    });
    const subscriber = (socket: Socket) =>
      new Subscriber({
        socket,
        format: "relay",
        filter: NO_FILTER,
        clientAddress: "127.0.0.1",
        heartbeatAsEvent: false,
      });
    cleanups.push(() => hub.stop());
    return { store, hub, subscriber };
  }

  it("writes nothing while the store commits, then every event in a later turn", async () => {
    const { store, hub, subscriber } = setup();
    const stream = await pair();
    await hub.open(subscriber(stream.socket), null);
    await stream.waitFor("snapshot#undefined");
    const written = stream.socket.bytesWritten;
    await commitRecords(store, [sampleRecord(1)]);
    assert.equal(stream.socket.bytesWritten, written, "the commit returned before any write");
    await stream.waitFor("record.added#1");
  });

  it("gives a subscriber that goes live before a queued fan-out each event once", async () => {
    const { store, hub, subscriber } = setup();
    const stream = await pair();
    // Event 1 is committed and queued; the subscriber's snapshot already contains it, and it
    // goes live before the queued fan-out runs.
    await commitRecords(store, [sampleRecord(1)]);
    await hub.open(subscriber(stream.socket), null);
    await commitRecords(store, [sampleRecord(2)]);
    await stream.waitFor("record.added#2");
    assert.deepEqual(stream.frames, ["snapshot#1", "record.added#2"]);
  });

  it("sends events committed together in one write per subscriber, in order", async () => {
    const { store, hub, subscriber } = setup();
    const streams = [await pair(), await pair()];
    for (const stream of streams) await hub.open(subscriber(stream.socket), null);
    const writes = streams.map((stream) => {
      let count = 0;
      const write = stream.socket.write.bind(stream.socket);
      stream.socket.write = ((chunk: Buffer) => {
        count++;
        return write(chunk);
      }) as typeof stream.socket.write;
      return () => count;
    });
    await Promise.all([1, 2, 3].map((id) => commitRecords(store, [sampleRecord(id)])));
    for (const stream of streams) {
      await stream.waitFor("record.added#3");
      assert.deepEqual(stream.frames.slice(1), [
        "record.added#1",
        "record.added#2",
        "record.added#3",
      ]);
    }
    assert.deepEqual(
      writes.map((count) => count()),
      [1, 1],
    );
  });

  it("reads the store once for subscribers arriving while no event comes", async () => {
    const memory = new MemoryStore();
    let reads = 0;
    const store = delegate(memory, {
      snapshot: () => {
        reads++;
        return memory.snapshot();
      },
    });
    const { hub, subscriber } = setup(store);
    await commitRecords(store, [sampleRecord(1)]);
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 3; i++) {
      const stream = await pair();
      await hub.open(subscriber(stream.socket), null);
      await stream.waitFor("snapshot#1");
    }
    assert.equal(reads, 1, "three snapshots, one store read");
    await commitRecords(store, [sampleRecord(2)]);
    const late = await pair();
    await hub.open(subscriber(late.socket), null);
    await late.waitFor("snapshot#2");
    assert.equal(reads, 2, "a new event makes the next subscriber read the store again");
  });

  it("does not repeat what a snapshot showed when the store tells the hub late", async () => {
    // Like Redis: another instance wrote events 1 and 2; this hub's follower has not read them
    // yet when a subscriber's snapshot already shows them.
    const memory = new MemoryStore();
    const listeners: ((events: readonly RelayEvent[]) => void)[] = [];
    const late: RelayEvent[][] = [];
    memory.onAppended((events) => late.push([...events]));
    const store = delegate(memory, {
      onAppended: (listener) => {
        listeners.push(listener);
        return () => {};
      },
    });
    const { hub, subscriber } = setup(store);
    await commitRecords(memory, [sampleRecord(1)]);
    await commitRecords(memory, [sampleRecord(2)]);
    const stream = await pair();
    await hub.open(subscriber(stream.socket), null);
    await stream.waitFor("snapshot#2");
    // The follower catches up, then event 3 comes.
    for (const events of late.splice(0)) for (const listener of listeners) listener(events);
    await commitRecords(memory, [sampleRecord(3)]);
    for (const events of late.splice(0)) for (const listener of listeners) listener(events);
    await stream.waitFor("record.added#3");
    assert.deepEqual(stream.frames, ["snapshot#2", "record.added#3"]);
  });

  it("fans out a slice of subscribers per turn, later events and newcomers keeping order", async () => {
    const { store, hub, subscriber } = setup(new MemoryStore(), 2);
    const streams = [];
    for (let i = 0; i < 5; i++) {
      const stream = await pair();
      await hub.open(subscriber(stream.socket), null);
      await stream.waitFor("snapshot#undefined");
      streams.push({ stream, written: stream.socket.bytesWritten });
    }
    await commitRecords(store, [sampleRecord(1)]);
    // The fan-out's first turn was queued by the commit, before this one.
    await new Promise((resolve) => setImmediate(resolve));
    const reached = streams.filter(({ stream, written }) => stream.socket.bytesWritten > written);
    assert.equal(reached.length, 2, "one slice of two subscribers in the first turn");
    // While the fan-out of event 1 goes on: event 2 is committed and a newcomer arrives.
    await commitRecords(store, [sampleRecord(2)]);
    const late = await pair();
    await hub.open(subscriber(late.socket), null);
    for (const { stream } of streams) await stream.waitFor("record.added#2");
    await commitRecords(store, [sampleRecord(3)]);
    for (const { stream } of [...streams, { stream: late }]) await stream.waitFor("record.added#3");
    for (const { stream } of streams)
      assert.deepEqual(stream.frames, [
        "snapshot#undefined",
        "record.added#1",
        "record.added#2",
        "record.added#3",
      ]);
    assert.deepEqual(late.frames, ["snapshot#2", "record.added#3"]);
  });
});
