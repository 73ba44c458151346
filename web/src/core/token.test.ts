import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { extractToken, tokenRole } from "./token.ts";

describe("extractToken", () => {
  it("takes the token and gives back the URL without it", () => {
    const result = extractToken("https://relais.example/?statut=Bloqu%C3%A9&token=abc.def.ghi#x");
    assert.equal(result.token, "abc.def.ghi");
    assert.equal(result.cleanedUrl, "/?statut=Bloqu%C3%A9#x");
  });

  it("leaves URLs without a token alone", () => {
    assert.deepEqual(extractToken("https://relais.example/?statut=x"), {
      token: null,
      cleanedUrl: null,
    });
  });

  it("still cleans the URL when the token is empty or absurdly long", () => {
    assert.deepEqual(extractToken("https://relais.example/widget/?token="), {
      token: null,
      cleanedUrl: "/widget/",
    });
    assert.equal(extractToken(`https://relais.example/?token=${"a".repeat(10_000)}`).token, null);
  });
});

describe("tokenRole", () => {
  const jwt = (claims: unknown) =>
    `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.signature`;

  it("reads the role claim, and viewer when the claim is absent as the relay does", () => {
    assert.equal(tokenRole(jwt({ role: "admin", sub: "é" })), "admin");
    assert.equal(tokenRole(jwt({ sub: "x" })), "viewer");
  });

  it("gives null for what is not a JWT", () => {
    assert.equal(tokenRole("opaque"), null);
    assert.equal(tokenRole("a.%%%.c"), null);
  });
});
