/**
 * The snapshot event, encoded once per store read and shared by every subscriber, filtered or
 * not. Its JSON is `{"records":[r1,r2,…],"lastEventId":…}` on one `data:` line, so a filtered
 * subscriber's frame is the same head and tail around the subset of the same per-record
 * bytes: nothing is encoded or copied per subscriber (row 1 of issue 12: 60 filtered streams
 * used to hold 60 copies of an 8 MB snapshot).
 */
import type { Intervention } from "../domain/intervention.ts";
import { encodeJsonFrame } from "../sse/frame.ts";
import type { Snapshot } from "../store/event-store.ts";

const COMMA = Buffer.from(",");

export class SnapshotFrame {
  readonly #snapshot: Snapshot;
  readonly #head: Buffer;
  readonly #tail: Buffer;
  readonly #records: readonly Buffer[];
  #whole: Buffer | null = null;

  constructor(snapshot: Snapshot) {
    this.#snapshot = snapshot;
    // Encoded through the one framing function, then split where the records go: the bytes
    // stay exactly those of encodeJsonFrame (id/event checks, line splitting included).
    const marker = "\u0000records\u0000";
    const framed = encodeJsonFrame(
      "snapshot",
      { records: marker, lastEventId: snapshot.lastEventId },
      snapshot.lastEventId ?? undefined,
    ).toString("utf8");
    const at = framed.indexOf(JSON.stringify(marker));
    this.#head = Buffer.from(`${framed.slice(0, at)}[`, "utf8");
    this.#tail = Buffer.from(`]${framed.slice(at + JSON.stringify(marker).length)}`, "utf8");
    this.#records = snapshot.records.map((record) => Buffer.from(JSON.stringify(record), "utf8"));
  }

  /** The whole frame as one buffer, built once, for unfiltered subscribers. */
  whole(): Buffer {
    this.#whole ??= Buffer.concat([...this.matching(() => true)]);
    return this.#whole;
  }

  /** The frame for the records `keep` accepts, as shared chunks in order. */
  *matching(keep: (record: Intervention) => boolean): Generator<Buffer> {
    yield this.#head;
    let first = true;
    for (const [index, record] of this.#snapshot.records.entries()) {
      if (!keep(record)) continue;
      if (!first) yield COMMA;
      first = false;
      yield this.#records[index] as Buffer;
    }
    yield this.#tail;
  }
}
