/**
 * The deployment guide cites the files it asks to copy and the tests that verify each step:
 * every one of them must exist, so the guide cannot drift from the repository.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { REPO } from "../support/deploy/dockerfile.ts";

const GUIDES = ["docs/deploiement.md", "docs/reverse-proxy.md", "docs/exploitation.md"];

describe("the deployment guides", () => {
  for (const guide of GUIDES) {
    it(`${guide} cites only files that exist`, () => {
      const text = readFileSync(join(REPO, guide), "utf8");
      const cited = new Set(
        [
          ...text.matchAll(
            /(?<![\w/.-])((?:deploy|test|src)\/[\w./-]+\.(?:ts|sh|conf|service|yml))/g,
          ),
        ].map((match) => match[1] ?? ""),
      );
      assert.ok(cited.size > 0);
      const missing = [...cited].filter((file) => !existsSync(join(REPO, file)));
      assert.deepEqual(missing, []);
    });
  }

  it("marks every numbered step of deploiement.md as tested or not verifiable here", () => {
    const text = readFileSync(join(REPO, "docs/deploiement.md"), "utf8");
    const sections = text.split(/\n(?=## \d+\. )/).slice(1);
    assert.ok(sections.length >= 8);
    for (const section of sections) {
      const title = section.split("\n")[0];
      assert.match(section, /Vérifié par `|Non vérifiable ici/, `${title}`);
    }
  });
});
