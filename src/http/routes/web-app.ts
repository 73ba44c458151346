/**
 * Serves the dashboard built into `web/dist` (`npm run build:web`): the standalone page at `/`,
 * the Grist custom widget at `/widget/` with its manifest, hashed assets under `/assets/`, and
 * `/app-config.json` (what the page needs to know: tiles, heartbeat, title, Grist URL, whether
 * a token is required).
 *
 * Files are read once into memory (a few hundred kilobytes) with gzip and brotli copies, and
 * looked up by exact path: a request path is never joined to a filesystem path, so `..` and
 * encoded variants cannot reach outside the build.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, gzip, constants as zlibConstants } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RelayError } from "../../errors.ts";

export interface WebAppOptions {
  /** The build output, usually `web/dist`. */
  distDir: string;
  /** Leaflet tile URL template, e.g. `https://tile.openstreetmap.org/{z}/{x}/{y}.png`. */
  tileUrl: string;
  tileAttribution: string;
  /** The SSE heartbeat period (ms): the page treats twice this silence as a dead stream. */
  heartbeatMs: number;
  title: string;
  /** Grist's public URL: the only origin allowed to frame the widget and serve its API script. */
  gristUrl: string | null;
  /** The SSE `retry:` hint (ms), which EventSource hides from scripts. Defaults to 3000. */
  retryMs?: number;
  /** Whether streams need a token: the widget learns it here instead of from a 401. */
  authRequired: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
};
const COMPRESSIBLE = new Set([".html", ".js", ".css", ".json", ".map", ".svg", ".txt"]);
/** Anything bigger is not something this build produces. */
const MAX_FILE_BYTES = 5 * 1024 * 1024;
const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";

interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  brotli: Buffer | null;
  contentType: string;
  etag: string;
}

interface Build {
  files: Map<string, StaticFile>;
  /** mtime of index.html when read: a rebuild while running is picked up. */
  indexMtimeMs: number;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"));
}

async function loadBuild(distDir: string): Promise<Build | null> {
  let indexMtimeMs: number;
  try {
    indexMtimeMs = (await stat(join(distDir, "index.html"))).mtimeMs;
  } catch {
    return null;
  }
  const files = new Map<string, StaticFile>();
  for (const path of await listFiles(distDir)) {
    const extension = extname(path).toLowerCase();
    const body = await readFile(join(distDir, path));
    if (body.length > MAX_FILE_BYTES) continue;
    const compress = COMPRESSIBLE.has(extension) && body.length > 1024;
    files.set(path, {
      body,
      gzip: compress ? await gzipAsync(body, { level: 9 }) : null,
      brotli: compress
        ? await brotliAsync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 10 } })
        : null,
      contentType: CONTENT_TYPES[extension] ?? "application/octet-stream",
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    });
  }
  return { files, indexMtimeMs };
}

/**
 * The CSP source for map tiles: `https://{s}.tile.example.org/{z}/{x}/{y}.png` gives
 * `https://*.tile.example.org`. The value goes into a header, so anything but a plain host
 * falls back to the scheme alone (never lets `;` or spaces from configuration through).
 */
export function tileSource(tileUrl: string): string {
  const match = /^(https?):\/\/([^/?#]+)/i.exec(tileUrl.trim());
  if (!match) return "https:";
  const scheme = (match[1] ?? "https").toLowerCase();
  const host = (match[2] ?? "").replace(/^\{s\}\./i, "*.");
  return /^(\*\.)?[a-z0-9.-]+(:\d{1,5})?$/i.test(host) ? `${scheme}://${host}` : `${scheme}:`;
}

/** Grist's origin for the widget CSP, or null when not configured or not a plain http(s) URL. */
export function gristOrigin(gristUrl: string | null): string | null {
  if (!gristUrl) return null;
  try {
    const url = new URL(gristUrl);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

export function standaloneCsp(tiles: string): string {
  return [
    "default-src 'none'",
    // No 'unsafe-inline' anywhere: a comment that slipped into markup could not run.
    "script-src 'self'",
    // Leaflet and Chart.js position elements through element.style (CSSOM), which CSP allows;
    // no inline <style> or style="" is needed.
    "style-src 'self'",
    `img-src 'self' data: ${tiles}`,
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function widgetCsp(tiles: string, grist: string | null): string {
  // Without GRIST_URL the relay cannot know which Grist embeds the widget, so any https origin
  // (and local development servers) may frame it and provide grist-plugin-api.js. Setting
  // GRIST_URL narrows both to that Grist alone: do so in production.
  const gristSources = grist ?? "https: http://localhost:* http://127.0.0.1:*";
  return [
    "default-src 'none'",
    `script-src 'self' ${gristSources}`,
    // grist-plugin-api.js injects Grist's theme as a <style> element (attachCssThemeVars), which
    // needs 'unsafe-inline' for styles. Scripts stay locked down.
    "style-src 'self' 'unsafe-inline'",
    `img-src 'self' data: ${tiles}`,
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${gristSources}`,
  ].join("; ");
}

function acceptedEncoding(request: FastifyRequest): "br" | "gzip" | null {
  const header = String(request.headers["accept-encoding"] ?? "").toLowerCase();
  const accepts = (name: string) =>
    header
      .split(",")
      .map((part) => part.trim())
      .some(
        (part) => part === name || (part.startsWith(`${name};`) && !/;\s*q=0(\.0*)?$/.test(part)),
      );
  if (accepts("br")) return "br";
  if (accepts("gzip")) return "gzip";
  return null;
}

function notFound(reply: FastifyReply, path: string) {
  const error = new RelayError("RELAY_ERR_NOT_FOUND", `fichier introuvable : ${path}`);
  return reply.code(404).header("Cache-Control", "no-store").send(error.toBody());
}

export function registerWebApp(app: FastifyInstance, options: WebAppOptions): void {
  const tiles = tileSource(options.tileUrl);
  const csp = {
    standalone: standaloneCsp(tiles),
    widget: widgetCsp(tiles, gristOrigin(options.gristUrl)),
  };
  const appConfig = {
    tileUrl: options.tileUrl,
    tileAttribution: options.tileAttribution,
    heartbeatMs: options.heartbeatMs,
    retryMs: options.retryMs ?? 3_000,
    title: options.title,
    gristUrl: options.gristUrl,
    authRequired: options.authRequired,
  };

  let build: Promise<Build | null> = loadBuild(options.distDir);
  // Checked at most once a second, on page loads only: a rebuild is served without a restart.
  let lastCheck = Date.now();
  async function currentBuild(isPage: boolean): Promise<Build | null> {
    const loaded = await build;
    if (!isPage && loaded) return loaded;
    if (Date.now() - lastCheck < 1_000) return loaded;
    lastCheck = Date.now();
    const mtime = await stat(join(options.distDir, "index.html")).then(
      (info) => info.mtimeMs,
      () => null,
    );
    if (mtime !== (loaded?.indexMtimeMs ?? null)) build = loadBuild(options.distDir);
    return build;
  }

  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    path: string,
    kind: "standalone" | "widget" | "asset" | "document",
  ) {
    const loaded = await currentBuild(kind !== "asset");
    if (!loaded) {
      const error = new RelayError(
        "RELAY_ERR_WEB_NOT_BUILT",
        "l'application web n'est pas construite : lancez `npm run build:web` puis redémarrez le relais",
      );
      return reply.code(503).header("Cache-Control", "no-store").send(error.toBody());
    }
    const file = loaded.files.get(path);
    if (!file) return notFound(reply, path);

    reply.header("X-Content-Type-Options", "nosniff");
    reply.header("Referrer-Policy", "strict-origin-when-cross-origin");
    reply.header("Cache-Control", kind === "asset" ? IMMUTABLE : REVALIDATE);
    reply.header("ETag", file.etag);
    reply.header("Vary", "Accept-Encoding");
    if (kind === "standalone") {
      reply.header("Content-Security-Policy", csp.standalone);
      reply.header("X-Frame-Options", "DENY");
    } else if (kind === "widget") {
      reply.header("Content-Security-Policy", csp.widget);
    }
    if (request.headers["if-none-match"] === file.etag) return reply.code(304).send();

    const encoding = acceptedEncoding(request);
    const body = encoding === "br" ? file.brotli : encoding === "gzip" ? file.gzip : null;
    reply.type(file.contentType);
    if (body && encoding) {
      reply.header("Content-Encoding", encoding);
      return reply.send(body);
    }
    return reply.send(file.body);
  }

  app.get("/", (request, reply) => serve(request, reply, "index.html", "standalone"));
  app.get("/index.html", (request, reply) => serve(request, reply, "index.html", "standalone"));

  // Relative redirect (works behind a reverse proxy sub-path) that keeps the query string Grist
  // appends to widget URLs (access, theme, language…).
  app.get("/widget", (request, reply) => {
    const query = request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : "";
    return reply.code(308).header("Location", `widget/${query}`).send();
  });
  app.get<{ Params: { "*": string } }>("/widget/*", (request, reply) => {
    const rest = request.params["*"];
    if (rest === "" || rest === "index.html")
      return serve(request, reply, "widget/index.html", "widget");
    return serve(request, reply, `widget/${rest}`, "document");
  });
  app.get<{ Params: { "*": string } }>("/assets/*", (request, reply) =>
    serve(request, reply, `assets/${request.params["*"]}`, "asset"),
  );

  app.get("/app-config.json", (_request, reply) => {
    reply.header("Cache-Control", REVALIDATE);
    reply.header("X-Content-Type-Options", "nosniff");
    return reply.send(appConfig);
  });
}
