/**
 * Derives the two département data files the relay ships, from the official open outlines
 * (IGN ADMIN EXPRESS COG 2018 outlines, INSEE COG codes and names, Licence Ouverte / Etalab,
 * as republished in GeoJSON by github.com/gregoiredavid/france-geojson,
 * `departements-avec-outre-mer.geojson`):
 *
 *   node scripts/derive-departements.ts <departements-avec-outre-mer.geojson>
 *
 * writes
 * - `web/src/assets/departements.geojson`: outlines simplified for the offline base layer
 *   (Douglas–Peucker at ~1 km, 3 decimals ≈ 100 m, islets under ~2 km² dropped unless they are
 *   a département's only land), a few hundred KB;
 * - `src/domain/departement-points.ts`: one reference point per département, inside its
 *   largest polygon (see `referencePoint`).
 * Run by hand when the source changes; never by the tests.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

type Point = [number, number];
type Ring = Point[];
type Polygon = Ring[];

interface SourceFeature {
  properties: { code: string; nom: string };
  geometry:
    | { type: "Polygon"; coordinates: Polygon }
    | { type: "MultiPolygon"; coordinates: Polygon[] };
}

/** Tolerance of the simplification, in degrees (~1 km in latitude). */
const TOLERANCE = 0.009;
/** Rings smaller than this (square degrees, ~2 km²) are dropped, except a lone polygon. */
const MIN_AREA = 0.0002;
const DECIMALS = 3;

function perpendicularDistance(p: Point, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const length = Math.hypot(dx, dy);
  if (length === 0) return Math.hypot(p[0] - a[0], p[1] - a[1]);
  return Math.abs(dy * p[0] - dx * p[1] + b[0] * a[1] - b[1] * a[0]) / length;
}

/** Douglas–Peucker, iterative (long coastlines would overflow a recursive version). */
function simplifyLine(points: Ring, tolerance: number): Ring {
  if (points.length < 3) return points;
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  const stack: [number, number][] = [[0, points.length - 1]];
  while (stack.length > 0) {
    const [first, last] = stack.pop() as [number, number];
    let worst = -1;
    let worstDistance = 0;
    for (let i = first + 1; i < last; i++) {
      const d = perpendicularDistance(
        points[i] as Point,
        points[first] as Point,
        points[last] as Point,
      );
      if (d > worstDistance) {
        worstDistance = d;
        worst = i;
      }
    }
    if (worst >= 0 && worstDistance > tolerance) {
      keep[worst] = 1;
      stack.push([first, worst], [worst, last]);
    }
  }
  return points.filter((_, i) => keep[i] === 1);
}

function round(value: number): number {
  const factor = 10 ** DECIMALS;
  return Math.round(value * factor) / factor;
}

/** Shoelace area of a ring, in square degrees (only compared with others). */
function ringArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as Point;
    const [xj, yj] = ring[j] as Point;
    sum += xj * yi - xi * yj;
  }
  return Math.abs(sum) / 2;
}

function simplifyRing(ring: Ring): Ring | null {
  // A closed ring split in two halves keeps both ends of the split fixed.
  const middle = Math.floor(ring.length / 2);
  const halves = [
    simplifyLine(ring.slice(0, middle + 1), TOLERANCE),
    simplifyLine(ring.slice(middle), TOLERANCE),
  ];
  const joined = [...(halves[0] as Ring), ...(halves[1] as Ring).slice(1)].map(
    ([x, y]) => [round(x), round(y)] as Point,
  );
  const deduped = joined.filter(
    (p, i) => i === 0 || p[0] !== joined[i - 1]?.[0] || p[1] !== joined[i - 1]?.[1],
  );
  return deduped.length >= 4 ? deduped : null;
}

function polygonsOf(feature: SourceFeature): Polygon[] {
  return feature.geometry.type === "Polygon"
    ? [feature.geometry.coordinates]
    : feature.geometry.coordinates;
}

function insideRing(point: Point, ring: Ring): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i] as Point;
    const [xj, yj] = ring[j] as Point;
    if (
      yi > point[1] !== yj > point[1] &&
      point[0] < ((xj - xi) * (point[1] - yi)) / (yj - yi) + xi
    )
      inside = !inside;
  }
  return inside;
}

function insidePolygon(point: Point, polygon: Polygon): boolean {
  const [outer, ...holes] = polygon;
  return insideRing(point, outer as Ring) && !holes.some((hole) => insideRing(point, hole));
}

/**
 * The reference point of a département: the centroid of the outer ring of its largest polygon
 * (mainland part, main island) when that centroid lies inside the polygon; otherwise (a
 * crescent-shaped coast) the middle of the widest inside segment of the horizontal line
 * through the centroid. Either way the point is on the département's own land.
 */
function referencePoint(polygons: Polygon[]): Point {
  const largest = polygons.reduce((a, b) =>
    ringArea(b[0] as Ring) > ringArea(a[0] as Ring) ? b : a,
  );
  const outer = largest[0] as Ring;
  let cx = 0;
  let cy = 0;
  let area2 = 0;
  for (let i = 0, j = outer.length - 1; i < outer.length; j = i++) {
    const [xi, yi] = outer[i] as Point;
    const [xj, yj] = outer[j] as Point;
    const cross = xj * yi - xi * yj;
    area2 += cross;
    cx += (xj + xi) * cross;
    cy += (yj + yi) * cross;
  }
  const centroid: Point = [cx / (3 * area2), cy / (3 * area2)];
  if (insidePolygon(centroid, largest)) return centroid;
  const y = centroid[1];
  const crossings: number[] = [];
  for (const ring of largest) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i] as Point;
      const [xj, yj] = ring[j] as Point;
      if (yi > y !== yj > y) crossings.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
    }
  }
  crossings.sort((a, b) => a - b);
  let best: Point = centroid;
  let widest = 0;
  for (let i = 0; i + 1 < crossings.length; i += 2) {
    const width = (crossings[i + 1] as number) - (crossings[i] as number);
    if (width > widest) {
      widest = width;
      best = [((crossings[i] as number) + (crossings[i + 1] as number)) / 2, y];
    }
  }
  return best;
}

function main(): void {
  const source = process.argv[2];
  if (!source) {
    process.stderr.write("usage: node scripts/derive-departements.ts <departements.geojson>\n");
    process.exit(2);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const features = (JSON.parse(readFileSync(source, "utf8")) as { features: SourceFeature[] })
    .features;
  features.sort((a, b) => a.properties.code.localeCompare(b.properties.code));
  const outlines = [];
  const points: string[] = [];
  for (const feature of features) {
    const { code, nom } = feature.properties;
    const polygons = polygonsOf(feature);
    const [lon, lat] = referencePoint(polygons);
    points.push(
      `  "${code}": { nom: ${JSON.stringify(nom)}, lat: ${lat.toFixed(4)}, lon: ${lon.toFixed(4)} },`,
    );
    const largestArea = Math.max(...polygons.map((p) => ringArea(p[0] as Ring)));
    const simplified: Polygon[] = [];
    for (const polygon of polygons) {
      const area = ringArea(polygon[0] as Ring);
      if (area < MIN_AREA && area < largestArea) continue;
      const rings = polygon
        .filter((ring, i) => i === 0 || ringArea(ring) >= MIN_AREA)
        .map(simplifyRing);
      if (rings[0]) simplified.push(rings.filter((r): r is Ring => r !== null));
    }
    outlines.push({
      type: "Feature",
      properties: { code, nom },
      geometry: { type: "MultiPolygon", coordinates: simplified },
    });
  }
  const outlinesFile = join(root, "web/src/assets/departements.geojson");
  writeFileSync(
    outlinesFile,
    `${JSON.stringify({ type: "FeatureCollection", features: outlines })}\n`,
  );
  const pointsFile = join(root, "src/domain/departement-points.ts");
  writeFileSync(
    pointsFile,
    `/**
 * One reference point per département (Corsica and overseas included), where a row is placed
 * when its address cannot be geocoded. Generated by scripts/derive-departements.ts from the
 * IGN ADMIN EXPRESS COG 2018 outlines with INSEE COG codes and names (Licence Ouverte /
 * Etalab, GeoJSON by github.com/gregoiredavid/france-geojson): the centroid of the
 * département's largest polygon, or, when that centroid falls outside it, the middle of the
 * widest inside segment of the horizontal line through it — always on the département's land.
 * Do not edit by hand.
 */
export interface DepartementPoint {
  readonly nom: string;
  readonly lat: number;
  readonly lon: number;
}

export const DEPARTEMENT_POINTS: Readonly<Record<string, DepartementPoint>> = Object.freeze({
${points.join("\n")}
});
`,
  );
  process.stdout.write(`${features.length} départements → ${outlinesFile}, ${pointsFile}\n`);
}

main();
