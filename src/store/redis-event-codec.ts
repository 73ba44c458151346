/**
 * How events sit in the Redis Stream: a field `event` holding the JSON of the event WITHOUT
 * `id` and `time`, and a field `epoch` naming the history the entry belongs to (event-ids.ts).
 * The event id is `<epoch>.<entry id>` and `time` is the entry id's milliseconds as ISO 8601,
 * so both are rebuilt on read and can never disagree with the entry that carries them.
 */
import type { PendingEvent, RelayEvent } from "../domain/events.ts";
import { formatEventId, isEpoch } from "./event-ids.ts";
import { timeOfStreamId } from "./redis-ids.ts";

export const EVENT_FIELD = "event";
export const EPOCH_FIELD = "epoch";

export function encodeEvent(pending: PendingEvent): string {
  const { type, source, record, changes } = pending;
  return JSON.stringify({ type, source, record, changes });
}

export function decodeEvent(epoch: string, entryId: string, json: string): RelayEvent {
  const id = formatEventId(epoch, entryId);
  return { ...(JSON.parse(json) as PendingEvent), id, time: timeOfStreamId(entryId) };
}

/**
 * A stream entry as RESP2 gives it: [id, [field, value, field, value, ...]]. Entries written
 * before epochs existed have no `epoch` field: they belong to `fallbackEpoch`, the epoch the
 * store gave the stream when it first found it without one.
 */
export function decodeEntry(entry: unknown, fallbackEpoch: string): RelayEvent {
  if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) {
    throw new Error("unexpected stream entry shape");
  }
  const fields = entry[1] as unknown[];
  let json: string | null = null;
  let epoch = fallbackEpoch;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1];
    if (fields[i] === EVENT_FIELD && typeof value === "string") json = value;
    if (fields[i] === EPOCH_FIELD && isEpoch(value)) epoch = value;
  }
  if (json === null) throw new Error(`stream entry ${entry[0]} has no ${EVENT_FIELD} field`);
  return decodeEvent(epoch, entry[0], json);
}

export function decodeEntries(entries: unknown, fallbackEpoch: string): RelayEvent[] {
  return Array.isArray(entries) ? entries.map((entry) => decodeEntry(entry, fallbackEpoch)) : [];
}
