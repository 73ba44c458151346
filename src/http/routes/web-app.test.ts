import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { installErrorHandling } from "../error-handler.ts";
import { registerWebApp, tileSource, type WebAppOptions } from "./web-app.ts";

const bigScript = `console.log(${JSON.stringify("x".repeat(4000))});`;

function makeDist(): string {
  const dir = mkdtempSync(join(tmpdir(), "web-app-test-"));
  mkdirSync(join(dir, "assets", "leaflet-abc", "images"), { recursive: true });
  mkdirSync(join(dir, "widget"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>standalone</title>");
  writeFileSync(join(dir, "widget", "index.html"), "<!doctype html><title>widget</title>");
  writeFileSync(
    join(dir, "widget", "manifest.json"),
    '[{"name":"x","widgetId":"@x/y","url":"./"}]',
  );
  writeFileSync(join(dir, "assets", "standalone-ABC.js"), bigScript);
  writeFileSync(
    join(dir, "assets", "leaflet-abc", "images", "layers.png"),
    Buffer.from([0x89, 0x50, 0x4e, 0x47]),
  );
  return dir;
}

const baseOptions: Omit<WebAppOptions, "distDir"> = {
  tileUrl: "https://{s}.tile.example.org/{z}/{x}/{y}.png",
  tileAttribution: "© contributeurs OpenStreetMap",
  heartbeatMs: 15_000,
  title: "Interventions — Marseille",
  gristUrl: "https://grist.example.gouv.fr/",
  retryMs: 2_000,
  authRequired: true,
};

async function appFor(options: WebAppOptions): Promise<FastifyInstance> {
  const app = Fastify();
  // As in the relay: paths outside this plugin's routes get the relay's JSON 404.
  installErrorHandling(app);
  registerWebApp(app, options);
  await app.ready();
  return app;
}

describe("registerWebApp", () => {
  let dist: string;
  let app: FastifyInstance;

  before(async () => {
    dist = makeDist();
    app = await appFor({ ...baseOptions, distDir: dist });
  });
  after(async () => {
    await app.close();
    rmSync(dist, { recursive: true, force: true });
  });

  it("serves the standalone page with a CSP that forbids inline scripts and framing", async () => {
    const response = await app.inject({ url: "/" });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers["content-type"] ?? "", /^text\/html/);
    assert.match(response.body, /standalone/);
    const csp = String(response.headers["content-security-policy"]);
    assert.match(csp, /script-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /img-src 'self' data: https:\/\/\*\.tile\.example\.org;/);
    assert.equal(response.headers["x-frame-options"], "DENY");
    assert.equal(response.headers["x-content-type-options"], "nosniff");
    assert.equal(response.headers["referrer-policy"], "strict-origin-when-cross-origin");
    assert.equal(response.headers["cache-control"], "no-cache");
  });

  it("serves the widget framable by the configured Grist only, allowing its plugin API script", async () => {
    const response = await app.inject({ url: "/widget/?access=read%20table&theme=dark" });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /widget/);
    const csp = String(response.headers["content-security-policy"]);
    assert.match(csp, /script-src 'self' https:\/\/grist\.example\.gouv\.fr;/);
    assert.match(csp, /frame-ancestors https:\/\/grist\.example\.gouv\.fr$/);
    assert.equal(response.headers["x-frame-options"], undefined);
  });

  it("redirects /widget to widget/ keeping the query string Grist adds", async () => {
    const response = await app.inject({ url: "/widget?access=full&language=fr" });
    assert.equal(response.statusCode, 308);
    assert.equal(response.headers.location, "widget/?access=full&language=fr");
  });

  it("serves the widget manifest as JSON that revalidates", async () => {
    const response = await app.inject({ url: "/widget/manifest.json" });
    assert.equal(response.statusCode, 200);
    assert.match(response.headers["content-type"] ?? "", /^application\/json/);
    assert.equal(response.json()[0].url, "./");
    assert.equal(response.headers["cache-control"], "no-cache");
  });

  it("serves hashed assets with a long cache, compressed when the client accepts it", async () => {
    const plain = await app.inject({ url: "/assets/standalone-ABC.js" });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.body, bigScript);
    assert.match(plain.headers["content-type"] ?? "", /^text\/javascript/);
    assert.equal(plain.headers["cache-control"], "public, max-age=31536000, immutable");
    assert.equal(plain.headers["content-security-policy"], undefined);

    const gz = await app.inject({
      url: "/assets/standalone-ABC.js",
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(gz.headers["content-encoding"], "gzip");
    assert.equal(gunzipSync(gz.rawPayload).toString(), bigScript);

    const br = await app.inject({
      url: "/assets/standalone-ABC.js",
      headers: { "accept-encoding": "gzip, br" },
    });
    assert.equal(br.headers["content-encoding"], "br");
    assert.equal(brotliDecompressSync(br.rawPayload).toString(), bigScript);
    assert.ok(br.rawPayload.length < bigScript.length / 4);

    const image = await app.inject({
      url: "/assets/leaflet-abc/images/layers.png",
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(image.headers["content-type"], "image/png");
    assert.equal(image.headers["content-encoding"], undefined);
  });

  it("answers 304 when the ETag still matches", async () => {
    const first = await app.inject({ url: "/" });
    const again = await app.inject({
      url: "/",
      headers: { "if-none-match": String(first.headers.etag) },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, "");
  });

  it("answers 404 in JSON for unknown files and for every path traversal attempt", async () => {
    const attempts = [
      "/assets/nope.js",
      "/assets/..%2f..%2fpackage.json",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/assets/..\\..\\package.json",
      "/widget/../../package.json",
      "/widget/%2e%2e%2fassets%2fstandalone-ABC.js",
      "/assets//etc/passwd",
    ];
    for (const url of attempts) {
      const response = await app.inject({ url });
      // Some paths are normalised (dot segments) before routing: they reach the relay's own
      // JSON 404 instead of this plugin's, and none may serve a file.
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error.code, "RELAY_ERR_NOT_FOUND", url);
      assert.doesNotMatch(response.body, /"version"|console\.log/, url);
    }
  });

  it("never serves a file outside the build to a raw request that keeps its dot segments", async () => {
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = new URL(address);
    for (const path of [
      "/assets/../../package.json",
      "/assets/../../../etc/passwd",
      "/widget/../web-app.test.ts",
    ]) {
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), "127.0.0.1", () => {
          socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        });
        let data = "";
        socket.on("data", (chunk) => {
          data += chunk.toString();
        });
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
      assert.match(raw, /^HTTP\/1\.1 404/, path);
      assert.match(raw, /RELAY_ERR_NOT_FOUND/, path);
    }
  });

  it("gives the page its configuration", async () => {
    const response = await app.inject({ url: "/app-config.json" });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), {
      tileUrl: baseOptions.tileUrl,
      tileAttribution: baseOptions.tileAttribution,
      heartbeatMs: 15_000,
      retryMs: 2_000,
      title: "Interventions — Marseille",
      gristUrl: "https://grist.example.gouv.fr/",
      authRequired: true,
    });
  });

  it("picks up a rebuild without a restart", async () => {
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>rebuilt</title>");
    const future = new Date(Date.now() + 5_000);
    utimesSync(join(dist, "index.html"), future, future);
    // The rebuild check runs at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const response = await app.inject({ url: "/" });
    assert.match(response.body, /rebuilt/);
  });
});

describe("registerWebApp without a configured Grist URL", () => {
  it("lets any https origin or a local Grist frame the widget", async () => {
    const dist = makeDist();
    const app = await appFor({ ...baseOptions, gristUrl: null, distDir: dist });
    try {
      const csp = String(
        (await app.inject({ url: "/widget/" })).headers["content-security-policy"],
      );
      assert.match(csp, /frame-ancestors https: http:\/\/localhost:\* http:\/\/127\.0\.0\.1:\*$/);
      assert.match(csp, /script-src 'self' https: http:\/\/localhost:\*/);
    } finally {
      await app.close();
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe("registerWebApp before the web app is built", () => {
  it("answers 503 telling to run npm run build:web", async () => {
    const app = await appFor({
      ...baseOptions,
      distDir: join(tmpdir(), "no-such-web-dist-for-tests"),
    });
    try {
      const response = await app.inject({ url: "/" });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().error.code, "RELAY_ERR_WEB_NOT_BUILT");
      assert.match(response.json().error.message, /npm run build:web/);
    } finally {
      await app.close();
    }
  });
});

describe("tileSource", () => {
  it("turns a tile template into a CSP source and refuses anything that is not a host", () => {
    assert.equal(
      tileSource("https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
      "https://tile.openstreetmap.org",
    );
    assert.equal(
      tileSource("https://{s}.tile.osm.fr/osmfr/{z}/{x}/{y}.png"),
      "https://*.tile.osm.fr",
    );
    assert.equal(
      tileSource("http://localhost:8080/tiles/{z}/{x}/{y}.png"),
      "http://localhost:8080",
    );
    assert.equal(tileSource("https://evil.example; script-src *"), "https:");
    assert.equal(tileSource("https://{r}.tiles.example/{z}"), "https:");
    assert.equal(tileSource("/tiles/{z}/{x}/{y}.png"), "https:");
  });
});
