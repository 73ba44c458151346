/**
 * Grid clustering, written by hand (no plugin): at a given zoom, markers whose projected
 * positions fall in the same square of `cellPx` pixels become one group. Recomputed on zoom
 * and on data; panning does not change the groups because the grid is in world pixels.
 */

export interface Placed<T> {
  key: string;
  item: T;
  latitude: number;
  longitude: number;
  /** World pixel coordinates at the current zoom (Leaflet's `map.project`). */
  x: number;
  y: number;
}

export interface Group<T> {
  /** Stable while the same members stay together at the same zoom. */
  key: string;
  members: Placed<T>[];
  latitude: number;
  longitude: number;
}

export function groupByCell<T>(placed: readonly Placed<T>[], cellPx: number): Group<T>[] {
  const cells = new Map<string, Placed<T>[]>();
  for (const point of placed) {
    const cell = `${Math.floor(point.x / cellPx)}:${Math.floor(point.y / cellPx)}`;
    const members = cells.get(cell);
    if (members) members.push(point);
    else cells.set(cell, [point]);
  }
  const groups: Group<T>[] = [];
  for (const members of cells.values()) {
    members.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const latitude = members.reduce((sum, m) => sum + m.latitude, 0) / members.length;
    const longitude = members.reduce((sum, m) => sum + m.longitude, 0) / members.length;
    groups.push({ key: members.map((m) => m.key).join("|"), members, latitude, longitude });
  }
  return groups;
}

/** True when every member stands on the same point: zooming in would never split them. */
export function samePoint<T>(group: Group<T>): boolean {
  const [first] = group.members;
  return group.members.every(
    (m) =>
      Math.abs(m.latitude - (first?.latitude ?? 0)) < 1e-6 &&
      Math.abs(m.longitude - (first?.longitude ?? 0)) < 1e-6,
  );
}
