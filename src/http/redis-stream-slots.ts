/**
 * Per-address stream slots shared by every relay on one Redis, so MAX_STREAMS_PER_IP holds for
 * the deployment and not N times over. One sorted set per client address; each open stream is
 * a member whose score is an expiry time that its relay pushes forward while the stream lives.
 * A relay that dies stops pushing: its slots expire after `ttlMs` and are dropped by the next
 * acquisition for that address.
 */
import { randomUUID } from "node:crypto";
import { RedisConnection, type RedisLogger } from "../store/redis-connection.ts";
import { LuaScript } from "../store/redis-script.ts";

/** Takes a slot when fewer than `max` live ones exist. Times come from Redis's own clock. */
const ACQUIRE = new LuaScript(`
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ms + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`);

/** Pushes the expiry of this relay's live slots: KEYS are addresses' sets, ARGV[2..] members. */
const REFRESH = new LuaScript(`
local now = redis.call('TIME')
local expiry = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', expiry, ARGV[i + 1])
  redis.call('PEXPIRE', key, tonumber(ARGV[1]))
end
return #KEYS
`);

const REFRESH_BATCH = 500;

export interface RedisStreamSlotsOptions {
  url: string;
  keyPrefix: string;
  /** Streams allowed per client address across all relays. */
  maxPerAddress: number;
  /** How long a slot outlives its relay, in ms. Defaults to `30000`. */
  ttlMs?: number;
  logger?: RedisLogger;
}

export class RedisStreamSlots {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #instance = randomUUID();
  readonly #logger: RedisLogger | undefined;
  /** Live slots of this relay: member → key. */
  readonly #mine = new Map<string, string>();
  #next = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: RedisStreamSlotsOptions) {
    this.#prefix = `${options.keyPrefix}streams-per-address:`;
    this.#max = options.maxPerAddress;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#logger = options.logger;
    this.#connection = new RedisConnection({
      url: options.url,
      role: "stream-slots",
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  async start(): Promise<void> {
    await this.#connection.connect();
    this.#timer = setInterval(() => void this.#refresh(), Math.floor(this.#ttlMs / 3));
    this.#timer.unref();
  }

  /**
   * A release function when a slot was free, `null` when the address holds `maxPerAddress`
   * streams across the deployment. Throws when Redis cannot be reached (the caller decides).
   */
  async acquire(address: string): Promise<(() => void) | null> {
    const key = this.#prefix + address;
    const member = `${this.#instance}:${this.#next++}`;
    const taken = await ACQUIRE.run(
      this.#connection,
      [key],
      [String(this.#max), String(this.#ttlMs), member],
    );
    if (Number(taken) !== 1) return null;
    this.#mine.set(member, key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#mine.delete(member);
      // A failed ZREM only leaves the slot to expire after ttlMs.
      this.#connection.send(["ZREM", key, member]).catch(() => {});
    };
  }

  async #refresh(): Promise<void> {
    const entries = [...this.#mine];
    try {
      for (let i = 0; i < entries.length; i += REFRESH_BATCH) {
        const batch = entries.slice(i, i + REFRESH_BATCH);
        await REFRESH.run(
          this.#connection,
          batch.map(([, key]) => key),
          [String(this.#ttlMs), ...batch.map(([member]) => member)],
        );
      }
    } catch (error) {
      this.#logger?.warn({ err: (error as Error).message }, "stream slots not refreshed");
    }
  }

  /** Gives back this relay's slots (a clean stop) and closes the connection. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    const byKey = new Map<string, string[]>();
    for (const [member, key] of this.#mine) byKey.set(key, [...(byKey.get(key) ?? []), member]);
    this.#mine.clear();
    await Promise.all(
      [...byKey].map(([key, members]) =>
        this.#connection.send(["ZREM", key, ...members]).catch(() => {}),
      ),
    );
    await this.#connection.close();
  }
}
