/**
 * The fan-out hub: follows the store's committed events and writes each one, encoded once,
 * to every subscriber allowed to see it. Also runs the heartbeat and the catch-up of new
 * subscribers (snapshot, or replay after Last-Event-ID) without losing or doubling an event.
 */
import type { RelayEvent } from "../domain/events.ts";
import type { Intervention } from "../domain/intervention.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { encodeJsonFrame, encodeRetry, HEARTBEAT_COMMENT } from "../sse/frame.ts";
import type { EventStore } from "../store/event-store.ts";
import { EncodedEvent } from "./encoded-event.ts";
import { recordMatches, visibility } from "./record-filter.ts";
import type { CloseReason, Subscriber } from "./subscriber.ts";

export interface HubOptions {
  store: EventStore;
  metrics: Metrics;
  heartbeatMs: number;
  retryMs: number;
  /** Bytes waiting in a socket beyond which a live subscriber is dropped. */
  maxQueuedBytes: number;
  /** Live events held for one subscriber while it catches up, beyond which it is dropped. */
  maxPendingEvents: number;
  /** Events read from the store per replay page. */
  replayPageSize?: number;
  /** When the webhook behind an event was received (for the latency histogram). */
  takeIngestStart?: (eventId: string) => number | undefined;
  onClose?: (subscriber: Subscriber, reason: CloseReason) => void;
}

const HEARTBEAT_EVENT = encodeJsonFrame("heartbeat", {});

export class Hub {
  readonly #options: HubOptions;
  readonly #subscribers = new Set<Subscriber>();
  readonly #unsubscribeStore: () => void;
  #heartbeat: NodeJS.Timeout | null = null;
  /** The unfiltered snapshot frame, reused while no event arrived since it was built. */
  #snapshotCache: { lastEventId: string | null; bytes: Buffer } | null = null;
  /** Recently encoded events, so replays and catch-ups reuse the bytes of live fan-out. */
  readonly #recent = new Map<string, EncodedEvent>();

  constructor(options: HubOptions) {
    this.#options = options;
    this.#unsubscribeStore = options.store.onAppended((events) => this.publish(events));
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  get size(): number {
    return this.#subscribers.size;
  }

  subscribers(): ReadonlySet<Subscriber> {
    return this.#subscribers;
  }

  /**
   * Registers the subscriber first (so live events are held), then catches it up: a replay
   * after `lastEventId`, or a snapshot; `reset` precedes the snapshot when the id is unusable.
   */
  async open(subscriber: Subscriber, lastEventId: string | null): Promise<void> {
    this.#subscribers.add(subscriber);
    this.#options.metrics.subscriberOpened();
    subscriber.socket.once("close", () => this.close(subscriber, "client"));
    subscriber.write(encodeRetry(this.#options.retryMs));
    try {
      let caughtUp = false;
      if (lastEventId !== null) {
        caughtUp = await this.#replay(subscriber, lastEventId);
        if (!caughtUp && subscriber.format === "relay") {
          await subscriber.writeAndDrain(
            encodeJsonFrame("reset", { reason: "unknown-id", lastEventId }),
          );
        }
      }
      if (!caughtUp) {
        if (subscriber.format === "relay") await this.#sendSnapshot(subscriber);
        else subscriber.lastId = (await this.#options.store.snapshot()).lastEventId;
      }
      this.#goLive(subscriber);
    } catch (error) {
      this.close(subscriber, "error");
      throw error;
    }
  }

  /** Pages through the store after `afterId`. False when the id is unknown or pruned. */
  async #replay(subscriber: Subscriber, afterId: string): Promise<boolean> {
    const pageSize = this.#options.replayPageSize ?? 500;
    let cursor = afterId;
    for (;;) {
      if (subscriber.closed) return true;
      const page = await this.#options.store.readAfter(cursor, pageSize);
      if (page.kind === "gap") return false;
      for (const event of page.events) {
        const bytes = this.#bytesFor(subscriber, this.#encoded(event));
        if (bytes) await subscriber.writeAndDrain(bytes);
        cursor = event.id;
      }
      subscriber.lastId = cursor;
      if (page.events.length < pageSize) return true;
    }
  }

  async #sendSnapshot(subscriber: Subscriber): Promise<void> {
    const snapshot = await this.#options.store.snapshot();
    let bytes: Buffer;
    const cache = this.#snapshotCache;
    if (subscriber.unfiltered && cache && cache.lastEventId === snapshot.lastEventId) {
      bytes = cache.bytes;
    } else {
      const records: Intervention[] = subscriber.unfiltered
        ? snapshot.records
        : snapshot.records.filter((record) => recordMatches(record, subscriber.filter));
      bytes = encodeJsonFrame(
        "snapshot",
        { records, lastEventId: snapshot.lastEventId },
        snapshot.lastEventId ?? undefined,
      );
      if (subscriber.unfiltered) this.#snapshotCache = { lastEventId: snapshot.lastEventId, bytes };
    }
    await subscriber.writeAndDrain(bytes);
    subscriber.lastId = snapshot.lastEventId;
  }

  /** Flushes the events held during catch-up that it did not already cover. */
  #goLive(subscriber: Subscriber): void {
    const held = subscriber.pending ?? [];
    subscriber.pending = null;
    const compare = this.#options.store.compareIds.bind(this.#options.store);
    for (const event of held) {
      if (subscriber.lastId !== null && compare(event.id, subscriber.lastId) <= 0) continue;
      this.#deliver(subscriber, this.#encoded(event));
    }
  }

  #encoded(event: RelayEvent): EncodedEvent {
    let encoded = this.#recent.get(event.id);
    if (!encoded) {
      encoded = new EncodedEvent(event);
      this.#recent.set(event.id, encoded);
      // Bounded: the oldest entry goes first (Map keeps insertion order).
      if (this.#recent.size > 2048) this.#recent.delete(this.#recent.keys().next().value as string);
    }
    return encoded;
  }

  publish(events: readonly RelayEvent[]): void {
    if (events.length > 0) this.#snapshotCache = null;
    const metrics = this.#options.metrics;
    for (const event of events) {
      const encoded = this.#encoded(event);
      let delivered = 0;
      for (const subscriber of this.#subscribers) {
        if (subscriber.pending !== null) {
          subscriber.pending.push(event);
          if (subscriber.pending.length > this.#options.maxPendingEvents)
            this.close(subscriber, "slow");
          continue;
        }
        if (this.#deliver(subscriber, encoded)) delivered++;
      }
      metrics.eventDelivered(delivered, encoded.full("relay").length);
      const started = this.#options.takeIngestStart?.(event.id);
      if (started !== undefined) metrics.deliveryLatency((performance.now() - started) / 1000);
    }
  }

  #bytesFor(subscriber: Subscriber, encoded: EncodedEvent): Buffer | null {
    if (subscriber.unfiltered) return encoded.full(subscriber.format);
    const seen = visibility(encoded.event, subscriber.filter);
    if (seen === "full") return encoded.full(subscriber.format);
    if (seen === "leaves") return encoded.leaves(subscriber.format);
    return null;
  }

  #deliver(subscriber: Subscriber, encoded: EncodedEvent): boolean {
    const bytes = this.#bytesFor(subscriber, encoded);
    subscriber.lastId = encoded.event.id;
    if (!bytes || !subscriber.write(bytes)) return false;
    // A reader that stopped reading would make the relay hold every event for it: past the
    // bound it is cut off and resumes later from its Last-Event-ID.
    if (subscriber.queuedBytes() > this.#options.maxQueuedBytes) {
      this.close(subscriber, "slow");
      return false;
    }
    return true;
  }

  #beat(): void {
    for (const subscriber of this.#subscribers) {
      if (subscriber.catchingUp) continue;
      subscriber.write(subscriber.heartbeatAsEvent ? HEARTBEAT_EVENT : HEARTBEAT_COMMENT);
    }
  }

  close(subscriber: Subscriber, reason: CloseReason): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    subscriber.closeReason = reason;
    this.#subscribers.delete(subscriber);
    this.#options.metrics.subscriberClosed(reason);
    this.#options.onClose?.(subscriber, reason);
    if (reason === "client" || reason === "error" || reason === "slow") subscriber.socket.destroy();
    else subscriber.socket.end();
  }

  /** Ends every stream with a retry hint spread over a few seconds, so clients do not stampede. */
  closeAll(reason: CloseReason): void {
    for (const subscriber of [...this.#subscribers]) {
      const spread = this.#options.retryMs + Math.floor(Math.random() * 5000);
      subscriber.write(encodeRetry(spread));
      this.close(subscriber, reason);
    }
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    this.#unsubscribeStore();
  }
}
