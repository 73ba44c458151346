/**
 * What a subscriber limited to some records (its filters, its token's départements) may learn
 * of an event: never a value it could not have read in a snapshot. A record entering what it
 * sees arrives as an addition without `changes` (their `from` values were outside); one leaving
 * arrives as a removal that names only its id. Used by streams, replays, `/api/events` and the
 * alert rules limited to départements.
 */
import type { RelayEvent } from "./events.ts";
import type { Intervention, RecordId } from "./intervention.ts";
import { TRACKED_FIELDS } from "./vocabulary.ts";

/** Which records a subscriber sees. */
export type RecordPredicate = (record: Intervention) => boolean;

/** Rebuilt once per event, not once per filtered subscriber the event is fanned out to. */
const previousByEvent = new WeakMap<RelayEvent, Intervention | null>();

/** The state before an update, rebuilt from `changes`; null when there is none to rebuild. */
export function previousRecord(event: RelayEvent): Intervention | null {
  const known = previousByEvent.get(event);
  if (known !== undefined) return known;
  let previous: Intervention | null = null;
  if (event.type === "record.updated" && event.changes) {
    const rebuilt: Record<string, unknown> = { ...event.record };
    for (const field of TRACKED_FIELDS) {
      const change = event.changes[field];
      if (change) rebuilt[field] = change.from;
    }
    previous = rebuilt as Intervention;
  }
  previousByEvent.set(event, previous);
  return previous;
}

/**
 * "full": send the event as it is. "enters": the record was not visible and now is — send it
 * as an addition. "leaves": it was visible and no longer is — tell the client to drop it
 * without revealing its new content. "hidden": nothing to send.
 */
export type Visibility = "full" | "enters" | "leaves" | "hidden";

export function visibility(event: RelayEvent, sees: RecordPredicate): Visibility {
  const now = sees(event.record);
  const previous = previousRecord(event);
  // An update that changed nothing tracked (or whose previous state is unknown) keeps the
  // visibility it had: its previous state is its current one for every field we filter on.
  const before = previous === null ? now : sees(previous);
  if (now) return before ? "full" : "enters";
  return before ? "leaves" : "hidden";
}

/** An update seen by a subscriber the record just entered: an addition, with no `changes`. */
export function enteringEvent(event: RelayEvent): RelayEvent {
  const { changes: _outOfScope, ...rest } = event;
  return { ...rest, type: "record.added" };
}

/** A removal that reveals only the id: the record left what this subscriber may see. */
export interface LeavingEvent {
  id: string;
  type: "record.removed";
  time: string;
  source: RelayEvent["source"];
  record: { id: RecordId };
  reason: "out-of-scope";
}

export function leavingEvent(event: RelayEvent): LeavingEvent {
  const { id, time, source, record } = event;
  return {
    id,
    type: "record.removed",
    time,
    source,
    record: { id: record.id },
    reason: "out-of-scope",
  };
}

/** The event as a subscriber seeing `sees` receives it, or null when it receives nothing. */
export function eventAsSeen(
  event: RelayEvent,
  sees: RecordPredicate,
): RelayEvent | LeavingEvent | null {
  switch (visibility(event, sees)) {
    case "full":
      return event;
    case "enters":
      return enteringEvent(event);
    case "leaves":
      return leavingEvent(event);
    default:
      return null;
  }
}
