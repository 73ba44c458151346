/**
 * What the outbox stores for one alert: everything needed to send it later, even after a
 * restart, and nothing secret (tokens stay in the configuration, looked up by destination).
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export const AlertPayloadSchema = z.object({
  v: z.literal(1),
  rule: z.string(),
  eventId: z.string(),
  reference: z.string().nullable(),
  /** Matrix transaction id, fixed when the alert is planned and reused by every retry. */
  txnId: z.string().min(1).max(128),
  message: z.object({
    title: z.string(),
    text: z.string(),
    html: z.string(),
    link: z.string().nullable(),
  }),
  /** The whole event, for webhook destinations only (Matrix messages do not need it). */
  event: z.record(z.string(), z.unknown()).optional(),
});
export type AlertPayload = z.infer<typeof AlertPayloadSchema>;

/**
 * The homeserver drops a second request with the same txnId from the same token, which is
 * what makes a retry after a crash harmless. Derived from the outbox key *and* the event time:
 * a relay started on an empty database reuses event ids, and a bare key could then collide
 * with an old alert still in the homeserver's transaction memory and be silently dropped.
 */
export function alertTxnId(key: string, eventTime: string): string {
  return `grt${createHash("sha256").update(`${key}\n${eventTime}`).digest("base64url").slice(0, 32)}`;
}
