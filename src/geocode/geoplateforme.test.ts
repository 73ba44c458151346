import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { GeoplateformeDouble } from "../../test/support/geocoder/geoplateforme-double.ts";
import { GeocoderError } from "./geocoder.ts";
import { GeoplateformeGeocoder } from "./geoplateforme.ts";

const PRADO = "12 avenue du Prado, 13008 Marseille";

describe("the Géoplateforme client", () => {
  let double: GeoplateformeDouble;
  let client: GeoplateformeGeocoder;
  before(async () => {
    double = await GeoplateformeDouble.start();
    double.know(PRADO, {
      latitude: 43.2804,
      longitude: 5.3862,
      score: 0.96,
      label: "12 Avenue du Prado 13008 Marseille",
      postcode: "13008",
      citycode: "13208",
      city: "Marseille",
      context: "13, Bouches-du-Rhône, Provence-Alpes-Côte d'Azur",
    });
    // A trailing slash in GEOCODER_URL must not give "//search".
    client = new GeoplateformeGeocoder({ url: `${double.url}/`, timeoutMs: 300 });
  });
  after(() => double.close());

  it("reads [lon, lat] as longitude then latitude, with the score and label", async () => {
    assert.deepEqual(await client.search(PRADO), {
      found: true,
      latitude: 43.2804,
      longitude: 5.3862,
      score: 0.96,
      label: "12 Avenue du Prado 13008 Marseille",
    });
  });

  it("answers not found for an empty collection and for a query the service refuses (400)", async () => {
    assert.deepEqual(await client.search("1 rue Inconnue, 99999 Nulle-part"), { found: false });
    assert.deepEqual(await client.search("--"), { found: false });
    assert.deepEqual(
      double.requests.slice(-2).map((r) => r.answer),
      ["not-found", "400"],
    );
  });

  it("reports 429 with its Retry-After, 5xx and timeouts as worth retrying", async () => {
    double.failNext(
      { kind: "429", retryAfterSeconds: 3 },
      { kind: "5xx", status: 503 },
      { kind: "timeout" },
    );
    const failures: GeocoderError[] = [];
    for (let i = 0; i < 3; i++) {
      await client.search(PRADO).then(
        () => assert.fail("expected a failure"),
        (error: unknown) => {
          assert.ok(error instanceof GeocoderError);
          failures.push(error);
        },
      );
    }
    assert.deepEqual(
      failures.map((f) => [f.status, f.retryable, f.retryAfterMs]),
      [
        [429, true, 3000],
        [503, true, null],
        [null, true, null],
      ],
    );
    assert.match(failures[2]?.message ?? "", /timed out/);
  });

  it("sends nothing but the address text, truncated to the service's 200 characters", async () => {
    const long = `${"9 ".repeat(150)}rue Longue`;
    await client.search(long);
    const asked = double.requests.at(-1);
    assert.equal(asked?.q.length, 200);
    assert.deepEqual([asked?.index, asked?.limit], ["address", "1"]);
  });
});
