/**
 * The geocoder seam: an address text in, a position (or "not found") out, one attempt per
 * call. Implementations: the IGN Géoplateforme (`geoplateforme.ts`), the demo's simulated one
 * (`simulated-geocoder.ts`). Rate limits, retries and the cache sit around it, in the service.
 */

/** What the geocoder answered for one address. */
export type GeocodeAnswer =
  | {
      found: true;
      latitude: number;
      longitude: number;
      /** 0–1: how sure the service is that this is the address. */
      score: number;
      /** The address as the service understood it ("12 Avenue du Prado 13008 Marseille"). */
      label: string;
    }
  | { found: false };

export class GeocoderError extends Error {
  /** HTTP status, or null when no answer came (network, timeout). */
  readonly status: number | null;
  /** Worth another attempt (429, 5xx, timeout, network). */
  readonly retryable: boolean;
  /** Delay the service asked for (Retry-After), in ms. */
  readonly retryAfterMs: number | null;

  constructor(
    message: string,
    details: { status: number | null; retryable: boolean; retryAfterMs?: number | null },
  ) {
    super(message);
    this.name = "GeocoderError";
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs ?? null;
  }
}

export interface Geocoder {
  /** Name for logs. */
  readonly name: string;
  /** One attempt; rejects with a GeocoderError when the service did not answer usefully. */
  search(address: string): Promise<GeocodeAnswer>;
}
