/** Builders for tests: an Intervention with sensible defaults. */
import type { Intervention, LiveEvent } from "../../../web/src/core/types.ts";

export function intervention(overrides: Partial<Intervention> = {}): Intervention {
  return {
    id: 1,
    reference: "INT-001",
    agent: "Marie Durand",
    localisation: "12 rue X, 13001 Marseille",
    type: "Voirie",
    statut: "En cours",
    priorite: "Haute",
    derniereMaj: "2026-11-24T09:30:00.000Z",
    commentaire: null,
    latitude: 43.29,
    longitude: 5.37,
    departement: "13",
    positionSource: "grist",
    positionScore: null,
    fields: {},
    ...overrides,
  };
}

export function liveEvent(overrides: Partial<LiveEvent> = {}): LiveEvent {
  return {
    id: "1",
    type: "record.updated",
    time: "2026-11-24T09:30:01.000Z",
    source: "webhook",
    record: intervention(),
    ...overrides,
  };
}
