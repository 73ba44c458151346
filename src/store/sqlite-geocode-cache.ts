/**
 * The geocoding cache in the SQLite store's own database file: a table beside the events, so
 * an address asked once stays answered across restarts.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  type CachedAnswer,
  type GeocodeCache,
  parseCachedAnswer,
} from "../geocode/geocode-cache.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS geocode_cache (
  key TEXT PRIMARY KEY,
  json TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
`;

export class SqliteGeocodeCache implements GeocodeCache {
  readonly #get: StatementSync;
  readonly #put: StatementSync;

  constructor(db: DatabaseSync) {
    db.exec(SCHEMA);
    this.#get = db.prepare("SELECT json FROM geocode_cache WHERE key = ? AND expires_at > ?");
    this.#put = db.prepare(
      "INSERT INTO geocode_cache (key, json, expires_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET json = excluded.json, expires_at = excluded.expires_at",
    );
  }

  async get(key: string, now: number) {
    const row = this.#get.get(key, now) as { json: string } | undefined;
    return row ? (parseCachedAnswer(row.json)?.answer ?? null) : null;
  }

  async put(key: string, entry: CachedAnswer): Promise<void> {
    this.#put.run(key, JSON.stringify(entry), entry.expiresAt);
  }
}
