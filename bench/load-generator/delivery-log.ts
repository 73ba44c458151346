/**
 * Tallies one publishing run across every subscriber: which message each one got, how late,
 * and whether it was a duplicate or came out of order. Typed arrays, not objects: with 10,000
 * subscribers and hundreds of messages this is millions of entries.
 */
export class DeliveryLog {
  readonly subscribers: number;
  readonly messages: number;
  readonly firstSeq: number;
  /** Latency of each delivery in ms, in arrival order (only the first `delivered` are set). */
  readonly latenciesMs: Float32Array;
  readonly #seen: Uint8Array;
  /** Server order (SSE id) of the last message each subscriber got. */
  readonly #lastOrder: Float64Array;
  delivered = 0;
  duplicates = 0;
  outOfOrder = 0;
  /** Bench messages from another run (or garbled): should stay 0. */
  foreign = 0;

  constructor(subscribers: number, messages: number, firstSeq: number) {
    this.subscribers = subscribers;
    this.messages = messages;
    this.firstSeq = firstSeq;
    this.latenciesMs = new Float32Array(subscribers * messages);
    this.#seen = new Uint8Array(subscribers * messages);
    this.#lastOrder = new Float64Array(subscribers).fill(-1);
  }

  get expected(): number {
    return this.subscribers * this.messages;
  }

  /**
   * Duplicates are judged on the publisher's sequence number; order on the server's id, since
   * concurrent publications may be stored in another order than they were sent.
   */
  record(stream: number, seq: number, order: number, latencyMs: number): void {
    const offset = seq - this.firstSeq;
    if (offset < 0 || offset >= this.messages || stream >= this.subscribers) {
      this.foreign++;
      return;
    }
    const slot = stream * this.messages + offset;
    if (this.#seen[slot] === 1) {
      this.duplicates++;
      return;
    }
    this.#seen[slot] = 1;
    if (order >= 0) {
      if (order <= (this.#lastOrder[stream] as number)) this.outOfOrder++;
      else this.#lastOrder[stream] = order;
    }
    this.latenciesMs[this.delivered++] = latencyMs;
  }
}
