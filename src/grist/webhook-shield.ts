/**
 * Which records a webhook changed since a reconciliation began reading Grist, on any instance.
 * The store's own history says it: with several relays on Redis, the webhook may have reached
 * another instance, which the reconciling one's memory never saw. Read backwards from the
 * newest event until events are older than the read (less a clock margin: on Redis, event times
 * come from the Redis clock, the read time from this host's).
 */
import { recordKey } from "../domain/intervention.ts";
import type { EventStore } from "../store/event-store.ts";

export interface ShieldOptions {
  /** Clock difference tolerated between this host and the store's clock, in ms (Redis: 1000). */
  skewMs?: number;
  /** Events looked at, at most: past it, history is too busy to be read for this. */
  maxEvents?: number;
  pageSize?: number;
}

export async function keysChangedByWebhookSince(
  store: EventStore,
  since: number,
  options: ShieldOptions = {},
): Promise<Set<string>> {
  // Local stores stamp events with this host's clock: no margin needed.
  const from = since - (options.skewMs ?? (store.kind === "redis" ? 1000 : 0));
  const maxEvents = options.maxEvents ?? 20_000;
  const pageSize = options.pageSize ?? 500;
  const keys = new Set<string>();
  let before: string | undefined;
  for (let seen = 0; seen < maxEvents; ) {
    const page = await store.readLatest(pageSize, before);
    for (let i = page.length - 1; i >= 0; i--) {
      const event = page[i];
      if (!event) continue;
      if (Date.parse(event.time) < from) return keys;
      if (event.source === "webhook") keys.add(recordKey(event.record.id));
    }
    seen += page.length;
    if (page.length < pageSize) return keys;
    before = page[0]?.id;
  }
  return keys;
}
