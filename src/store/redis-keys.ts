/**
 * Every Redis key the store uses, under one prefix so several deployments (or tests) can share
 * a server. Not cluster-ready on purpose: the commit script touches several of these keys, so
 * they must live on one node (see docs/deploiement.md).
 */
import type { OutboxStatus } from "./outbox.ts";

export interface StoreKeys {
  /** Stream of events; the entry id is the event id. */
  events: string;
  /** Hash: record key → JSON of the record's current state. */
  records: string;
  /** String: newest id removed by trimming; resuming from an older id means events were missed. */
  prunedThrough: string;
  /** String: the epoch of the history held under this prefix (event-ids.ts). */
  epoch: string;
  /** Hash: minute since the Unix epoch → events committed in it (for /api/status). */
  eventsPerMinute: string;
  /** Sorted set of pending outbox keys by next attempt time (ms). */
  outboxDue: string;
  /** Sorted set of outbox keys in a status, by last update time (ms). */
  outboxStatus: (status: OutboxStatus) => string;
  /** Hash holding one outbox item. */
  outboxItem: (key: string) => string;
  /** Hash: normalised address → JSON of the geocoder's answer and its expiry. */
  geocodeCache: string;
}

export const DEFAULT_KEY_PREFIX = "grist-realtime:";

export function storeKeys(prefix: string): StoreKeys {
  return {
    events: `${prefix}events`,
    records: `${prefix}records`,
    prunedThrough: `${prefix}pruned-through`,
    epoch: `${prefix}epoch`,
    eventsPerMinute: `${prefix}events-per-minute`,
    outboxDue: `${prefix}outbox:due`,
    outboxStatus: (status) => `${prefix}outbox:${status}`,
    outboxItem: (key) => `${prefix}outbox:item:${key}`,
    geocodeCache: `${prefix}geocode-cache`,
  };
}
