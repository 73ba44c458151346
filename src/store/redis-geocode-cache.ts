/**
 * The geocoding cache in the Redis store: one hash under the store's prefix (address key →
 * JSON with its expiry), shared by every relay instance, so an address is asked once for the
 * whole deployment. Expired entries are overwritten by the next answer; the hash holds one
 * small entry per distinct address ever seen.
 */
import {
  type CachedAnswer,
  type GeocodeCache,
  parseCachedAnswer,
} from "../geocode/geocode-cache.ts";
import type { RedisConnection } from "./redis-connection.ts";

export class RedisGeocodeCache implements GeocodeCache {
  readonly #connection: RedisConnection;
  readonly #hashKey: string;

  constructor(connection: RedisConnection, hashKey: string) {
    this.#connection = connection;
    this.#hashKey = hashKey;
  }

  async get(key: string, now: number) {
    const json = await this.#connection.send(["HGET", this.#hashKey, key]);
    if (typeof json !== "string") return null;
    const entry = parseCachedAnswer(json);
    return entry && entry.expiresAt > now ? entry.answer : null;
  }

  async put(key: string, entry: CachedAnswer): Promise<void> {
    await this.#connection.send(["HSET", this.#hashKey, key, JSON.stringify(entry)]);
  }
}
