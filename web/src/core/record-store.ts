/** The current interventions, keyed like the relay keys them, updated event by event. */
import type { Intervention, LiveEvent, RecordId } from "./types.ts";

/**
 * Same rule as the server's `recordKey` (src/domain/intervention.ts), restated here because
 * importing that module as a value would pull zod into the browser bundle.
 */
export function recordKey(id: RecordId): string {
  return String(id);
}

export interface AppliedChange {
  key: string;
  previous: Intervention | undefined;
  current: Intervention | undefined;
}

export class RecordStore {
  readonly #records = new Map<string, Intervention>();

  /** A snapshot (fresh connection, or after `reset`) replaces everything known. */
  replaceAll(records: Iterable<Intervention>): void {
    this.#records.clear();
    for (const record of records) this.#records.set(recordKey(record.id), record);
  }

  /** Events carry the full state after the change, so applying one twice changes nothing. */
  apply(event: LiveEvent): AppliedChange {
    const key = recordKey(event.record.id);
    const previous = this.#records.get(key);
    if (event.type === "record.removed") {
      this.#records.delete(key);
      return { key, previous, current: undefined };
    }
    this.#records.set(key, event.record);
    return { key, previous, current: event.record };
  }

  get(key: string): Intervention | undefined {
    return this.#records.get(key);
  }

  values(): IterableIterator<Intervention> {
    return this.#records.values();
  }

  get size(): number {
    return this.#records.size;
  }
}
