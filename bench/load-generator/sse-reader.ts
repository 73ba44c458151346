/**
 * The load generator's SSE reader. It works on bytes and never decodes a frame to text, so one
 * process can follow ten thousand streams while sharing two cores with the server it measures.
 * It understands what both servers send: an HTTP/1.1 head (no chunked encoding: the relay and
 * nchan both end the body with the connection), then frames separated by an empty line.
 */

/** Marks a bench message inside the event JSON: `"BenchSentAt":"b<seq>t<µs>"`. */
const MARKER = Buffer.from('"BenchSentAt":"b');
const HEAD_END = Buffer.from("\r\n\r\n");
const FRAME_END = Buffer.from("\n\n");
const DATA_FIELD = Buffer.from("data:");
const ID_FIELD = Buffer.from("id: ");
const SNAPSHOT_FIELD = Buffer.from("event: snapshot\n");
const COLON = 0x3a;
const DOT = 0x2e;
/** Longest epoch the reader skips before an id's position. */
const EPOCH_MAX = 8;
const DIGIT_0 = 0x30;
const LETTER_T = 0x74;

/** Past this many bytes without a frame end the peer is not speaking SSE: drop it. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/** What a frame was, for the counters. */
export type FrameKind = "comment" | "snapshot" | "other";

/** One object receives the frames of every stream, so a stream costs no closure. */
export interface FrameVisitor {
  head(stream: number, status: number): void;
  /**
   * `order` ranks the message in the server's own order, from its SSE id: the relay's ids are
   * `<epoch>.<n>` (one epoch per run: n ranks), nchan's are `<time>:<index>`. -1 when the
   * frame has no id.
   */
  benchMessage(stream: number, seq: number, sentAtUs: number, order: number): void;
  frame(stream: number, kind: FrameKind): void;
}

function readDecimal(bytes: Buffer, from: number, to: number): [value: number, next: number] {
  let value = 0;
  let i = from;
  for (; i < to; i++) {
    const digit = (bytes[i] as number) - DIGIT_0;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return [value, i];
}

export class SseReader {
  /** The unfinished frame, in the pieces it came in (joined once, when its end arrives). */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #headDone = false;

  /**
   * Reads `chunk` (which may be a view into a buffer reused by the caller: whatever must
   * outlive the call is copied). Returns false when the stream must be dropped.
   */
  feed(chunk: Buffer, stream: number, visitor: FrameVisitor): boolean {
    // A frame of megabytes (a snapshot) arrives in many reads: joining the pieces at every read
    // copied it over and over and made the generator, not the server, the bottleneck of a
    // reconnection storm. Pieces wait until a read brings the frame's end.
    if (this.#pending.length > 0 && this.#headDone && !this.#endsIn(chunk)) {
      return this.#keep(chunk, 0);
    }
    const bytes = this.#pending.length > 0 ? Buffer.concat([...this.#pending, chunk]) : chunk;
    this.#pending = [];
    this.#pendingBytes = 0;
    let position = 0;
    if (!this.#headDone) {
      const end = bytes.indexOf(HEAD_END);
      if (end < 0) return this.#keep(bytes, 0);
      // "HTTP/1.1 200 OK": the status is the three digits after the first space.
      const [status] = readDecimal(bytes, bytes.indexOf(0x20) + 1, end);
      this.#headDone = true;
      visitor.head(stream, status);
      if (status !== 200) return false;
      position = end + HEAD_END.length;
    }
    for (;;) {
      const end = bytes.indexOf(FRAME_END, position);
      if (end < 0) return this.#keep(bytes, position);
      this.#frame(bytes, position, end, stream, visitor);
      position = end + FRAME_END.length;
    }
  }

  /** Whether `chunk` ends the pending frame, the blank line possibly split across reads. */
  #endsIn(chunk: Buffer): boolean {
    const last = this.#pending.at(-1) as Buffer;
    if (last[last.length - 1] === 0x0a && chunk[0] === 0x0a) return true;
    return chunk.indexOf(FRAME_END) >= 0;
  }

  #keep(bytes: Buffer, from: number): boolean {
    if (from >= bytes.length) return true;
    this.#pendingBytes += bytes.length - from;
    if (this.#pendingBytes > MAX_PENDING_BYTES) return false;
    // Copied: `bytes` may be a view into the caller's reused read buffer.
    this.#pending.push(Buffer.from(bytes.subarray(from)));
    return true;
  }

  #frame(bytes: Buffer, start: number, end: number, stream: number, visitor: FrameVisitor): void {
    const kind = this.#classify(bytes, start, end);
    if (kind === "bench")
      visitor.benchMessage(stream, this.#seq, this.#sentAtUs, this.#order(bytes, start, end));
    else visitor.frame(stream, kind);
  }

  #order(bytes: Buffer, start: number, end: number): number {
    if (bytes.indexOf(ID_FIELD, start) !== start) return -1;
    let from = start + ID_FIELD.length;
    // The relay's epoch: letters up to a dot (docs/reference/protocole.md), skipped.
    const dot = bytes.indexOf(DOT, from);
    if (dot >= 0 && dot < end && dot - from <= EPOCH_MAX) from = dot + 1;
    const [first, next] = readDecimal(bytes, from, end);
    if (bytes[next] !== COLON) return first;
    const [second] = readDecimal(bytes, next + 1, end);
    return first * 100_000 + second;
  }

  #seq = 0;
  #sentAtUs = 0;

  /** "bench" also leaves the message's sequence number and send time in #seq and #sentAtUs. */
  #classify(bytes: Buffer, start: number, end: number): FrameKind | "bench" {
    if (bytes[start] === COLON) return "comment";
    // Field lines before the first `data:` say what the frame is (id, event name).
    const data = bytes.indexOf(DATA_FIELD, start);
    if (data < 0 || data >= end) return "other";
    const snapshot = bytes.indexOf(SNAPSHOT_FIELD, start);
    if (snapshot >= 0 && snapshot < data) return "snapshot";
    const marker = bytes.indexOf(MARKER, data);
    if (marker < 0 || marker >= end) return "other";
    const [seq, afterSeq] = readDecimal(bytes, marker + MARKER.length, end);
    if (bytes[afterSeq] !== LETTER_T) return "other";
    this.#seq = seq;
    [this.#sentAtUs] = readDecimal(bytes, afterSeq + 1, end);
    return "bench";
  }
}
