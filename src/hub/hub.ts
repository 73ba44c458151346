/**
 * The fan-out hub: follows the store's committed events and writes each one, encoded once,
 * to every subscriber allowed to see it. Also runs the heartbeat and the catch-up of new
 * subscribers (snapshot, or replay after Last-Event-ID) without losing or doubling an event.
 *
 * Live fan-out runs in a later turn of the event loop (setImmediate), not inside the store's
 * commit: the webhook is acknowledged before ten thousand sockets are written, and the events
 * committed meanwhile (several webhooks read in one poll) go out together, one write per
 * subscriber. It writes `fanOutSlice` subscribers per turn, so webhooks and new connections are
 * served between slices instead of waiting behind one long loop. Subscribers still catching up
 * get events at once, in their held list.
 */
import type { RelayEvent } from "../domain/events.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { encodeJsonFrame, encodeRetry, HEARTBEAT_COMMENT } from "../sse/frame.ts";
import { splitEventId } from "../store/event-ids.ts";
import type { EventStore, Snapshot } from "../store/event-store.ts";
import { EncodedEvent, type StreamFormat } from "./encoded-event.ts";
import { recordMatches, visibility } from "./record-filter.ts";
import { SnapshotFrame } from "./snapshot-frame.ts";
import type { CloseReason, Subscriber } from "./subscriber.ts";

export interface HubOptions {
  store: EventStore;
  metrics: Metrics;
  heartbeatMs: number;
  retryMs: number;
  /**
   * Bytes waiting in a socket beyond which a live subscriber is dropped; catch-up (snapshot
   * included) is written in batches that never queue more than this.
   */
  maxQueuedBytes: number;
  /** A subscriber whose socket takes nothing of what waits for this long is dropped (ms). */
  stallMs?: number;
  /** Live events held for one subscriber while it catches up, beyond which it is dropped. */
  maxPendingEvents: number;
  /** Events read from the store per replay page. */
  replayPageSize?: number;
  /** Live subscribers written per event-loop turn during fan-out (default 1000). */
  fanOutSlice?: number;
  /** When the webhook behind an event was received (for the latency histogram). */
  takeIngestStart?: (eventId: string) => number | undefined;
  onClose?: (subscriber: Subscriber, reason: CloseReason) => void;
}

const HEARTBEAT_EVENT = encodeJsonFrame("heartbeat", {});

/** An event waiting for the next fan-out, numbered in the order the hub received it. */
interface QueuedEvent {
  readonly encoded: EncodedEvent;
  readonly seq: number;
}

/** One fan-out of a batch of events, carried over the turns it takes. */
interface FanOut {
  readonly queue: QueuedEvent[];
  /** Over the live set itself: subscribers gone meanwhile are skipped, new ones come last. */
  readonly subscribers: Iterator<Subscriber>;
  readonly together: Partial<Record<StreamFormat, Buffer>>;
  readonly deliveredTo: number[];
  everyEventTo: number;
}

export class Hub {
  readonly #options: HubOptions;
  readonly #subscribers = new Set<Subscriber>();
  /** Subscribers past their catch-up: they get the fan-out. */
  readonly #live = new Set<Subscriber>();
  /** Subscribers still catching up: they hold events instead. */
  readonly #catchingUp = new Set<Subscriber>();
  /** Events received from the store so far; `Subscriber.liveFrom` compares against it. */
  #received = 0;
  #queue: QueuedEvent[] = [];
  /** The next slice of fan-out, scheduled; null when none is pending. */
  #flushing: NodeJS.Immediate | null = null;
  #fanOut: FanOut | null = null;
  readonly #unsubscribeStore: () => void;
  readonly #unsubscribeGap: (() => void) | undefined;
  /** One function for every subscriber (no closure each): its socket closed. */
  readonly #clientGone = (subscriber: Subscriber) => this.close(subscriber, "client");
  #heartbeat: NodeJS.Timeout | null = null;
  /**
   * The last snapshot read from the store and its unfiltered frame, reused while no event has
   * reached the hub since (`received`): a reconnection storm reads the store once, not once
   * per client.
   */
  #snapshotCache: { received: number; snapshot: Snapshot; frame: SnapshotFrame } | null = null;
  #stallCheck: NodeJS.Timeout | null = null;
  /** Recently encoded events, so replays and catch-ups reuse the bytes of live fan-out. */
  readonly #recent = new Map<string, EncodedEvent>();
  /** Epoch of the last events fanned out; a change means the store's history was replaced. */
  #epoch: string | null = null;

  constructor(options: HubOptions) {
    this.#options = options;
    this.#unsubscribeStore = options.store.onAppended((events) => this.publish(events));
    // Events this instance never received cannot be sent: every stream ends with a retry hint
    // and reconnects with its Last-Event-ID, which the store now answers with "gap", so the
    // subscriber gets `reset` and a fresh snapshot instead of silently missing them.
    this.#unsubscribeGap = options.store.onGap?.(() => {
      this.#snapshotCache = null;
      this.closeAll("gap");
    });
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatMs);
    this.#heartbeat.unref();
    const stallMs = options.stallMs ?? 30_000;
    this.#stallCheck = setInterval(
      () => this.#dropStalled(stallMs),
      Math.max(50, Math.min(1000, stallMs / 4)),
    );
    this.#stallCheck.unref();
  }

  /**
   * A reader that stopped reading keeps its socket and its catch-up open for as long as no
   * event comes to overflow its queue; past `stallMs` without taking a byte it is dropped
   * (metric reason "stalled") and resumes later from its Last-Event-ID.
   */
  #dropStalled(stallMs: number): void {
    const now = performance.now();
    for (const subscriber of this.#subscribers) {
      if (subscriber.stalledFor(now) >= stallMs) this.close(subscriber, "stalled");
    }
  }

  get size(): number {
    return this.#subscribers.size;
  }

  subscribers(): ReadonlySet<Subscriber> {
    return this.#subscribers;
  }

  /**
   * Registers the subscriber first (so live events are held), then catches it up: a replay
   * after `lastEventId`, or a snapshot; `reset` precedes the snapshot when the id is unusable:
   * pruned or unknown (`unknown-id`), or from another history of the store (`foreign-id`).
   * Both stream formats get them: a guide client would otherwise carry on from an id that
   * means nothing here (it sees named events only if it listens for them).
   */
  async open(subscriber: Subscriber, lastEventId: string | null): Promise<void> {
    this.#subscribers.add(subscriber);
    this.#catchingUp.add(subscriber);
    this.#options.metrics.subscriberOpened();
    subscriber.onGone = this.#clientGone;
    subscriber.write(encodeRetry(this.#options.retryMs));
    try {
      let replay: ReplayOutcome = "fresh";
      if (lastEventId !== null) {
        replay = await this.#replay(subscriber, lastEventId);
        if (replay !== "caught-up") {
          const reason = replay === "foreign" ? "foreign-id" : "unknown-id";
          await subscriber.writeAndDrain(encodeJsonFrame("reset", { reason, lastEventId }));
        }
      }
      if (replay !== "caught-up") {
        if (subscriber.format === "relay" || replay !== "fresh")
          await this.#sendSnapshot(subscriber);
        else subscriber.lastId = (await this.#options.store.snapshot()).lastEventId;
      }
      this.#goLive(subscriber);
    } catch (error) {
      this.close(subscriber, "error");
      throw error;
    }
  }

  /** Pages through the store after `afterId`; says why not when the id cannot be resumed. */
  async #replay(subscriber: Subscriber, afterId: string): Promise<ReplayOutcome> {
    const pageSize = this.#options.replayPageSize ?? 500;
    let cursor = afterId;
    for (;;) {
      if (subscriber.closed) return "caught-up";
      const page = await this.#options.store.readAfter(cursor, pageSize);
      if (page.kind !== "events") return page.kind;
      for (const event of page.events) {
        const bytes = this.#bytesFor(subscriber, this.#encoded(event));
        if (bytes) await subscriber.writeAndDrain(bytes);
        cursor = event.id;
      }
      subscriber.lastId = cursor;
      if (page.events.length < pageSize) return "caught-up";
    }
  }

  async #sendSnapshot(subscriber: Subscriber): Promise<void> {
    let cache = this.#snapshotCache;
    if (!cache || cache.received !== this.#received) {
      const received = this.#received;
      const snapshot = await this.#options.store.snapshot();
      cache = { received, snapshot, frame: new SnapshotFrame(snapshot) };
      // Kept only if no event arrived while the store was read: the frame might miss it.
      if (this.#received === received) this.#snapshotCache = cache;
    }
    const { snapshot, frame } = cache;
    // Every subscriber writes slices of the same encoded records, whatever it filters: a
    // filtered stream costs references, not its own copy of the snapshot.
    const chunks = subscriber.unfiltered
      ? [frame.whole()]
      : frame.matching((record) => recordMatches(record, subscriber.filter));
    await subscriber.writeBounded(chunks, this.#options.maxQueuedBytes);
    subscriber.lastId = snapshot.lastEventId;
  }

  /**
   * Flushes the events held during catch-up that it did not already cover. Every event the hub
   * received so far was held, so the queued fan-out skips this subscriber for those
   * (`liveFrom`) and gives it every later one.
   */
  #goLive(subscriber: Subscriber): void {
    if (subscriber.closed) return;
    const held = subscriber.pending ?? [];
    subscriber.pending = null;
    this.#catchingUp.delete(subscriber);
    subscriber.liveFrom = this.#received;
    this.#live.add(subscriber);
    const compare = this.#options.store.compareIds.bind(this.#options.store);
    const parts: Buffer[] = [];
    for (const event of held) {
      if (subscriber.lastId !== null && compare(event.id, subscriber.lastId) <= 0) continue;
      const bytes = this.#bytesFor(subscriber, this.#encoded(event));
      subscriber.lastId = event.id;
      if (bytes) parts.push(bytes);
    }
    // A store may notify the hub after its snapshot already showed an event (Redis: another
    // instance wrote it, the follower has not read it yet): live events up to here are skipped.
    subscriber.caughtUpTo = subscriber.lastId;
    if (parts.length > 0) this.#send(subscriber, parts);
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

  /** Called by the store inside its commit: holds or queues, never writes to a socket. */
  publish(events: readonly RelayEvent[]): void {
    if (events.length === 0) return;
    this.#snapshotCache = null;
    for (const event of events) {
      for (const subscriber of this.#catchingUp) {
        const pending = subscriber.pending as RelayEvent[];
        pending.push(event);
        if (pending.length > this.#options.maxPendingEvents) this.close(subscriber, "slow");
      }
      this.#queue.push({ encoded: this.#encoded(event), seq: ++this.#received });
    }
    // A fan-out in progress schedules the next batch itself when it ends.
    if (!this.#fanOut) this.#flushing ??= setImmediate(() => this.#flush());
  }

  /**
   * Writes every queued event to every live subscriber, one write per subscriber, a slice of
   * subscribers per turn. Unfiltered subscribers, the common case, all receive the same bytes:
   * the frames of the whole batch, concatenated once. Events queued meanwhile wait for the next
   * batch, so each subscriber still gets them in order.
   */
  #flush(): void {
    this.#flushing = null;
    let fanOut = this.#fanOut;
    if (!fanOut) {
      const queue = this.#queue;
      this.#queue = [];
      const last = queue.at(-1);
      if (!last) return;
      const epoch = splitEventId(last.encoded.event.id)?.epoch ?? null;
      if (epoch !== this.#epoch) {
        this.#epoch = epoch;
        this.#endOtherHistories(epoch);
      }
      fanOut = {
        queue,
        subscribers: this.#live.values(),
        together: {},
        deliveredTo: new Array<number>(queue.length).fill(0),
        everyEventTo: 0,
      };
      this.#fanOut = fanOut;
    }
    const slice = this.#options.fanOutSlice ?? 1000;
    for (let written = 0; written < slice; written++) {
      const next = fanOut.subscribers.next();
      if (next.done) {
        this.#fanOut = null;
        this.#fanOutDone(fanOut);
        if (this.#queue.length > 0) this.#flushing = setImmediate(() => this.#flush());
        return;
      }
      // Closed after the iterator passed it by (a Set iterator skips only deleted entries).
      if (!next.value.closed) this.#fanOutTo(next.value, fanOut);
    }
    this.#flushing = setImmediate(() => this.#flush());
  }

  #fanOutTo(subscriber: Subscriber, fanOut: FanOut): void {
    const { queue, together, deliveredTo } = fanOut;
    const first = queue[0] as QueuedEvent;
    const lastId = (queue.at(-1) as QueuedEvent).encoded.event.id;
    const caughtUpTo = subscriber.caughtUpTo;
    const compare = this.#compare;
    if (caughtUpTo !== null) {
      // Once an event past the catch-up came by, ids need no more comparing.
      if (compare(lastId, caughtUpTo) > 0) subscriber.caughtUpTo = null;
      else {
        subscriber.lastId = lastId;
        return;
      }
    }
    if (subscriber.unfiltered && subscriber.liveFrom < first.seq && caughtUpTo === null) {
      let bytes = together[subscriber.format];
      if (!bytes) {
        bytes = joinFrames(queue, subscriber.format);
        together[subscriber.format] = bytes;
      }
      subscriber.lastId = lastId;
      if (this.#send(subscriber, bytes)) fanOut.everyEventTo++;
      return;
    }
    const parts: Buffer[] = [];
    const indexes: number[] = [];
    queue.forEach((queued, index) => {
      if (queued.seq <= subscriber.liveFrom) return;
      if (caughtUpTo !== null && compare(queued.encoded.event.id, caughtUpTo) <= 0) return;
      const bytes = this.#bytesFor(subscriber, queued.encoded);
      if (!bytes) return;
      parts.push(bytes);
      indexes.push(index);
    });
    subscriber.lastId = lastId;
    if (parts.length === 0) return;
    if (this.#send(subscriber, parts))
      for (const index of indexes) deliveredTo[index] = (deliveredTo[index] ?? 0) + 1;
  }

  readonly #compare = (a: string, b: string) => this.#options.store.compareIds(a, b);

  #fanOutDone({ queue, deliveredTo, everyEventTo }: FanOut): void {
    const metrics = this.#options.metrics;
    queue.forEach(({ encoded }, index) => {
      metrics.eventDelivered(
        everyEventTo + (deliveredTo[index] as number),
        encoded.full("relay").length,
      );
      const started = this.#options.takeIngestStart?.(encoded.event.id);
      if (started !== undefined) metrics.deliveryLatency((performance.now() - started) / 1000);
    });
  }

  /**
   * The store started a new history under live streams (Redis keys deleted): what those
   * subscribers hold belongs to the old one. Their streams end; they come back with their old
   * id and get `reset` and a snapshot of the new history.
   */
  #endOtherHistories(epoch: string | null): void {
    for (const subscriber of this.#live) {
      if (subscriber.lastId === null || splitEventId(subscriber.lastId)?.epoch === epoch) continue;
      this.close(subscriber, "replaced");
    }
  }

  #bytesFor(subscriber: Subscriber, encoded: EncodedEvent): Buffer | null {
    if (subscriber.unfiltered) return encoded.full(subscriber.format);
    const seen = visibility(encoded.event, subscriber.filter);
    if (seen === "full") return encoded.full(subscriber.format);
    if (seen === "enters") return encoded.enters(subscriber.format);
    if (seen === "leaves") return encoded.leaves(subscriber.format);
    return null;
  }

  /** False when the subscriber is gone or was just cut off as too slow. */
  #send(subscriber: Subscriber, bytes: Buffer | readonly Buffer[]): boolean {
    // Shared frames go out as they are: no per-subscriber concatenated copy.
    const written = Buffer.isBuffer(bytes) ? subscriber.write(bytes) : subscriber.writeAll(bytes);
    if (!written) return false;
    // A reader that stopped reading would make the relay hold every event for it: past the
    // bound it is cut off and resumes later from its Last-Event-ID.
    if (subscriber.queuedBytes() > this.#options.maxQueuedBytes) {
      this.close(subscriber, "slow");
      return false;
    }
    return true;
  }

  #beat(): void {
    for (const subscriber of this.#live) {
      subscriber.write(subscriber.heartbeatAsEvent ? HEARTBEAT_EVENT : HEARTBEAT_COMMENT);
    }
  }

  close(subscriber: Subscriber, reason: CloseReason): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    subscriber.closeReason = reason;
    this.#subscribers.delete(subscriber);
    this.#live.delete(subscriber);
    this.#catchingUp.delete(subscriber);
    this.#options.metrics.subscriberClosed(reason);
    this.#options.onClose?.(subscriber, reason);
    if (reason === "client" || reason === "error" || reason === "slow" || reason === "stalled")
      subscriber.socket.destroy();
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
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = null;
    this.#fanOut = null;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    if (this.#stallCheck) clearInterval(this.#stallCheck);
    this.#stallCheck = null;
    this.#unsubscribeStore();
    this.#unsubscribeGap?.();
  }
}

/** How a catch-up began: no id given, a replay that worked, or why the id could not be used. */
type ReplayOutcome = "fresh" | "caught-up" | "gap" | "foreign";

function joinFrames(queue: readonly QueuedEvent[], format: StreamFormat): Buffer {
  if (queue.length === 1) return (queue[0] as QueuedEvent).encoded.full(format);
  return Buffer.concat(queue.map((queued) => queued.encoded.full(format)));
}
