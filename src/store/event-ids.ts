/**
 * Event ids: `<epoch>.<position>`.
 *
 * - `epoch`: eight lowercase letters drawn at random when a store is created and kept with it
 *   (SQLite `meta` table, a Redis key under the store's prefix, the memory store's lifetime).
 *   A new store, a wiped `DATA_DIR` or deleted Redis keys give a new epoch, so an id from an
 *   older history is recognised as foreign instead of being read as a position in the new one.
 *   Letters only: SQLite stores it in an INTEGER-affinity column, where a numeric-looking text
 *   would be converted to a number.
 * - `position`: the store's own ordered counter: a decimal sequence (memory, SQLite) or the
 *   Redis Stream entry id `<ms>-<seq>` (Redis).
 *
 * Ids arrive from clients (`Last-Event-ID`, `?after=`): everything here parses strictly and
 * never throws on hostile input.
 */
import { randomInt } from "node:crypto";

const EPOCH_LETTERS = "abcdefghijklmnopqrstuvwxyz";
export const EPOCH_LENGTH = 8;
const EPOCH = /^[a-z]{8}$/;
/** An epoch, a dot, then a position of at most 41 characters ("<20 digits>-<20 digits>"). */
const EVENT_ID = /^([a-z]{8})\.([0-9-]{1,41})$/;

export function newEpoch(): string {
  let epoch = "";
  for (let i = 0; i < EPOCH_LENGTH; i++) epoch += EPOCH_LETTERS[randomInt(EPOCH_LETTERS.length)];
  return epoch;
}

export function isEpoch(value: unknown): value is string {
  return typeof value === "string" && EPOCH.test(value);
}

export function formatEventId(epoch: string, position: string): string {
  return `${epoch}.${position}`;
}

export interface EventIdParts {
  epoch: string;
  position: string;
}

/** Epoch and position of an id, or null when it does not have the shape of one. */
export function splitEventId(id: string): EventIdParts | null {
  const match = EVENT_ID.exec(id);
  if (!match) return null;
  return { epoch: match[1] as string, position: match[2] as string };
}

/** The position of `id` when it belongs to `epoch`; null for a foreign or malformed id. */
export function positionIn(epoch: string, id: string): string | null {
  const parts = splitEventId(id);
  return parts && parts.epoch === epoch ? parts.position : null;
}

/**
 * Orders ids of one store: ids of its current epoch by position (`comparePositions`), after
 * every other id (foreign or malformed ids, which sort among themselves as text), so a
 * comparison never throws and the current history always counts as the newest.
 */
export function compareEventIds(
  epoch: string,
  a: string,
  b: string,
  comparePositions: (x: string, y: string) => number,
): number {
  const x = positionIn(epoch, a);
  const y = positionIn(epoch, b);
  if (x === null || y === null) {
    if (x !== null) return 1;
    if (y !== null) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return comparePositions(x, y);
}
