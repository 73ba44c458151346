/**
 * Redis Stream entry ids ("<ms>-<seq>", two unsigned 64-bit integers) are the relay's event ids
 * on the Redis store. They arrive from clients through `Last-Event-ID`, so they are parsed
 * strictly before any of them reaches a Redis command.
 */

const MAX_U64 = 2n ** 64n - 1n;
// Bounded length so a hostile header cannot make BigInt parse megabytes of digits.
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

/** The parsed id, or null when it is not a full "<ms>-<seq>" id Redis could have assigned. */
export function parseStreamId(id: string): StreamId | null {
  const match = STREAM_ID.exec(id);
  if (!match) return null;
  const ms = BigInt(match[1] as string);
  const seq = BigInt(match[2] as string);
  if (ms > MAX_U64 || seq > MAX_U64) return null;
  return { ms, seq };
}

/** Negative when a is older than b. Ids that do not parse sort before every valid id. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a);
  const y = parseStreamId(b);
  if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  if (x.ms !== y.ms) return x.ms < y.ms ? -1 : 1;
  return x.seq < y.seq ? -1 : x.seq > y.seq ? 1 : 0;
}

/** ISO time of an entry id: Redis puts its clock's milliseconds in the first half. */
export function timeOfStreamId(id: string): string {
  const parsed = parseStreamId(id);
  if (!parsed) throw new Error(`not a stream id: ${JSON.stringify(id)}`);
  return new Date(Number(parsed.ms)).toISOString();
}
