/**
 * The demo's geocoder (`npm run demo`): answers the field simulator's addresses without the
 * Internet, near the real centre of the city their postcode names, the way the Géoplateforme
 * would (a score, a label). One address in eight answers with a low score, so the demo map
 * also shows rows left at their département's point. Not for production use.
 */
import { PLACES } from "../grist/simulator.ts";
import type { GeocodeAnswer, Geocoder } from "./geocoder.ts";

/** FNV-1a: the same address always lands on the same spot. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class SimulatedGeocoder implements Geocoder {
  readonly name = "simulation";

  async search(address: string): Promise<GeocodeAnswer> {
    const place = PLACES.find((p) => address.includes(p.postcode));
    if (!place) return { found: false };
    const h = hash(address);
    // About ±1 km around the city centre, like the simulator's own coordinates.
    const dLat = ((h & 0xffff) / 0xffff - 0.5) * 0.02;
    const dLon = ((h >>> 16) / 0xffff - 0.5) * 0.02;
    return {
      found: true,
      latitude: Math.round((place.lat + dLat) * 1e6) / 1e6,
      longitude: Math.round((place.lon + dLon) * 1e6) / 1e6,
      score: h % 8 === 0 ? 0.35 : 0.9,
      label: address,
    };
  }
}
