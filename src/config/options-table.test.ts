import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { OPTIONS } from "./options.ts";
import { findOptionsTable, renderOptionsTable } from "./options-table.ts";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README's settings table", () => {
  it("lists every setting the relay reads, as --help describes it (npm run docs:config)", () => {
    const found = findOptionsTable(README);
    assert.ok(found, "settings table not found in README.md");
    const table = README.slice(found.start, found.end);
    for (const option of OPTIONS) assert.match(table, new RegExp(`\\| \`${option.env}\` \\|`));
    assert.equal(table, renderOptionsTable());
  });
});
