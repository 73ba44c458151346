/**
 * How events sit in the Redis Stream: one field `event` holding the JSON of the event WITHOUT
 * `id` and `time`. The entry id is the event id, and `time` is the id's milliseconds as ISO
 * 8601, so both are rebuilt on read and can never disagree with the entry that carries them.
 */
import type { PendingEvent, RelayEvent } from "../domain/events.ts";
import { timeOfStreamId } from "./redis-ids.ts";

export const EVENT_FIELD = "event";

export function encodeEvent(pending: PendingEvent): string {
  const { type, source, record, changes } = pending;
  return JSON.stringify({ type, source, record, changes });
}

export function decodeEvent(id: string, json: string): RelayEvent {
  return { ...(JSON.parse(json) as PendingEvent), id, time: timeOfStreamId(id) };
}

/** A stream entry as RESP2 gives it: [id, [field, value, field, value, ...]]. */
export function decodeEntry(entry: unknown): RelayEvent {
  if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) {
    throw new Error("unexpected stream entry shape");
  }
  const fields = entry[1] as unknown[];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === EVENT_FIELD && typeof fields[i + 1] === "string") {
      return decodeEvent(entry[0], fields[i + 1] as string);
    }
  }
  throw new Error(`stream entry ${entry[0]} has no ${EVENT_FIELD} field`);
}

export function decodeEntries(entries: unknown): RelayEvent[] {
  return Array.isArray(entries) ? entries.map(decodeEntry) : [];
}
