import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pluginApiUrl } from "./grist-origin.ts";

describe("pluginApiUrl", () => {
  it("prefers the configured Grist URL and keeps its path prefix", () => {
    assert.equal(
      pluginApiUrl({
        configured: "https://grist.example.gouv.fr/grist",
        ancestorOrigins: ["https://evil.example"],
        referrer: "",
      }),
      "https://grist.example.gouv.fr/grist/grist-plugin-api.js",
    );
  });

  it("falls back to the embedding page's origin, then to the referrer", () => {
    assert.equal(
      pluginApiUrl({
        configured: null,
        ancestorOrigins: ["http://localhost:8484"],
        referrer: "https://other.example/o/docs/x",
      }),
      "http://localhost:8484/grist-plugin-api.js",
    );
    assert.equal(
      pluginApiUrl({
        configured: null,
        ancestorOrigins: [],
        referrer: "https://docs.getgrist.com/doc/abc/p/2",
      }),
      "https://docs.getgrist.com/grist-plugin-api.js",
    );
  });

  it("refuses non-http origins and gives null outside any embedding page", () => {
    assert.equal(
      pluginApiUrl({ configured: "javascript:alert(1)", ancestorOrigins: [], referrer: "" }),
      null,
    );
    assert.equal(
      pluginApiUrl({
        configured: null,
        ancestorOrigins: ["file://"],
        referrer: "data:text/html,x",
      }),
      null,
    );
    assert.equal(pluginApiUrl({ configured: null, ancestorOrigins: [], referrer: "" }), null);
  });
});
