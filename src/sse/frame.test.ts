import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeFrame, encodeJsonFrame, encodeResponseHead, encodeRetry } from "./frame.ts";

describe("SSE framing", () => {
  it("writes id, event and one data line, ended by a blank line", () => {
    const frame = encodeJsonFrame("record.updated", { a: 1 }, "42").toString();
    assert.equal(frame, 'id: 42\nevent: record.updated\ndata: {"a":1}\n\n');
  });

  it("keeps CR and LF inside values escaped in the JSON data line", () => {
    const frame = encodeJsonFrame("record.added", {
      commentaire: "ligne 1\r\nevent: forged\n\ndata: x",
    }).toString();
    assert.equal(frame.split("\n").filter((line) => line.startsWith("event:")).length, 1);
    assert.ok(frame.endsWith("\n\n"));
    assert.equal(frame.indexOf("\n\n"), frame.length - 2, "only one frame terminator");
  });

  it("splits multi-line data into several data fields", () => {
    assert.equal(encodeFrame({ data: "a\nb" }).toString(), "data: a\ndata: b\n\n");
  });

  it("refuses a line break in an id or an event name", () => {
    assert.throws(() => encodeFrame({ id: "1\nevent: x", data: "" }));
    assert.throws(() => encodeFrame({ event: "a\rb", data: "" }));
  });

  it("writes the retry hint and a response head with anti-buffering headers", () => {
    assert.equal(encodeRetry(3000).toString(), "retry: 3000\n\n");
    const head = encodeResponseHead({ "Access-Control-Allow-Origin": "https://a.fr" }).toString();
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /Cache-Control: no-cache, no-transform\r\n/);
    assert.match(head, /X-Accel-Buffering: no\r\n/);
    assert.ok(head.endsWith("\r\n\r\n"));
    assert.throws(() => encodeResponseHead({ "X-Bad": "a\r\nSet-Cookie: x" }));
  });
});
