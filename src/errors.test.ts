import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_CODES, RelayError } from "./errors.ts";

describe("error codes", () => {
  it("are all documented with their HTTP status", () => {
    const doc = readFileSync(new URL("../docs/reference/erreurs.md", import.meta.url), "utf8");
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      assert.match(
        doc,
        new RegExp(`\\| \`${code}\` \\| ${status} \\|`),
        `${code} is listed in erreurs.md`,
      );
    }
  });

  it("turn into the JSON body every client receives", () => {
    const error = new RelayError("RELAY_ERR_CAPACITY", "plein", { retryAfterSeconds: 10 });
    assert.equal(error.statusCode, 503);
    assert.deepEqual(error.toBody(), { error: { code: "RELAY_ERR_CAPACITY", message: "plein" } });
  });
});
