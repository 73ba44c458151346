/**
 * Test double of the IGN Géoplateforme geocoder, `GET /search?q=…&index=address&limit=1`,
 * answering in the documented shapes of the address index (national address base, BAN):
 * - found: a GeoJSON `FeatureCollection` whose features are `Point`s, `coordinates` =
 *   [lon, lat], `properties` with `label`, `score` (0–1), `type` (housenumber, street,
 *   locality, municipality), `postcode`, `citycode`, `city`, `context`, `_type: "address"`;
 * - not found: the same collection with `features: []`;
 * - a query the service refuses (fewer than 3 characters, or not starting with a letter or a
 *   digit): 400 `{code, message}`;
 * - over 50 requests/s per client: 429 with `Retry-After` (seconds);
 * - 5xx `{code, message}`; a request that never gets an answer (timeout).
 * Addresses are known when a test registers them; any other address is "not found". Test
 * hooks: `failNext` queues failures for the next requests, `requests` logs what was asked and
 * when (ms, performance.now()).
 */
import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface KnownAddress {
  latitude: number;
  longitude: number;
  score: number;
  label: string;
  type?: "housenumber" | "street" | "locality" | "municipality";
  postcode: string;
  citycode: string;
  city: string;
  context: string;
}

export type Failure =
  | { kind: "429"; retryAfterSeconds: number }
  | { kind: "5xx"; status: 500 | 502 | 503 | 504 }
  | { kind: "timeout" };

export interface DoubleRequest {
  q: string;
  index: string | null;
  limit: string | null;
  at: number;
  /** What the double did. */
  answer: "found" | "not-found" | "400" | "429" | "5xx" | "timeout";
}

export class GeoplateformeDouble {
  readonly #server: Server;
  readonly #known = new Map<string, KnownAddress>();
  readonly #failures: Failure[] = [];
  readonly #hanging = new Set<ServerResponse>();
  readonly requests: DoubleRequest[] = [];
  url = "";

  private constructor() {
    this.#server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://double");
      if (request.method !== "GET" || url.pathname !== "/search") {
        this.#json(response, 404, { code: 404, message: "Not found" });
        return;
      }
      const q = url.searchParams.get("q") ?? "";
      const log = (answer: DoubleRequest["answer"]) =>
        this.requests.push({
          q,
          index: url.searchParams.get("index"),
          limit: url.searchParams.get("limit"),
          at: performance.now(),
          answer,
        });
      const failure = this.#failures.shift();
      if (failure?.kind === "429") {
        log("429");
        response.setHeader("Retry-After", String(failure.retryAfterSeconds));
        this.#json(response, 429, { code: 429, message: "Too Many Requests" });
        return;
      }
      if (failure?.kind === "5xx") {
        log("5xx");
        this.#json(response, failure.status, {
          code: failure.status,
          message: "Service Unavailable",
        });
        return;
      }
      if (failure?.kind === "timeout") {
        log("timeout");
        this.#hanging.add(response);
        return;
      }
      if (q.trim().length < 3 || q.trim().length > 200 || !/^[\p{L}\p{N}]/u.test(q.trim())) {
        log("400");
        this.#json(response, 400, {
          code: 400,
          message: "Failed parsing query",
          detail: ["q: must contain between 3 and 200 chars and start with a number or a letter"],
        });
        return;
      }
      const known = this.#known.get(q);
      log(known ? "found" : "not-found");
      this.#json(response, 200, {
        type: "FeatureCollection",
        version: "draft",
        features: known ? [feature(known)] : [],
        attribution: "BAN",
        licence: "ETALAB-2.0",
        query: q,
        filters: { type: "address" },
        limit: Number(url.searchParams.get("limit") ?? 10),
      });
    });
  }

  static async start(): Promise<GeoplateformeDouble> {
    const double = new GeoplateformeDouble();
    double.#server.listen(0, "127.0.0.1");
    await once(double.#server, "listening");
    const { port } = double.#server.address() as AddressInfo;
    double.url = `http://127.0.0.1:${port}`;
    return double;
  }

  /** The service knows `address` (the exact `q` text). */
  know(address: string, known: KnownAddress): void {
    this.#known.set(address, known);
  }

  /** The next requests fail, in this order, before answers resume. */
  failNext(...failures: Failure[]): void {
    this.#failures.push(...failures);
  }

  requestsFor(q: string): DoubleRequest[] {
    return this.requests.filter((request) => request.q === q);
  }

  async close(): Promise<void> {
    for (const response of this.#hanging) response.destroy();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, "close");
  }

  #json(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
    });
    response.end(text);
  }
}

function feature(known: KnownAddress) {
  return {
    type: "Feature",
    geometry: { type: "Point", coordinates: [known.longitude, known.latitude] },
    properties: {
      label: known.label,
      score: known.score,
      type: known.type ?? "housenumber",
      postcode: known.postcode,
      citycode: known.citycode,
      city: known.city,
      context: known.context,
      importance: 0.6,
      _type: "address",
    },
  };
}
