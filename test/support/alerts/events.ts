/** Builders of interventions and events for the alert tests, and a commit through a store. */
import { decideEvents } from "../../../src/domain/changes.ts";
import { buildColumnMapping } from "../../../src/domain/column-mapping.ts";
import type { RelayEvent } from "../../../src/domain/events.ts";
import type { Intervention } from "../../../src/domain/intervention.ts";
import { normalizeRecord } from "../../../src/domain/normalize.ts";
import type { EventStore, OutboxEntry } from "../../../src/store/event-store.ts";

export function intervention(overrides: Partial<Intervention> = {}): Intervention {
  return {
    id: 7,
    reference: "INT-007",
    agent: "Marie Durand",
    localisation: "1 quai du Port, 13002 Marseille",
    type: "Voirie",
    statut: "En cours",
    priorite: "Haute",
    derniereMaj: "2026-11-24T09:30:00.000Z",
    commentaire: null,
    latitude: null,
    longitude: null,
    departement: "13",
    positionSource: null,
    positionScore: null,
    fields: {},
    ...overrides,
  };
}

export function relayEvent(overrides: Partial<RelayEvent> & Pick<RelayEvent, "type">): RelayEvent {
  return {
    id: "42",
    time: "2026-11-24T09:30:01.120Z",
    source: "webhook",
    record: intervention(),
    ...overrides,
  };
}

const mapping = buildColumnMapping();

/** A row as Grist sends it (column ids of the guide's table), normalized by the real code. */
export function gristRow(id: number, columns: Record<string, unknown>): Intervention {
  return normalizeRecord(
    id,
    {
      ID2: `INT-${String(id).padStart(3, "0")}`,
      Agent: "Marie Durand",
      Localisation: "1 quai du Port, 13002 Marseille",
      Type: "Voirie",
      Statut: "En cours",
      Priorite: "Normale",
      ...columns,
    },
    mapping,
  );
}

/** Commits rows as the ingest service does, with the alert planner as the outbox hook. */
export function commitWithAlerts(
  store: EventStore,
  rows: Intervention[],
  planner: (events: readonly RelayEvent[]) => OutboxEntry[],
): Promise<RelayEvent[]> {
  return store.commit(
    rows.map((row) => String(row.id)),
    (current) => decideEvents(rows, current, { source: "webhook", mapping }),
    { outbox: planner },
  );
}

/**
 * A clock the test moves by hand; `sleep` advances it instead of waiting. It starts an hour
 * ahead so that alerts the stores stamp with the real time are already due.
 */
export function manualClock(start = Date.now() + 3_600_000) {
  let time = start;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
    sleep: async (ms: number) => {
      time += ms;
    },
  };
}
