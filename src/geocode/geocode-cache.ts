/**
 * The durable geocoding cache: one entry per normalised address, kept in the same store as the
 * events (SQLite table, Redis hash) so each distinct address is asked once across rows and
 * restarts. The memory implementation serves tests and the memory store.
 */
import type { GeocodeAnswer } from "./geocoder.ts";

export interface CachedAnswer {
  answer: GeocodeAnswer;
  /** Epoch ms after which the entry is ignored (and replaced by the next answer). */
  expiresAt: number;
}

export interface GeocodeCache {
  /** The answer for `key`, or null when absent or expired at `now`. */
  get(key: string, now: number): Promise<GeocodeAnswer | null>;
  put(key: string, entry: CachedAnswer): Promise<void>;
}

/** How long answers are kept: found ones a month, "not found" a day (the BAN is updated). */
export const CACHE_TTL_MS = { found: 30 * 86_400_000, notFound: 86_400_000 } as const;

export function cacheEntry(answer: GeocodeAnswer, now: number): CachedAnswer {
  return {
    answer,
    expiresAt: now + (answer.found ? CACHE_TTL_MS.found : CACHE_TTL_MS.notFound),
  };
}

/** Entries are small (~150 bytes); past this many the oldest go first. */
const MAX_MEMORY_ENTRIES = 100_000;

export class MemoryGeocodeCache implements GeocodeCache {
  readonly #entries = new Map<string, CachedAnswer>();

  async get(key: string, now: number): Promise<GeocodeAnswer | null> {
    const entry = this.#entries.get(key);
    return entry && entry.expiresAt > now ? entry.answer : null;
  }

  async put(key: string, entry: CachedAnswer): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_MEMORY_ENTRIES) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }
}

/** Parses a stored entry; a damaged one reads as absent (the address is asked again). */
export function parseCachedAnswer(json: string): CachedAnswer | null {
  try {
    const value = JSON.parse(json) as CachedAnswer;
    if (typeof value?.expiresAt !== "number" || typeof value.answer?.found !== "boolean") {
      return null;
    }
    return value;
  } catch {
    return null;
  }
}
