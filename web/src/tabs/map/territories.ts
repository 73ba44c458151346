/**
 * The map's territories: mainland France (with Corsica) is the default view, each overseas
 * département has its own, so a marker in Guyane never shrinks mainland France to a dot.
 */

export type Bounds = [[number, number], [number, number]];

export interface Territory {
  id: string;
  label: string;
  /** South-west, north-east corners (latitude, longitude). */
  bounds: Bounds;
}

export const TERRITORIES: readonly Territory[] = [
  {
    id: "metropole",
    label: "Métropole",
    bounds: [
      [41.3, -5.3],
      [51.2, 9.7],
    ],
  },
  {
    id: "971",
    label: "Guadeloupe",
    bounds: [
      [15.8, -61.9],
      [16.55, -60.95],
    ],
  },
  {
    id: "972",
    label: "Martinique",
    bounds: [
      [14.38, -61.25],
      [14.9, -60.8],
    ],
  },
  {
    id: "973",
    label: "Guyane",
    bounds: [
      [2.1, -54.65],
      [5.8, -51.6],
    ],
  },
  {
    id: "974",
    label: "La Réunion",
    bounds: [
      [-21.4, 55.2],
      [-20.85, 55.85],
    ],
  },
  {
    id: "975",
    label: "Saint-Pierre-et-Miquelon",
    bounds: [
      [46.74, -56.42],
      [47.15, -56.1],
    ],
  },
  {
    id: "976",
    label: "Mayotte",
    bounds: [
      [-13.05, 44.95],
      [-12.6, 45.35],
    ],
  },
];

/** Points outside every territory (a typo, a mission abroad) are counted under "ailleurs". */
export const ELSEWHERE = "ailleurs";

/** Margin around each territory's box, in degrees: coastal points and islets stay inside. */
const MARGIN = 0.3;

export function territoryOf(latitude: number, longitude: number): string {
  for (const territory of TERRITORIES) {
    const [[south, west], [north, east]] = territory.bounds;
    if (
      latitude >= south - MARGIN &&
      latitude <= north + MARGIN &&
      longitude >= west - MARGIN &&
      longitude <= east + MARGIN
    ) {
      return territory.id;
    }
  }
  return ELSEWHERE;
}

/**
 * The view to open with: mainland France when it has markers (or nothing has any), otherwise
 * the territory with the most — a team working only in Guyane lands on Guyane.
 */
export function defaultTerritory(counts: ReadonlyMap<string, number>): string {
  if ((counts.get("metropole") ?? 0) > 0) return "metropole";
  let best = "metropole";
  let most = 0;
  for (const territory of TERRITORIES) {
    const count = counts.get(territory.id) ?? 0;
    if (count > most) {
      best = territory.id;
      most = count;
    }
  }
  return best;
}
