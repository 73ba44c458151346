/**
 * Builds the dashboard into web/dist (run `npm run build:web`):
 *   index.html            standalone page (`/`)
 *   widget/index.html     Grist custom widget (`/widget/`)
 *   widget/manifest.json  widget list for Grist's GRIST_WIDGET_LIST_URL
 *   assets/               content-hashed JS (ESM, split: map and chart code load with their
 *                         tab), CSS, Leaflet's stylesheet and images, favicon, département
 *                         outlines (the map's offline base layer)
 * No inline script or style anywhere: the relay's Content-Security-Policy forbids them.
 */
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";

const webDir = dirname(fileURLToPath(import.meta.url));
const distDir = join(webDir, "dist");
const assetsDir = join(distDir, "assets");
const require = createRequire(import.meta.url);

function shortHash(...parts: (string | Buffer)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("base64url").slice(0, 10).replace(/[-_]/g, "x");
}

/** Leaflet's CSS and its images, under a folder named after their content. */
async function copyLeafletAssets(): Promise<string> {
  const leafletDist = dirname(require.resolve("leaflet/dist/leaflet.css"));
  const css = await readFile(join(leafletDist, "leaflet.css"));
  const imageNames = (await readdir(join(leafletDist, "images"))).sort();
  const images = await Promise.all(
    imageNames.map((name) => readFile(join(leafletDist, "images", name))),
  );
  const folder = `leaflet-${shortHash(css, ...images)}`;
  await mkdir(join(assetsDir, folder, "images"), { recursive: true });
  await writeFile(join(assetsDir, folder, "leaflet.css"), css);
  await cp(join(leafletDist, "images"), join(assetsDir, folder, "images"), { recursive: true });
  return folder;
}

async function copyHashed(source: string, name: string, extension: string): Promise<string> {
  const content = await readFile(source);
  const file = `${name}-${shortHash(content)}.${extension}`;
  await writeFile(join(assetsDir, file), content);
  return file;
}

interface EntryOutputs {
  /** Entry file, relative to assets/. */
  entry: string;
  /** Chunks it imports statically (preloaded), relative to assets/. */
  preload: string[];
}

function entryOutputs(metafile: Metafile, entryPoint: string): EntryOutputs {
  for (const [output, info] of Object.entries(metafile.outputs)) {
    if (info.entryPoint !== entryPoint) continue;
    const preload = new Set<string>();
    const visit = (file: string) => {
      for (const imported of metafile.outputs[file]?.imports ?? []) {
        if (imported.kind !== "import-statement" || preload.has(imported.path)) continue;
        preload.add(imported.path);
        visit(imported.path);
      }
    };
    visit(output);
    const rel = (file: string) => relative(assetsDir, join(process.cwd(), file));
    return { entry: rel(output), preload: [...preload].map(rel) };
  }
  throw new Error(`no output for ${entryPoint}`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function htmlPage(options: {
  assetPrefix: string;
  css: string;
  favicon: string;
  outputs: EntryOutputs;
  title: string;
  bodyClass: string;
}): string {
  const a = (file: string) => escapeHtml(`${options.assetPrefix}${file}`);
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(options.title)}</title>
<link rel="icon" href="${a(options.favicon)}" type="image/svg+xml">
<link rel="stylesheet" href="${a(options.css)}">
${options.outputs.preload.map((file) => `<link rel="modulepreload" href="${a(file)}">`).join("\n")}
<script type="module" src="${a(options.outputs.entry)}"></script>
</head>
<body class="${options.bodyClass}">
<a class="skip-link" href="#contenu">Aller au contenu</a>
<div id="app" class="app"><p class="boot">Chargement du tableau de bord…</p></div>
<noscript><p class="boot">Ce tableau de bord a besoin de JavaScript.</p></noscript>
</body>
</html>
`;
}

/** Grist widget list entry (grist.md §4.8); the URL is relative to this manifest. */
function widgetManifest() {
  return [
    {
      name: "Interventions en temps réel",
      widgetId: "@grist-realtime/tableau-de-bord",
      url: "./",
      accessLevel: "read table",
      renderAfterReady: false,
      published: true,
      description:
        "Tableau de bord des interventions : compteurs, liste par priorité, carte, chronologie et statistiques, mis à jour en direct par le relais grist-realtime.",
      authors: [{ name: "grist-realtime" }],
    },
  ];
}

async function sizeReport(files: string[]) {
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const content = await readFile(join(assetsDir, file));
    raw += content.length;
    gzip += gzipSync(content, { level: 9 }).length;
  }
  return { raw, gzip };
}

export async function buildWeb(): Promise<{ initial: { raw: number; gzip: number } }> {
  await rm(distDir, { recursive: true, force: true });
  await mkdir(join(distDir, "widget"), { recursive: true });
  await mkdir(assetsDir, { recursive: true });

  const leafletFolder = await copyLeafletAssets();
  const favicon = await copyHashed(join(webDir, "src", "favicon.svg"), "favicon", "svg");
  // Département outlines for the map's offline base layer: fetched only when tiles fail.
  const outlines = await copyHashed(
    join(webDir, "src", "assets", "departements.geojson"),
    "departements",
    "json",
  );

  const js = await build({
    entryPoints: [join(webDir, "src", "standalone.ts"), join(webDir, "src", "widget.ts")],
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    minify: true,
    sourcemap: "linked",
    legalComments: "linked",
    outdir: assetsDir,
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    metafile: true,
    define: {
      __LEAFLET_CSS__: JSON.stringify(`./${leafletFolder}/leaflet.css`),
      __DEPARTEMENTS_OUTLINES__: JSON.stringify(`./${outlines}`),
    },
    logLevel: "warning",
  });
  const css = await build({
    entryPoints: [join(webDir, "src", "styles", "app.css")],
    bundle: true,
    minify: true,
    outdir: assetsDir,
    entryNames: "[name]-[hash]",
    metafile: true,
    logLevel: "warning",
  });
  const cssFile = relative(
    assetsDir,
    join(process.cwd(), Object.keys(css.metafile.outputs)[0] ?? ""),
  );
  const standalone = entryOutputs(
    js.metafile,
    relative(process.cwd(), join(webDir, "src", "standalone.ts")),
  );
  const widget = entryOutputs(
    js.metafile,
    relative(process.cwd(), join(webDir, "src", "widget.ts")),
  );

  const title = "Interventions en temps réel";
  await writeFile(
    join(distDir, "index.html"),
    htmlPage({
      assetPrefix: "assets/",
      css: cssFile,
      favicon,
      outputs: standalone,
      title,
      bodyClass: "standalone",
    }),
  );
  await writeFile(
    join(distDir, "widget", "index.html"),
    htmlPage({
      assetPrefix: "../assets/",
      css: cssFile,
      favicon,
      outputs: widget,
      title,
      bodyClass: "widget",
    }),
  );
  await writeFile(
    join(distDir, "widget", "manifest.json"),
    `${JSON.stringify(widgetManifest(), null, 2)}\n`,
  );

  const initial = await sizeReport([standalone.entry, ...standalone.preload, cssFile]);
  return { initial };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  const { initial } = await buildWeb();
  const files = await readdir(assetsDir, { recursive: true });
  let total = 0;
  for (const file of files) {
    const info = await stat(join(assetsDir, file));
    if (info.isFile()) total += info.size;
  }
  console.log(
    `web/dist construit en ${Date.now() - started} ms — page initiale : ${(initial.raw / 1024).toFixed(1)} Ko (${(initial.gzip / 1024).toFixed(1)} Ko gzip), assets au total : ${(total / 1024).toFixed(0)} Ko`,
  );
}
