import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { benchStamp } from "./payload.ts";
import { type FrameKind, type FrameVisitor, SseReader } from "./sse-reader.ts";

class Recorder implements FrameVisitor {
  readonly seen: string[] = [];
  head(_stream: number, status: number) {
    this.seen.push(`head ${status}`);
  }
  benchMessage(_stream: number, seq: number, sentAtUs: number, order: number) {
    this.seen.push(`bench ${seq} ${sentAtUs} #${order}`);
  }
  frame(_stream: number, kind: FrameKind) {
    this.seen.push(kind);
  }
}

const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n";
const message = (seq: number, at: number) =>
  `id: kqzmbwta.${seq + 1}\nevent: record.updated\ndata: {"record":{"fields":{"BenchSentAt":"${benchStamp(seq, at)}"}},"changes":{"fields.BenchSentAt":{"from":"b0t1","to":"x"}}}\n\n`;

describe("the load generator's SSE reader", () => {
  it("reads the head, a retry, a snapshot, comments and bench messages split anywhere", () => {
    const stream = `${HEAD}retry: 3000\n\nid: 4\nevent: snapshot\ndata: {"records":[{"fields":{"BenchSentAt":"b9t9"}}]}\n\n:\n\n${message(7, 123456)}${message(8, 123999)}`;
    const whole = new Recorder();
    assert.ok(new SseReader().feed(Buffer.from(stream), 0, whole));
    assert.deepEqual(whole.seen, [
      "head 200",
      "other",
      "snapshot",
      "comment",
      "bench 7 123456 #8",
      "bench 8 123999 #9",
    ]);
    // Byte by byte, the same frames come out: nothing depends on how TCP cut the stream.
    const split = new Recorder();
    const reader = new SseReader();
    for (const byte of Buffer.from(stream)) reader.feed(Buffer.from([byte]), 0, split);
    assert.deepEqual(split.seen, whole.seen);
  });

  it("ranks nchan's <time>:<index> ids in publication order", () => {
    const recorder = new Recorder();
    const nchan = (id: string, seq: number) =>
      `id: ${id}\ndata: {"fields":{"BenchSentAt":"${benchStamp(seq, 5)}"}}\n\n`;
    new SseReader().feed(
      Buffer.from(`${HEAD}: hi\n\n${nchan("1795480392:1", 1)}${nchan("1795480393:0", 2)}`),
      0,
      recorder,
    );
    assert.deepEqual(recorder.seen, [
      "head 200",
      "comment",
      `bench 1 5 #${1795480392 * 100_000 + 1}`,
      `bench 2 5 #${1795480393 * 100_000}`,
    ]);
  });

  it("drops a stream answered with another status than 200", () => {
    const recorder = new Recorder();
    const ok = new SseReader().feed(Buffer.from("HTTP/1.1 429 Too Many\r\n\r\n{}"), 0, recorder);
    assert.equal(ok, false);
    assert.deepEqual(recorder.seen, ["head 429"]);
  });
});
