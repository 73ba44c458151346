/**
 * The bytes of one event, encoded at most once per stream format, then shared by every
 * subscriber that receives it.
 */
import type { RelayEvent } from "../domain/events.ts";
import { enteringEvent, leavingEvent } from "../domain/scope.ts";
import { encodeJsonFrame } from "../sse/frame.ts";

/** `relay`: named events of /events. `guide`: the guide's unnamed messages (/webhook/sse-stream). */
export type StreamFormat = "relay" | "guide";

export function guideMessage(event: RelayEvent, removed = event.type === "record.removed") {
  const r = event.record;
  return {
    timestamp: event.time,
    type: removed ? "intervention_removed" : "intervention_update",
    data: removed
      ? { id: r.id }
      : {
          id: r.id,
          agent: r.agent,
          localisation: r.localisation,
          type: r.type,
          statut: r.statut,
          priorite: r.priorite,
          commentaire: r.commentaire,
        },
  };
}

export class EncodedEvent {
  readonly event: RelayEvent;
  #full: Partial<Record<StreamFormat, Buffer>> = {};
  #leaves: Partial<Record<StreamFormat, Buffer>> = {};
  #enters: Buffer | undefined;

  constructor(event: RelayEvent) {
    this.event = event;
  }

  /** The event as it is. */
  full(format: StreamFormat): Buffer {
    let bytes = this.#full[format];
    if (!bytes) {
      bytes =
        format === "relay"
          ? encodeJsonFrame(this.event.type, this.event, this.event.id)
          : encodeJsonFrame(undefined, guideMessage(this.event), this.event.id);
      this.#full[format] = bytes;
    }
    return bytes;
  }

  /** An update whose record entered what this subscriber sees: an addition, no `changes`. */
  enters(format: StreamFormat): Buffer {
    if (format === "guide") return this.full(format);
    this.#enters ??= encodeJsonFrame("record.added", enteringEvent(this.event), this.event.id);
    return this.#enters;
  }

  /** A removal that reveals only the id: the record left what this subscriber may see. */
  leaves(format: StreamFormat): Buffer {
    let bytes = this.#leaves[format];
    if (!bytes) {
      const { id } = this.event;
      bytes =
        format === "relay"
          ? encodeJsonFrame("record.removed", leavingEvent(this.event), id)
          : encodeJsonFrame(undefined, guideMessage(this.event, true), id);
      this.#leaves[format] = bytes;
    }
    return bytes;
  }
}
