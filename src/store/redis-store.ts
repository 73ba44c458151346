/**
 * The scale-out event store: several relay instances share one Redis.
 *
 * - Events go to a Redis Stream; the event id is `<epoch>.<entry id>`, so `Last-Event-ID` works
 *   on any instance. The epoch lives in a key under the prefix: deleting the store's keys
 *   (FLUSHALL) starts a new epoch, and ids of the lost history become foreign (event-ids.ts).
 *   The entry holds the event without `id`/`time`, and its epoch (redis-event-codec.ts).
 * - Commits are compare-and-append (redis-store-scripts.ts): read the newest id and the states,
 *   decide in JS, then a Lua script writes events, states and outbox entries only if no event
 *   was appended meanwhile; otherwise decide again on fresh state. Two instances given the same
 *   batch at once therefore store each event once.
 * - Listeners are fed by a follower reading the stream (redis-follower.ts), so every instance
 *   sees every event, its own included, in id order.
 */
import type { RelayEvent } from "../domain/events.ts";
import { type Intervention, recordKey } from "../domain/intervention.ts";
import { backoffDelayMs } from "../retry/backoff.ts";
import { compareEventIds, formatEventId, newEpoch, positionIn, splitEventId } from "./event-ids.ts";
import type {
  CommitOptions,
  Decide,
  EventStore,
  ReadAfterResult,
  RetentionPolicy,
  Snapshot,
} from "./event-store.ts";
import { AppendListeners } from "./listeners.ts";
import type {
  Outbox,
  OutboxCounts,
  OutboxItem,
  OutboxRetryResult,
  OutboxStatus,
} from "./outbox.ts";
import { RedisConnection, type RedisLogger, silentLogger } from "./redis-connection.ts";
import { decodeEntries, decodeEntry, decodeEvent, encodeEvent } from "./redis-event-codec.ts";
import { StreamFollower } from "./redis-follower.ts";
import { RedisGeocodeCache } from "./redis-geocode-cache.ts";
import { compareStreamIds, parseStreamId } from "./redis-ids.ts";
import { DEFAULT_KEY_PREFIX, type StoreKeys, storeKeys } from "./redis-keys.ts";
import { RedisOutbox } from "./redis-outbox.ts";
import {
  COMMIT,
  COUNT_SINCE,
  LAST_EVENT_ID,
  PRUNE,
  READ_AFTER,
  READ_FOR_COMMIT,
  READ_LATEST,
  SNAPSHOT,
} from "./redis-store-scripts.ts";
import { StoreUnavailableError } from "./store-unavailable.ts";

export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]`; never logged. */
  url: string;
  /** Prefix of every key. Defaults to `"grist-realtime:"`. */
  keyPrefix?: string;
  /**
   * Safety cap on the stream length, applied approximately (`XTRIM MAXLEN ~`) at each commit.
   * Retention normally comes from `prune`; leave unset unless memory must be bounded hard.
   */
  maxLenApprox?: number;
  logger?: RedisLogger;
  /**
   * Listeners get events after this stream entry id (`<ms>-<seq>`, no epoch). Defaults to the
   * newest entry when the store opens.
   */
  followAfterId?: string;
  /** Compare-and-append attempts before a commit gives up with a 503. Defaults to `50`. */
  maxCommitAttempts?: number;
  /** Connection attempts before `open` fails. Defaults to `5`. */
  initialAttempts?: number;
  /** Longest wait between reconnection attempts, in ms. Defaults to `3000`. */
  maxReconnectDelayMs?: number;
  /** Longest wait for a Redis reply before the store is unavailable, in ms. Defaults to `2000`. */
  commandTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ids for `count` events after `lastId`, using the Redis server clock in ms. */
function nextIds(lastId: string | null, serverMs: bigint, count: number): string[] {
  const last = lastId === null ? null : parseStreamId(lastId);
  let ms = serverMs;
  let seq = 0n;
  // Never go backwards, even if the Redis clock did: ids must keep increasing.
  if (last && last.ms >= serverMs) {
    ms = last.ms;
    seq = last.seq + 1n;
  }
  return Array.from({ length: count }, (_, i) => `${ms}-${seq + BigInt(i)}`);
}

export class RedisStore implements EventStore, Outbox {
  readonly kind = "redis";
  readonly #options: RedisStoreOptions;
  readonly #keys: StoreKeys;
  readonly #connection: RedisConnection;
  readonly #followConnection: RedisConnection;
  readonly #outbox: RedisOutbox;
  /** Geocoder answers by address, shared by every instance (src/geocode/). */
  readonly geocodeCache: RedisGeocodeCache;
  readonly #listeners = new AppendListeners();
  readonly #gapListeners = new Set<() => void>();
  readonly #logger: RedisLogger;
  #follower: StreamFollower | null = null;
  /**
   * The epoch last read from Redis. Every read that returns ids reads it again in the same
   * script, so this copy only decodes entries without an epoch field (written before epochs)
   * and compares ids.
   */
  #epoch = "";
  /** Commits of this instance run one at a time: they would only conflict with each other. */
  #commitQueue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Connects, then starts following the stream. Rejects when Redis stays unreachable. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    try {
      await store.#start();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** Use `RedisStore.open`: the constructor does not connect. */
  constructor(options: RedisStoreOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#keys = storeKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    const connection = (role: string) =>
      new RedisConnection({
        url: options.url,
        role,
        logger: this.#logger,
        initialAttempts: options.initialAttempts,
        maxReconnectDelayMs: options.maxReconnectDelayMs,
        commandTimeoutMs: options.commandTimeoutMs,
        // The commit connection pings when idle so a frozen Redis shows in readiness at once.
        ...(role === "store"
          ? { healthCheckMs: Math.max(100, Math.floor((options.commandTimeoutMs ?? 2000) / 4)) }
          : {}),
      });
    this.#connection = connection("store");
    this.#followConnection = connection("follower");
    this.#outbox = new RedisOutbox(this.#connection, this.#keys);
    this.geocodeCache = new RedisGeocodeCache(this.#connection, this.#keys.geocodeCache);
  }

  async #start(): Promise<void> {
    await Promise.all([this.#connection.connect(), this.#followConnection.connect()]);
    // "$" resolved now: an XREAD "$" issued again after a reconnection would skip events.
    const [lastId, epoch] = (await LAST_EVENT_ID.run(
      this.#connection,
      [this.#keys.events, this.#keys.epoch],
      [newEpoch()],
    )) as [string | null, string];
    this.#epoch = epoch;
    const afterId = this.#options.followAfterId ?? lastId ?? "0-0";
    if (!parseStreamId(afterId)) throw new Error(`followAfterId is not a stream id: ${afterId}`);
    this.#follower = new StreamFollower({
      connection: this.#followConnection,
      streamKey: this.#keys.events,
      afterId,
      logger: this.#logger,
      deliver: (entries) => this.#listeners.emit(this.#decodeForListeners(entries)),
      prunedThroughKey: this.#keys.prunedThrough,
      onGap: () => {
        for (const listener of this.#gapListeners) listener();
      },
    });
    this.#follower.start();
  }

  #decodeForListeners(entries: unknown[]): RelayEvent[] {
    const events: RelayEvent[] = [];
    for (const entry of entries) {
      try {
        events.push(decodeEntry(entry, this.#epoch));
      } catch (error) {
        // Not written by this relay (or corrupted): skip it rather than stop the stream.
        this.#logger.error({ err: (error as Error).message }, "unreadable entry in the stream");
      }
    }
    // Another instance may have started a new epoch (keys deleted): follow it, so the ids
    // listeners now get compare as the newest.
    const newest = events.at(-1);
    if (newest) this.#epoch = splitEventId(newest.id)?.epoch ?? this.#epoch;
    return events;
  }

  commit(keys: readonly string[], decide: Decide, options?: CommitOptions): Promise<RelayEvent[]> {
    const run = this.#commitQueue.then(() => this.#commitWithRetries(keys, decide, options));
    this.#commitQueue = run.catch(() => {});
    return run;
  }

  async #commitWithRetries(
    keys: readonly string[],
    decide: Decide,
    options?: CommitOptions,
  ): Promise<RelayEvent[]> {
    if (this.#closed) throw new Error("store closed");
    const uniqueKeys = [...new Set(keys)];
    const attempts = this.#options.maxCommitAttempts ?? 50;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const events = await this.#tryCommit(uniqueKeys, decide, options);
      if (events) return events;
      // Another instance appended in between; jitter so two instances do not collide again.
      await sleep(backoffDelayMs(attempt, { baseMs: 2, maxMs: 50, jitter: "full" }));
    }
    throw new StoreUnavailableError("too many concurrent commits on Redis");
  }

  /** One compare-and-append; null when another commit came first. */
  async #tryCommit(
    keys: readonly string[],
    decide: Decide,
    options?: CommitOptions,
  ): Promise<RelayEvent[] | null> {
    const read = (await READ_FOR_COMMIT.run(
      this.#connection,
      [this.#keys.records, this.#keys.events, this.#keys.epoch],
      [newEpoch(), ...keys],
    )) as (string | null)[];
    const lastId = read[0] ?? null;
    const serverMs = BigInt(read[1] ?? 0) * 1000n + BigInt(read[2] ?? 0) / 1000n;
    const epoch = read[3] as string;
    this.#epoch = epoch;
    const current = new Map<string, Intervention>();
    keys.forEach((key, i) => {
      const json = read[i + 4];
      if (json) current.set(key, JSON.parse(json));
    });

    const pending = decide(current);
    const ids = nextIds(lastId, serverMs, pending.length);
    const encoded = pending.map(encodeEvent);
    const events = encoded.map((json, i) => decodeEvent(epoch, ids[i] as string, json));
    const entries = options?.outbox?.(events) ?? [];
    if (events.length === 0 && entries.length === 0) return [];

    const args = [lastId ?? "", String(this.#options.maxLenApprox ?? ""), String(Date.now())];
    args.push(epoch, String(events.length));
    events.forEach((event, i) => {
      const removed = event.type === "record.removed";
      const record = removed ? "" : JSON.stringify(event.record);
      args.push(ids[i] as string, recordKey(event.record.id), record, encoded[i] as string);
    });
    for (const entry of entries) {
      args.push(entry.key, entry.destination, JSON.stringify(entry.payload ?? null));
    }
    const scriptKeys = [
      this.#keys.records,
      this.#keys.events,
      this.#keys.prunedThrough,
      this.#keys.outboxDue,
      this.#keys.outboxStatus("pending"),
      this.#keys.epoch,
      this.#keys.eventsPerMinute,
      ...entries.map((entry) => this.#keys.outboxItem(entry.key)),
    ];
    const outcome = await COMMIT.run(this.#connection, scriptKeys, args);
    return outcome === "ok" ? events : null;
  }

  async readAfter(afterId: string, limit: number): Promise<ReadAfterResult> {
    const parts = splitEventId(afterId);
    // Validated before any of it reaches a Redis command: it comes from a client.
    if (!parts || !parseStreamId(parts.position)) return { kind: "foreign" };
    const after = parts.position;
    const [lastId, prunedThrough, firstId, entries, epoch] = (await READ_AFTER.run(
      this.#connection,
      [this.#keys.events, this.#keys.prunedThrough, this.#keys.epoch],
      [after, String(Math.max(1, limit)), newEpoch()],
    )) as [string | null, string | null, string | null, unknown, string];
    this.#epoch = epoch;
    if (parts.epoch !== epoch) return { kind: "foreign" };
    if (lastId === null || compareStreamIds(after, lastId) > 0) return { kind: "gap" };
    // Events before the first retained one are only accounted for when trimming recorded the
    // newest id it removed; otherwise an older id is one this store never gave (data loss).
    const oldestKnown = prunedThrough ?? firstId;
    if (oldestKnown === null || compareStreamIds(after, oldestKnown) < 0) return { kind: "gap" };
    return { kind: "events", events: limit <= 0 ? [] : decodeEntries(entries, epoch) };
  }

  async readLatest(limit: number, beforeId?: string): Promise<RelayEvent[]> {
    if (limit <= 0) return [];
    let end = "+";
    if (beforeId !== undefined) {
      // Before an id of another history, or not an id: nothing of this history is "before" it.
      const before = positionIn(this.#epoch, beforeId);
      if (before === null || !parseStreamId(before)) return [];
      // An exclusive bound at the smallest id is an error in Redis and means "nothing before".
      if (before === "0-0") return [];
      end = `(${before}`;
    }
    const [epoch, entries] = (await READ_LATEST.run(
      this.#connection,
      [this.#keys.events, this.#keys.epoch],
      [end, String(limit), newEpoch()],
    )) as [string, unknown];
    this.#epoch = epoch;
    return decodeEntries(entries, epoch).reverse();
  }

  async countSince(sinceMs: number): Promise<number> {
    const since = String(Math.max(0, Math.floor(sinceMs)));
    const keys = [this.#keys.events, this.#keys.eventsPerMinute];
    return Number(await COUNT_SINCE.run(this.#connection, keys, [since]));
  }

  async snapshot(): Promise<Snapshot> {
    const [lastId, flat, epoch] = (await SNAPSHOT.run(
      this.#connection,
      [this.#keys.records, this.#keys.events, this.#keys.epoch],
      [newEpoch()],
    )) as [string | null, string[], string];
    this.#epoch = epoch;
    const records: Intervention[] = [];
    for (let i = 1; i < flat.length; i += 2) records.push(JSON.parse(flat[i] as string));
    // "0-0": the stream exists but never received an entry.
    const lastEventId = lastId === null || lastId === "0-0" ? null : formatEventId(epoch, lastId);
    return { records, lastEventId };
  }

  async prune(policy: RetentionPolicy, now: number): Promise<number> {
    const oldestKeptMs = Math.floor(now - policy.maxAgeMs);
    const removed = await PRUNE.run(
      this.#connection,
      [this.#keys.events, this.#keys.prunedThrough, this.#keys.eventsPerMinute],
      [oldestKeptMs > 0 ? `${oldestKeptMs}-0` : "", String(Math.max(0, policy.maxEvents))],
    );
    return Number(removed);
  }

  compareIds(a: string, b: string): number {
    return compareEventIds(this.#epoch, a, b, compareStreamIds);
  }

  onAppended(listener: (events: readonly RelayEvent[]) => void): () => void {
    return this.#listeners.add(listener);
  }

  /** Listeners missed events that were trimmed before this instance read them. */
  onGap(listener: () => void): () => void {
    this.#gapListeners.add(listener);
    return () => this.#gapListeners.delete(listener);
  }

  /** Both connections are up: commits can succeed and listeners are being fed. */
  isReady(): boolean {
    return !this.#closed && this.#connection.isReady && this.#followConnection.isReady;
  }

  /** Stream entry id of the newest event handed to listeners on this instance. */
  lastDeliveredId(): string | null {
    return this.#follower?.lastDeliveredId ?? null;
  }

  /** The epoch of the history this store last read or wrote. */
  get epoch(): string {
    return this.#epoch;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#follower?.stop();
    this.#followConnection.destroy();
    await this.#commitQueue;
    await this.#connection.close();
  }

  // Outbox: see redis-outbox.ts.

  due(now: number, limit: number): Promise<OutboxItem[]> {
    return this.#outbox.due(now, limit);
  }

  markSent(key: string, now: number): Promise<void> {
    return this.#outbox.markSent(key, now);
  }

  reschedule(key: string, nextAttemptAt: number, error: string, now: number): Promise<void> {
    return this.#outbox.reschedule(key, nextAttemptAt, error, now);
  }

  markFailed(key: string, error: string, now: number): Promise<void> {
    return this.#outbox.markFailed(key, error, now);
  }

  retry(key: string, now: number): Promise<OutboxRetryResult> {
    return this.#outbox.retry(key, now);
  }

  list(filter: { status?: OutboxStatus; limit: number }): Promise<OutboxItem[]> {
    return this.#outbox.list(filter);
  }

  counts(): Promise<OutboxCounts> {
    return this.#outbox.counts();
  }
}
