/**
 * How a geocoded position lives in a record: set once per address, kept through the row's
 * later edits, dropped when the address changes or a person types coordinates.
 */
import type { Intervention } from "../domain/intervention.ts";
import type { GeocodeAnswer } from "./geocoder.ts";

/** The record's own fields that describe its position. */
export const POSITION_FIELDS = [
  "latitude",
  "longitude",
  "positionSource",
  "positionScore",
] as const;

/** An address and no position of its own: the geocoder may place it. */
export function needsGeocoding(record: Intervention): boolean {
  return (
    record.localisation !== null &&
    record.positionSource !== "grist" &&
    record.positionSource !== "adresse"
  );
}

function samePoint(a: Intervention, b: Intervention): boolean {
  return (
    a.latitude !== null &&
    b.latitude !== null &&
    a.longitude !== null &&
    b.longitude !== null &&
    Math.abs(a.latitude - b.latitude) < 1e-6 &&
    Math.abs(a.longitude - b.longitude) < 1e-6
  );
}

/**
 * A new state of a row read from Grist, with the geocoded position of its previous state kept
 * while the address is the same: Grist does not know that position (unless written back), and
 * a status change must not send the marker back to the département's point.
 */
export function keepGeocodedPosition(
  incoming: Intervention,
  previous: Intervention | undefined,
): Intervention {
  if (previous?.positionSource !== "adresse") return incoming;
  if (previous.localisation !== incoming.localisation) return incoming;
  // Coordinates a person typed win; the ones written back by the relay are the same point.
  if (incoming.positionSource === "grist" && !samePoint(incoming, previous)) return incoming;
  return {
    ...incoming,
    latitude: previous.latitude,
    longitude: previous.longitude,
    positionSource: "adresse",
    positionScore: previous.positionScore,
  };
}

/**
 * The record placed at the geocoder's answer, or null when the answer does not place it (not
 * found, score under `minScore`): the record keeps its département's reference point.
 */
export function placedAtAddress(
  record: Intervention,
  answer: GeocodeAnswer,
  minScore: number,
): Intervention | null {
  if (!answer.found || answer.score < minScore) return null;
  return {
    ...record,
    latitude: answer.latitude,
    longitude: answer.longitude,
    positionSource: "adresse",
    positionScore: Math.round(answer.score * 1000) / 1000,
  };
}
