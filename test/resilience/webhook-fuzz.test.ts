import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { gristRow, startTestRelay, type TestRelay } from "../support/test-relay.ts";

const ENDPOINTS = ["/webhooks/grist", "/webhook/grist-realtime"] as const;

/** Grist's cell encodings (grist.md §1.2), with arbitrary contents. */
const gristCell = fc.letrec((tie) => ({
  cell: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 2 }),
    fc
      .tuple(fc.constant("L"), fc.array(tie("cell"), { maxLength: 5 }))
      .map(([c, items]) => [c, ...items]),
    fc.tuple(fc.constant("E"), fc.string(), fc.string()),
    fc.tuple(fc.constantFrom("D", "d"), fc.oneof(fc.double(), fc.integer()), fc.string()),
    fc.tuple(fc.constant("R"), fc.string(), fc.oneof(fc.integer(), fc.string())),
    fc.tuple(fc.constant("r"), fc.string(), fc.array(fc.integer(), { maxLength: 5 })),
    fc.tuple(fc.constant("O"), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 1 }))),
    fc.constantFrom(["P"], ["C"], ["U", "x"], ["S"], [], ["Z", 1]),
  ),
})).cell;

/** Rows shaped like Grist's, with random ids, column ids (some the mapping knows) and cells. */
const gristRows = fc.array(
  fc
    .tuple(
      fc.oneof(
        // Mostly valid ids, so most rows reach decoding and storage.
        { arbitrary: fc.integer({ min: 1, max: 3000 }), weight: 6 },
        fc.integer({ min: -2, max: 0 }),
        fc.constant(Number.MAX_SAFE_INTEGER + 2),
        fc.double(),
        fc.string(),
      ),
      fc.dictionary(
        fc.oneof(
          fc.constantFrom(
            "Statut",
            "Localisation",
            "Derniere_MAJ",
            "ID2",
            "Priorite",
            "manualSort",
          ),
          fc.string({ maxLength: 300 }),
        ),
        gristCell,
        { maxKeys: 8 },
      ),
    )
    .map(([id, columns]) => ({ ...columns, id })),
  { maxLength: 5 },
);

const guideBodies = fc.oneof(
  fc.record({
    id: fc.oneof(fc.integer(), fc.string()),
    fields: fc.dictionary(fc.string(), gristCell),
  }),
  fc.array(
    fc.record(
      { id: fc.oneof(fc.integer(), fc.string()), fields: fc.anything() },
      { requiredKeys: [] },
    ),
    { maxLength: 4 },
  ),
);

function nested(depth: number, open: string, close: string, inner = "1"): string {
  return `${open.repeat(depth)}${inner}${close.repeat(depth)}`;
}

describe("fuzzing the webhook endpoints", () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ env: { WEBHOOK_BODY_LIMIT_BYTES: "2097152" } });
  });
  after(() => relay.close());

  /** Sends one request; the relay must answer 2xx or 4xx, never fail or drop the connection. */
  async function send(path: string, body: string | Uint8Array, contentType: string | null) {
    const headers: Record<string, string> = {};
    if (contentType !== null) headers["Content-Type"] = contentType;
    const payload = typeof body === "string" ? body : new Uint8Array(body);
    const response = await fetch(`${relay.url}${path}`, { method: "POST", headers, body: payload });
    const text = await response.text();
    assert.ok(
      response.status >= 200 && response.status < 500,
      `${path} answered ${response.status}: ${text.slice(0, 300)}`,
    );
    if (response.status >= 400) {
      const error = (JSON.parse(text) as { error?: { code?: string } }).error;
      assert.match(error?.code ?? "", /^RELAY_ERR_/, "a 4xx names its error code");
    }
    return response.status;
  }

  it("answers random JSON with 2xx or 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.jsonValue(), async (path, value) => {
        await send(path, JSON.stringify(value) ?? "null", "application/json");
      }),
      { numRuns: 150 },
    );
  });

  it("answers random Grist rows and guide bodies with 2xx or 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), gristRows, async (path, rows) => {
        await send(path, JSON.stringify(rows), "application/json");
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(guideBodies, async (body) => {
        await send("/webhook/grist-realtime", JSON.stringify(body), "application/json");
      }),
      { numRuns: 100 },
    );
  });

  it("answers huge strings, deep nesting and oversized bodies with 2xx or 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.integer({ min: 10_000, max: 1_500_000 }),
        fc.constantFrom("Commentaire", "Statut", "ID2", "Colonne_inconnue"),
        async (path, length, column) => {
          await send(
            path,
            JSON.stringify([gristRow(5000, { [column]: "é".repeat(length / 2) })]),
            "application/json",
          );
        },
      ),
      { numRuns: 12 },
    );
    for (const path of ENDPOINTS) {
      for (const depth of [50, 5_000, 200_000]) {
        await send(path, `[{"id": 1, "Statut": ${nested(depth, "[", "]")}}]`, "application/json");
        await send(path, nested(depth, '{"a":', "}"), "application/json");
        await send(
          path,
          `[{"id": 2, "Commentaire": ${nested(depth, '["L",', "]")}}]`,
          "application/json",
        );
      }
      assert.equal(await send(path, `[${" ".repeat(3_000_000)}]`, "application/json"), 413);
    }
  });

  it("answers invalid UTF-8 and wrong content types with 2xx or 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.uint8Array({ maxLength: 2000 }),
        async (path, bytes) => {
          await send(path, bytes, "application/json");
        },
      ),
      { numRuns: 100 },
    );
    const row = JSON.stringify([gristRow(6000)]);
    // Valid JSON around bytes that are not UTF-8 (a lone continuation byte, an overlong form).
    const invalid = Buffer.concat([
      Buffer.from('[{"id": 6001, "Commentaire": "'),
      Buffer.from([0x80, 0xc0, 0xaf, 0xff]),
      Buffer.from('"}]'),
    ]);
    for (const path of ENDPOINTS) await send(path, invalid, "application/json; charset=utf-8");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ENDPOINTS),
        fc.oneof(
          fc.constantFrom(
            null,
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json-patch+json",
            "application/jsonx",
            "text/json",
            "application/json; charset=latin1",
            "APPLICATION/JSON",
          ),
          fc.string({ maxLength: 60 }),
        ),
        async (path, contentType) => {
          try {
            await send(path, row, contentType);
          } catch (error) {
            // fetch refuses some header values (control characters) before sending anything.
            if ((error as Error).name !== "TypeError") throw error;
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("keeps serving afterwards: alive, and a valid webhook is still ingested and streamed", async () => {
    assert.equal((await fetch(`${relay.url}/livez`)).status, 200);
    const response = await relay.postWebhook([gristRow(9999, { Statut: "Bloqué" })]);
    assert.equal(response.status, 200);
    const { events } = (await (await fetch(`${relay.url}/api/events?limit=1`)).json()) as {
      events: { record: { id: number; statut: string } }[];
    };
    assert.deepEqual(
      events.map((e) => [e.record.id, e.record.statut]),
      [[9999, "Bloqué"]],
    );
  });
});
