/**
 * Issue 12, row 1: streams that never read, filtered or not, hold at most
 * SUBSCRIBER_QUEUE_BYTES each (snapshot included) and are dropped after SUBSCRIBER_STALL_MS
 * with the metric reason "stalled", while a reading filtered stream still gets its snapshot
 * whole and right.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { openSse } from "../support/sse-client.ts";
import { gristRow, startTestRelay, type TestRelay } from "../support/test-relay.ts";
import { waitFor } from "../support/wait.ts";

const QUEUE_BYTES = 65_536;
const STALL_MS = 1500;
const RECORDS = 1200;

/** Opens a stream and never reads it: the kernel buffers fill, then the relay's queue would. */
function nonReadingStream(port: number, path: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: relay\r\nAccept: text/event-stream\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
  });
}

function departementOf(id: number): string {
  return ["13", "75", "69"][id % 3] as string;
}

describe("memory held for streams that do not read", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({
      env: {
        SUBSCRIBER_QUEUE_BYTES: String(QUEUE_BYTES),
        SUBSCRIBER_STALL_MS: String(STALL_MS),
        WEBHOOK_BODY_LIMIT_BYTES: String(8 * 1024 * 1024),
      },
    });
    // About 12 MB of snapshot: more than the kernel buffers of a socket can absorb.
    for (let start = 1; start <= RECORDS; start += 300) {
      const rows = [];
      for (let id = start; id < start + 300; id++) {
        const dep = departementOf(id);
        rows.push(
          gristRow(id, {
            Localisation: `${id} rue de la Paix, ${dep}001 Ville`,
            Commentaire: `${dep}-${"c".repeat(10_000)}`,
          }),
        );
      }
      const response = await relay.postWebhook(rows);
      assert.equal(response.status, 200, await response.text());
    }
  });
  after(() => relay.close());

  it("bounds what waits for each filtered stream by SUBSCRIBER_QUEUE_BYTES and drops it after SUBSCRIBER_STALL_MS as stalled", async () => {
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => nonReadingStream(relay.port, "/events?departement=13,75")),
    );
    await waitFor("the 20 streams to be registered", () => relay.relay.hub.size >= 20);
    let largestQueue = 0;
    const sample = setInterval(() => {
      for (const subscriber of relay.relay.hub.subscribers())
        largestQueue = Math.max(largestQueue, subscriber.queuedBytes());
    }, 20);
    try {
      await waitFor(
        "every non-reading stream to be dropped",
        () => relay.relay.hub.size === 0,
        15_000,
      );
    } finally {
      clearInterval(sample);
    }
    // A paused socket does not notice its end: read what was sent, then see the close.
    await Promise.all(
      sockets.map((socket) => {
        const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
        socket.resume();
        return closed;
      }),
    );
    // A batch is at most half the bound and the next waits until the socket took it.
    assert.ok(largestQueue > 0, "the relay had bytes waiting: the streams really did not read");
    assert.ok(
      largestQueue <= QUEUE_BYTES,
      `at most ${QUEUE_BYTES} bytes waited for one stream (saw ${largestQueue})`,
    );
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    const stalled = /relay_sse_disconnects_total\{reason="stalled"\} (\d+)/.exec(metrics);
    assert.equal(
      Number(stalled?.[1]),
      20,
      metrics
        .split("\n")
        .filter((l) => l.includes("disconnects"))
        .join("\n"),
    );
  });

  it("still gives a reading filtered stream its whole snapshot, every record of its scope and no other", async () => {
    const stream = await openSse(`${relay.url}/events?departement=13`);
    try {
      const snapshot = await stream.waitFor((message) => message.event === "snapshot", 15_000);
      const records = (snapshot.json as { records: { id: number; commentaire: string }[] }).records;
      const expected = [];
      for (let id = 1; id <= RECORDS; id++) if (departementOf(id) === "13") expected.push(id);
      // The store orders records its own way; which records came is what counts here.
      assert.deepEqual(
        records.map((record) => record.id).sort((a, b) => a - b),
        expected,
      );
      assert.ok(records.every((record) => record.commentaire.startsWith("13-")));
    } finally {
      stream.close();
    }
  });
});
