/** The events the relay stores and streams: one per real change of a record. */
import { z } from "zod";
import { InterventionSchema } from "./intervention.ts";

export const EVENT_TYPES = ["record.added", "record.updated", "record.removed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Where a change was learnt: a Grist webhook, the start-up sync, a periodic reconciliation, or
 * the relay's own geocoding of the address (a position, never a field edit).
 */
export const EVENT_SOURCES = ["webhook", "sync", "reconciliation", "geocoding"] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

export const FieldChangeSchema = z.object({ from: z.unknown(), to: z.unknown() });
export type FieldChange = z.infer<typeof FieldChangeSchema>;

export const RelayEventSchema = z.object({
  /** Opaque, ordered by the store that assigned it (SQLite: integer; Redis: stream entry id). */
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  /** ISO 8601 time the relay stored the event. */
  time: z.string(),
  source: z.enum(EVENT_SOURCES),
  /** Current state (for `record.removed`: the last known state). */
  record: InterventionSchema,
  /** Only on `record.updated`: each changed normalized field, from → to. */
  changes: z.record(z.string(), FieldChangeSchema).optional(),
});
export type RelayEvent = z.infer<typeof RelayEventSchema>;

/** An event before the store gave it an id and a time. */
export type PendingEvent = Omit<RelayEvent, "id" | "time">;
