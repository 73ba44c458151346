/**
 * Places rows that have an address and no coordinates: after a commit, their addresses are
 * queued (one entry per distinct address), answered from the durable cache or asked to the
 * geocoder under a rate limit with retries, and the position is committed as a
 * `record.updated` (source "geocoding") whose changes name the position fields. Nothing here
 * runs before a webhook is acknowledged: the event goes out first, the position follows.
 */

import { computeChanges } from "../domain/changes.ts";
import type { ColumnMapping } from "../domain/column-mapping.ts";
import type { PendingEvent, RelayEvent } from "../domain/events.ts";
import { recordKey } from "../domain/intervention.ts";
import type { Log } from "../log/log.ts";
import { backoffDelayMs } from "../retry/backoff.ts";
import type { EventStore } from "../store/event-store.ts";
import { addressKey } from "./address-key.ts";
import { cacheEntry, type GeocodeCache } from "./geocode-cache.ts";
import { type GeocodeAnswer, type Geocoder, GeocoderError } from "./geocoder.ts";
import { needsGeocoding, placedAtAddress } from "./placement.ts";
import { RateLimiter } from "./rate-limiter.ts";

/** Writes a placed position back to Grist (GEOCODE_WRITE_BACK); see grist-write-back.ts. */
export interface PositionWriter {
  write(events: readonly RelayEvent[]): Promise<void>;
}

export interface GeocodingServiceOptions {
  geocoder: Geocoder;
  cache: GeocodeCache;
  store: EventStore;
  mapping: ColumnMapping;
  /** Answers scoring under this leave the row at its département's point. */
  minScore: number;
  /** Requests started per second, at most. */
  ratePerSecond: number;
  logger: Log;
  /** Attempts per address, the first included. Defaults to 5. */
  maxAttempts?: number;
  /** Waits between attempts when the service gave no Retry-After. Defaults to 500 ms → 10 s. */
  backoff?: { baseMs: number; maxMs: number };
  writeBack?: PositionWriter | null;
}

/** Addresses asked at once: enough to keep the rate limit busy with ~200 ms answers. */
const CONCURRENCY = 8;
/** Distinct addresses waiting, at most; beyond, rows stay at their département until edited. */
const MAX_PENDING_ADDRESSES = 50_000;
/** Longest wait honoured from a Retry-After header. */
const MAX_RETRY_AFTER_MS = 60_000;

interface Pending {
  address: string;
  keys: Set<string>;
}

export interface GeocodingStats {
  /** Requests sent to the geocoder (retries included). */
  requests: number;
  /** Addresses answered from the cache. */
  cacheHits: number;
  /** Addresses that had to be asked. */
  cacheMisses: number;
  /** Addresses given up after the last attempt (network, 429, 5xx, timeout). */
  failures: number;
  /** Rows placed at their address. */
  placed: number;
}

export class GeocodingService {
  readonly #options: GeocodingServiceOptions;
  readonly #limiter: RateLimiter;
  readonly #pending = new Map<string, Pending>();
  readonly #inFlight = new Map<string, Pending>();
  readonly #stop = new AbortController();
  readonly #idleWaiters: (() => void)[] = [];
  #running = 0;
  #warnedFull = false;
  readonly stats: GeocodingStats = {
    requests: 0,
    cacheHits: 0,
    cacheMisses: 0,
    failures: 0,
    placed: 0,
  };

  constructor(options: GeocodingServiceOptions) {
    this.#options = options;
    this.#limiter = new RateLimiter(options.ratePerSecond);
  }

  /** Queues the addresses of committed records that need a position; returns at once. */
  request(events: readonly RelayEvent[]): void {
    for (const event of events) {
      if (event.type === "record.removed" || event.source === "geocoding") continue;
      if (needsGeocoding(event.record)) this.#enqueue(event.record.localisation as string, event);
    }
  }

  /** Resolves once nothing is queued or being asked (tests, bench, shutdown). */
  idle(): Promise<void> {
    if (this.#running === 0 && this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops asking; what is in flight finishes or gives up at its next wait. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#pending.clear();
    await this.idle();
  }

  #enqueue(address: string, event: RelayEvent): void {
    const key = addressKey(address);
    if (key === "" || this.#stop.signal.aborted) return;
    const rowKey = recordKey(event.record.id);
    const known = this.#inFlight.get(key) ?? this.#pending.get(key);
    if (known) {
      known.keys.add(rowKey);
      return;
    }
    if (this.#pending.size >= MAX_PENDING_ADDRESSES) {
      if (!this.#warnedFull) {
        this.#options.logger.warn(
          { pending: this.#pending.size },
          "geocoding queue full: new addresses stay at their département until edited",
        );
        this.#warnedFull = true;
      }
      return;
    }
    this.#pending.set(key, { address, keys: new Set([rowKey]) });
    this.#pump();
  }

  #pump(): void {
    while (this.#running < CONCURRENCY && this.#pending.size > 0) {
      const [key, entry] = this.#pending.entries().next().value as [string, Pending];
      this.#pending.delete(key);
      this.#inFlight.set(key, entry);
      this.#running++;
      void this.#resolve(key, entry).finally(() => {
        this.#inFlight.delete(key);
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#pending.size === 0) {
          this.#warnedFull = false;
          for (const wake of this.#idleWaiters.splice(0)) wake();
        }
      });
    }
  }

  async #resolve(key: string, entry: Pending): Promise<void> {
    const { cache, logger } = this.#options;
    try {
      let answer = await cache.get(key, Date.now());
      if (answer) {
        this.stats.cacheHits++;
      } else {
        this.stats.cacheMisses++;
        answer = await this.#ask(entry.address);
        // Failures are not cached: the next edit of the row asks again.
        if (answer === null) return;
        await cache.put(key, cacheEntry(answer, Date.now()));
      }
      await this.#apply(key, entry, answer);
    } catch (error) {
      logger.error({ err: error }, "geocoding a row failed");
    }
  }

  async #ask(address: string): Promise<GeocodeAnswer | null> {
    const { geocoder, logger } = this.#options;
    const maxAttempts = this.#options.maxAttempts ?? 5;
    const backoff = this.#options.backoff ?? { baseMs: 500, maxMs: 10_000 };
    for (let attempt = 1; ; attempt++) {
      await this.#limiter.take();
      if (this.#stop.signal.aborted) return null;
      this.stats.requests++;
      try {
        return await geocoder.search(address);
      } catch (error) {
        const retryable = error instanceof GeocoderError && error.retryable;
        if (!retryable || attempt >= maxAttempts) {
          this.stats.failures++;
          // The address is user data: logged neither here nor anywhere else.
          logger.warn(
            {
              geocoder: geocoder.name,
              status: error instanceof GeocoderError ? error.status : null,
              attempts: attempt,
              reason: (error as Error).message,
            },
            "geocoding gave up: the row stays at its département's reference point",
          );
          return null;
        }
        const asked = error.retryAfterMs;
        const delay =
          asked !== null ? Math.min(asked, MAX_RETRY_AFTER_MS) : backoffDelayMs(attempt, backoff);
        // A 429 concerns every request of this client, not only this address.
        if (error.status === 429) this.#limiter.pause(delay);
        if (!(await this.#sleep(delay))) return null;
      }
    }
  }

  /** False when stopped during the wait. */
  #sleep(ms: number): Promise<boolean> {
    const signal = this.#stop.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #apply(key: string, entry: Pending, answer: GeocodeAnswer): Promise<void> {
    const { store, mapping, minScore, writeBack } = this.#options;
    const keys = [...entry.keys];
    const events = await store.commit(keys, (current) => {
      const out: PendingEvent[] = [];
      for (const rowKey of keys) {
        const record = current.get(rowKey);
        // Re-checked on the state of the moment: the address may have changed meanwhile, or
        // someone typed coordinates.
        if (!record || !needsGeocoding(record)) continue;
        if (addressKey(record.localisation ?? "") !== key) continue;
        const placed = placedAtAddress(record, answer, minScore);
        if (!placed) continue;
        const changes = computeChanges(record, placed, mapping);
        if (Object.keys(changes).length === 0) continue;
        out.push({ type: "record.updated", source: "geocoding", record: placed, changes });
      }
      return out;
    });
    this.stats.placed += events.length;
    if (writeBack && events.length > 0) await writeBack.write(events);
  }
}
