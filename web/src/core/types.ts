/**
 * The wire types the dashboard consumes, taken from the server's domain schemas as types only:
 * importing the zod schemas themselves would add zod to the initial bundle for checks that
 * `parse.ts` does by hand on the few fields the UI relies on.
 */
export type { FieldChange, RelayEvent } from "../../../src/domain/events.ts";
export type { Intervention, RecordId } from "../../../src/domain/intervention.ts";

import type { RelayEvent as WireEvent } from "../../../src/domain/events.ts";
/** An event as streamed: an out-of-scope removal also carries `reason: "out-of-scope"`. */
export type LiveEvent = WireEvent & { reason?: string };
