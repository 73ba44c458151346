import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger, maskUrl } from "./logger.ts";

describe("logger", () => {
  it("masks credentials carried in URLs", () => {
    assert.equal(
      maskUrl("/events?token=eyJabc.def&statut=Bloqué&secret=s3cret"),
      "/events?token=[masqué]&statut=Bloqué&secret=[masqué]",
    );
    assert.equal(maskUrl("/webhooks/grist?event=add"), "/webhooks/grist?event=add");
  });

  it("writes JSON lines without the secrets it is handed", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const logger = createLogger("info", sink);
    logger.info(
      {
        req: { method: "GET", url: "/events?token=abc", headers: { authorization: "Bearer xyz" } },
        config: { WEBHOOK_SECRET: "webhook-secret-value", PORT: 8080 },
        grist: { apiKey: "grist-api-key-value" },
      },
      "hello",
    );
    const text = lines.join("");
    const entry = JSON.parse(text) as {
      msg: string;
      req: { url: string };
      config: { PORT: number };
    };
    assert.equal(entry.msg, "hello");
    assert.equal(entry.req.url, "/events?token=[masqué]");
    assert.equal(entry.config.PORT, 8080);
    for (const secret of ["abc", "xyz", "webhook-secret-value", "grist-api-key-value"]) {
      assert.ok(!text.includes(secret), `${secret} is not logged`);
    }
  });
});
