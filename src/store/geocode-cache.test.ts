import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ThrowawayRedis } from "../../test/support/redis.ts";
import { addressKey } from "../geocode/address-key.ts";
import { cacheEntry, type GeocodeCache } from "../geocode/geocode-cache.ts";
import type { GeocodeAnswer } from "../geocode/geocoder.ts";
import { MemoryStore } from "./memory-store.ts";
import { RedisStore } from "./redis-store.ts";
import { SqliteStore } from "./sqlite-store.ts";

const FOUND: GeocodeAnswer = {
  found: true,
  latitude: 43.2804,
  longitude: 5.3862,
  score: 0.96,
  label: "12 Avenue du Prado 13008 Marseille",
};
const DAY = 86_400_000;

function describeCache(
  name: string,
  open: () => Promise<{ cache: GeocodeCache; close(): Promise<void> }>,
) {
  describe(`the geocoding cache of the ${name} store`, () => {
    it("gives back an answer until it expires, found answers longer than not-found ones", async () => {
      const { cache, close } = await open();
      try {
        const now = 1_800_000_000_000;
        await cache.put("12 avenue du prado 13008 marseille", cacheEntry(FOUND, now));
        await cache.put("nulle part", cacheEntry({ found: false }, now));
        assert.deepEqual(
          await cache.get("12 avenue du prado 13008 marseille", now + 2 * DAY),
          FOUND,
        );
        assert.deepEqual(await cache.get("nulle part", now + DAY / 2), { found: false });
        assert.equal(await cache.get("nulle part", now + 2 * DAY), null);
        assert.equal(await cache.get("12 avenue du prado 13008 marseille", now + 31 * DAY), null);
        assert.equal(await cache.get("inconnue", now), null);
      } finally {
        await close();
      }
    });
  });
}

describeCache("memory", async () => {
  const store = new MemoryStore();
  return { cache: store.geocodeCache, close: () => store.close() };
});

const dir = mkdtempSync(join(tmpdir(), "grist-realtime-geocache-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
describeCache("sqlite", async () => {
  const store = new SqliteStore({ file: join(dir, `cache-${n++}.db`) });
  return { cache: store.geocodeCache, close: () => store.close() };
});

describe("the geocoding cache of the redis store", () => {
  let redis: ThrowawayRedis;
  before(async () => {
    redis = await ThrowawayRedis.start();
  });
  after(() => redis.kill());
  describeCache("redis", async () => {
    const store = await RedisStore.open({ url: redis.url, keyPrefix: "geocache-test:" });
    return { cache: store.geocodeCache, close: () => store.close() };
  });

  it("is shared by every instance of a deployment", async () => {
    const first = await RedisStore.open({ url: redis.url, keyPrefix: "shared:" });
    const second = await RedisStore.open({ url: redis.url, keyPrefix: "shared:" });
    try {
      await first.geocodeCache.put("a", cacheEntry(FOUND, Date.now()));
      assert.deepEqual(await second.geocodeCache.get("a", Date.now()), FOUND);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe("the cache key of an address", () => {
  it("is the same for the spellings people type of one address", () => {
    assert.equal(
      addressKey("12 Avenue du Prado, 13008 MARSEILLE"),
      addressKey("  12 avenue du prado 13008 Marseille "),
    );
    assert.equal(
      addressKey("Allée des Pêcheurs, 97300 Cayenne"),
      "allee des pecheurs 97300 cayenne",
    );
    assert.notEqual(addressKey("12 avenue du Prado"), addressKey("14 avenue du Prado"));
  });
});
