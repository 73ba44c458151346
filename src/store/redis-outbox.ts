/**
 * The alert outbox on Redis. Entries are created by the commit script (redis-store-scripts.ts),
 * in the same atomic step as their events; this file reads them and moves them between states.
 *
 * Layout: one hash per item (payload kept as the JSON text it was given, never re-encoded by
 * Lua), a sorted set of pending keys by next attempt, and one sorted set per status by last
 * update for listing and counting.
 */

import {
  OUTBOX_STATUSES,
  type Outbox,
  type OutboxCounts,
  type OutboxItem,
  type OutboxRetryResult,
  type OutboxStatus,
} from "./outbox.ts";
import type { RedisConnection } from "./redis-connection.ts";
import type { StoreKeys } from "./redis-keys.ts";
import { LuaScript } from "./redis-script.ts";

/**
 * KEYS: item, due set, pending set, sent set, failed set.
 * ARGV: key, new status, next attempt (ms), '1' to set the error or '0' to clear it, error, now.
 */
const UPDATE = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local sets = { pending = KEYS[3], sent = KEYS[4], failed = KEYS[5] }
local old = redis.call('HGET', KEYS[1], 'status')
if sets[old] then redis.call('ZREM', sets[old], ARGV[1]) end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'nextAttemptAt', ARGV[3], 'updatedAt', ARGV[6])
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'lastError', ARGV[5])
else
  redis.call('HDEL', KEYS[1], 'lastError')
end
redis.call('ZADD', sets[ARGV[2]], ARGV[6], ARGV[1])
if ARGV[2] == 'pending' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
`);

/**
 * KEYS: item, due set, pending set, failed set. ARGV: key, now.
 * Returns 1 retried, 0 absent, -1 not failed: checked and moved in one step, so a dispatcher
 * working at the same time never sees a half-moved item.
 */
const RETRY = new LuaScript(`
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if status ~= 'failed' then return -1 end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'status', 'pending', 'attempts', 0, 'nextAttemptAt', ARGV[2], 'updatedAt', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
`);

function fieldsToItem(key: string, reply: unknown): OutboxItem | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
  const status = fields.get("status") as OutboxStatus;
  if (!OUTBOX_STATUSES.includes(status)) return null;
  return {
    key,
    destination: fields.get("destination") ?? "",
    payload: JSON.parse(fields.get("payload") ?? "null"),
    status,
    attempts: Number(fields.get("attempts") ?? 0),
    nextAttemptAt: Number(fields.get("nextAttemptAt") ?? 0),
    lastError: fields.get("lastError") ?? null,
    createdAt: Number(fields.get("createdAt") ?? 0),
    updatedAt: Number(fields.get("updatedAt") ?? 0),
  };
}

export class RedisOutbox implements Outbox {
  readonly #connection: RedisConnection;
  readonly #keys: StoreKeys;

  constructor(connection: RedisConnection, keys: StoreKeys) {
    this.#connection = connection;
    this.#keys = keys;
  }

  /** Items whose next attempt has come; the earliest due first, ties by creation time. */
  async due(now: number, limit: number): Promise<OutboxItem[]> {
    if (limit <= 0) return [];
    const keys = (await this.#connection.send([
      "ZRANGE",
      this.#keys.outboxDue,
      "-inf",
      String(now),
      "BYSCORE",
      "LIMIT",
      "0",
      String(limit),
    ])) as string[];
    const items = await this.#items(keys);
    return items
      .filter((item) => item.status === "pending" && item.nextAttemptAt <= now)
      .sort((a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : 1));
  }

  markSent(key: string, now: number): Promise<void> {
    return this.#update(key, "sent", now, null, now);
  }

  reschedule(key: string, nextAttemptAt: number, error: string, now: number): Promise<void> {
    return this.#update(key, "pending", nextAttemptAt, error, now);
  }

  markFailed(key: string, error: string, now: number): Promise<void> {
    return this.#update(key, "failed", now, error, now);
  }

  async retry(key: string, now: number): Promise<OutboxRetryResult> {
    const reply = await RETRY.run(
      this.#connection,
      [
        this.#keys.outboxItem(key),
        this.#keys.outboxDue,
        this.#keys.outboxStatus("pending"),
        this.#keys.outboxStatus("failed"),
      ],
      [key, String(now)],
    );
    if (Number(reply) === 1) return "retried";
    return Number(reply) === 0 ? "not-found" : "not-failed";
  }

  /** Most recently updated first. */
  async list(filter: { status?: OutboxStatus; limit: number }): Promise<OutboxItem[]> {
    if (filter.limit <= 0) return [];
    const statuses = filter.status ? [filter.status] : OUTBOX_STATUSES;
    const scored: { key: string; updatedAt: number }[] = [];
    for (const status of statuses) {
      const reply = (await this.#connection.send([
        "ZRANGE",
        this.#keys.outboxStatus(status),
        "0",
        String(filter.limit - 1),
        "REV",
        "WITHSCORES",
      ])) as string[];
      for (let i = 0; i + 1 < reply.length; i += 2) {
        scored.push({ key: reply[i] as string, updatedAt: Number(reply[i + 1]) });
      }
    }
    scored.sort((a, b) => b.updatedAt - a.updatedAt);
    return this.#items(scored.slice(0, filter.limit).map((entry) => entry.key));
  }

  async counts(): Promise<OutboxCounts> {
    const [pending, sent, failed] = await Promise.all(
      OUTBOX_STATUSES.map((status) =>
        this.#connection.send(["ZCARD", this.#keys.outboxStatus(status)]),
      ),
    );
    return { pending: Number(pending), sent: Number(sent), failed: Number(failed) };
  }

  async #items(keys: readonly string[]): Promise<OutboxItem[]> {
    // Sent together: node-redis pipelines commands issued in the same tick.
    const replies = await Promise.all(
      keys.map((key) => this.#connection.send(["HGETALL", this.#keys.outboxItem(key)])),
    );
    const items: OutboxItem[] = [];
    keys.forEach((key, i) => {
      const item = fieldsToItem(key, replies[i]);
      if (item) items.push(item);
    });
    return items;
  }

  async #update(
    key: string,
    status: OutboxStatus,
    nextAttemptAt: number,
    error: string | null,
    now: number,
  ): Promise<void> {
    await UPDATE.run(
      this.#connection,
      [
        this.#keys.outboxItem(key),
        this.#keys.outboxDue,
        ...OUTBOX_STATUSES.map((s) => this.#keys.outboxStatus(s)),
      ],
      [key, status, String(nextAttemptAt), error === null ? "0" : "1", error ?? "", String(now)],
    );
  }
}
