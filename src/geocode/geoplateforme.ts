/**
 * The IGN Géoplateforme geocoder (national address base, BAN): `GET {url}/search?q=…
 * &index=address&limit=1` answers a GeoJSON FeatureCollection whose first feature is the best
 * match, `geometry.coordinates` = [lon, lat], `properties.score` 0–1. Only the address text
 * leaves the relay.
 */
import { z } from "zod";
import { readSmallJson } from "../alerts/delivery.ts";
import { parseRetryAfter } from "../retry/retry-after.ts";
import { MAX_ADDRESS_LENGTH } from "./address-key.ts";
import { type GeocodeAnswer, type Geocoder, GeocoderError } from "./geocoder.ts";

/** The part of the answer the relay reads; other properties (citycode, context…) are ignored. */
const SearchAnswerSchema = z.object({
  type: z.literal("FeatureCollection"),
  features: z.array(
    z.object({
      geometry: z.object({
        type: z.literal("Point"),
        coordinates: z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90)]),
      }),
      properties: z.object({
        score: z.number().min(0).max(1),
        label: z.string().max(500),
      }),
    }),
  ),
});

export interface GeoplateformeOptions {
  /** Base URL; the relay calls `${url}/search`. */
  url: string;
  /** Per request, in ms. */
  timeoutMs: number;
}

export class GeoplateformeGeocoder implements Geocoder {
  readonly name = "geoplateforme";
  readonly #searchUrl: string;
  readonly #timeoutMs: number;

  constructor(options: GeoplateformeOptions) {
    this.#searchUrl = `${options.url.replace(/\/+$/, "")}/search`;
    this.#timeoutMs = options.timeoutMs;
  }

  async search(address: string): Promise<GeocodeAnswer> {
    const url = new URL(this.#searchUrl);
    url.searchParams.set("q", address.slice(0, MAX_ADDRESS_LENGTH));
    url.searchParams.set("index", "address");
    url.searchParams.set("limit", "1");
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { Accept: "application/json" },
        signal: AbortSignal.timeout(this.#timeoutMs),
        redirect: "error",
      });
    } catch (error) {
      const timeout = (error as Error).name === "TimeoutError";
      throw new GeocoderError(timeout ? "geocoder timed out" : "geocoder unreachable", {
        status: null,
        retryable: true,
      });
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      throw new GeocoderError(`geocoder answered ${response.status}`, {
        status: response.status,
        retryable: true,
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), Date.now()),
      });
    }
    // 400: the service refuses this text as a query (too short, starts with a symbol): for
    // this address that is as good as "not found", and asking again would not change it.
    if (response.status === 400) {
      await response.body?.cancel();
      return { found: false };
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new GeocoderError(`geocoder answered ${response.status}`, {
        status: response.status,
        retryable: false,
      });
    }
    // Bounded read: a limit=1 answer is about 1 KB; a larger body is not a search answer.
    const parsed = SearchAnswerSchema.safeParse(await readSmallJson(response));
    if (!parsed.success) {
      throw new GeocoderError("geocoder answer is not a FeatureCollection of points", {
        status: response.status,
        retryable: false,
      });
    }
    const best = parsed.data.features[0];
    if (!best) return { found: false };
    const [longitude, latitude] = best.geometry.coordinates;
    return {
      found: true,
      latitude,
      longitude,
      score: best.properties.score,
      label: best.properties.label,
    };
  }
}
