/** Ordered fan-out of committed events to in-process listeners (hub, metrics, alerts). */
import type { RelayEvent } from "../domain/events.ts";

export type AppendListener = (events: readonly RelayEvent[]) => void;

export class AppendListeners {
  readonly #listeners = new Set<AppendListener>();

  add(listener: AppendListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(events: readonly RelayEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(events);
      } catch {
        // A failing listener must not stop the others nor undo a commit that already happened;
        // listeners report their own errors.
      }
    }
  }
}

/** Positions assigned by a local counter: decimal strings, compared numerically. */
export function compareSequenceIds(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function parseSequenceId(id: string): number | null {
  if (!/^[1-9]\d{0,15}$/.test(id)) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : null;
}
