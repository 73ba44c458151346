/**
 * A lease on Redis: the work that must happen once for the whole deployment (reconciliation,
 * alert sending) runs on the one instance holding it. `SET key token NX PX ttl` takes it; the
 * holder renews it every `renewEveryMs` and only if the key still holds its token; a holder
 * that dies stops renewing, the key expires, and another instance takes it within about `ttl`.
 *
 * Why there are never two holders: an instance counts itself holder until `sentAt + ttl -
 * margin`, where `sentAt` is when it SENT the successful SET/renewal. Redis starts the ttl
 * when it RECEIVES the command, later, so the key outlives the holder's own belief and nobody
 * else can take it in between. This assumes Redis keeps the key: run it with AOF (see
 * docs/deploiement.md); the work itself stays idempotent as a second line of defence.
 */

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Lease } from "./lease.ts";
import { RedisConnection, type RedisLogger, silentLogger } from "./redis-connection.ts";
import { DEFAULT_KEY_PREFIX } from "./redis-keys.ts";
import { LuaScript } from "./redis-script.ts";

/** KEYS: lease. ARGV: token, ttl ms. Extends the lease only if this instance still holds it. */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** KEYS: lease. ARGV: token. Deletes the lease only if this instance holds it. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

export interface RedisLeaseOptions {
  /** `redis://…`; never logged. */
  url: string;
  /** Prefix of the lease key. Defaults to `"grist-realtime:"`. */
  keyPrefix?: string;
  /** What the lease protects; the key is `<prefix>lease:<name>`. */
  name: string;
  /** How long a lease lasts without renewal, in ms. Defaults to `15000`. */
  ttlMs?: number;
  /** Renewal (and acquisition attempt) period, in ms. Defaults to a third of `ttlMs`. */
  renewEveryMs?: number;
  /** Shown in the lease value and logs. Defaults to `<hostname>:<pid>`. */
  owner?: string;
  logger?: RedisLogger;
}

export class RedisLease implements Lease {
  readonly #key: string;
  readonly #token: string;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  /** Slack for the two clocks (ours, Redis's) not ticking at exactly the same rate. */
  readonly #marginMs: number;
  readonly #connection: RedisConnection;
  readonly #logger: RedisLogger;
  readonly #running = new Set<AbortController>();
  /** `performance.now()` until which this instance may act as holder. */
  #validUntil = 0;
  #timer: NodeJS.Timeout | null = null;
  #expiryTimer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;
  #stopped = false;
  #failing = false;

  constructor(options: RedisLeaseOptions) {
    this.#key = `${options.keyPrefix ?? DEFAULT_KEY_PREFIX}lease:${options.name}`;
    this.#ttlMs = options.ttlMs ?? 15_000;
    this.#renewEveryMs = options.renewEveryMs ?? Math.floor(this.#ttlMs / 3);
    if (this.#renewEveryMs >= this.#ttlMs) throw new Error("renewEveryMs must be below ttlMs");
    this.#marginMs = Math.min(1000, Math.floor(this.#ttlMs / 10));
    // The random part tells two processes of the same host and pid (containers) apart.
    this.#token = `${options.owner ?? `${hostname()}:${process.pid}`}:${randomUUID()}`;
    this.#logger = options.logger ?? silentLogger;
    this.#connection = new RedisConnection({
      url: options.url,
      role: `lease-${options.name.replace(/[^\w-]/g, "_")}`,
      logger: this.#logger,
    });
  }

  /** Connects and tries to take the lease at once, then keeps trying / renewing. */
  async start(): Promise<void> {
    await this.#connection.connect();
    await this.#runTick();
    if (this.#stopped) return;
    this.#timer = setInterval(() => void this.#runTick(), this.#renewEveryMs);
  }

  isHolder(): boolean {
    return !this.#stopped && performance.now() < this.#validUntil;
  }

  /**
   * Runs `fn` if this instance holds the lease; returns undefined without running it otherwise.
   * `signal` aborts when the lease is lost (or stopped) while `fn` runs: long work must check it.
   */
  async runExclusive<T>(fn: (signal: AbortSignal) => Promise<T> | T): Promise<T | undefined> {
    if (!this.isHolder()) return undefined;
    const controller = new AbortController();
    this.#running.add(controller);
    try {
      return await fn(controller.signal);
    } finally {
      this.#running.delete(controller);
    }
  }

  /**
   * Stops renewing. With `release` (the default) the lease is freed at once so another
   * instance takes over without waiting for the ttl; `release: false` leaves it to expire,
   * as a crash would.
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    const wasHolder = this.isHolder();
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#abortRunning();
    await this.#tick;
    if (wasHolder && options.release !== false) {
      try {
        await RELEASE.run(this.#connection, [this.#key], [this.#token]);
      } catch {
        // Unreachable Redis: the lease will expire by itself.
      }
    }
    if (options.release === false) this.#connection.destroy();
    else await this.#connection.close();
  }

  #runTick(): Promise<void> {
    // One tick at a time: a slow Redis must not pile up acquisitions.
    this.#tick ??= this.#acquireOrRenew().finally(() => {
      this.#tick = null;
    });
    return this.#tick;
  }

  async #acquireOrRenew(): Promise<void> {
    const wasHolder = this.isHolder();
    const sentAt = performance.now();
    let held: boolean;
    try {
      held = wasHolder
        ? (await RENEW.run(this.#connection, [this.#key], [this.#token, String(this.#ttlMs)])) === 1
        : (await this.#connection.send([
            "SET",
            this.#key,
            this.#token,
            "NX",
            "PX",
            String(this.#ttlMs),
          ])) === "OK";
      this.#failing = false;
    } catch (error) {
      // Keep the current validity: it runs out by itself if Redis stays away.
      if (!this.#failing) {
        this.#failing = true;
        this.#logger.warn({ lease: this.#key, err: (error as Error).message }, "lease not renewed");
      }
      return;
    }
    if (this.#stopped) return;
    if (held) {
      this.#validUntil = sentAt + this.#ttlMs - this.#marginMs;
      this.#scheduleExpiry();
      if (!wasHolder) this.#logger.info({ lease: this.#key }, "lease acquired");
    } else if (wasHolder) {
      this.#validUntil = 0;
      this.#abortRunning();
      this.#logger.warn({ lease: this.#key }, "lease lost to another instance");
    }
  }

  /** Aborts running work the moment the validity ends without a renewal. */
  #scheduleExpiry(): void {
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(
      () => {
        if (!this.isHolder()) this.#abortRunning();
      },
      Math.max(0, this.#validUntil - performance.now()) + 1,
    );
    this.#expiryTimer.unref();
  }

  #abortRunning(): void {
    for (const controller of this.#running) controller.abort(new Error("lease lost"));
  }
}
