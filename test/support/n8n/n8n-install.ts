/**
 * A real n8n for `npm run test:n8n`, installed once into a cache folder outside the clone and
 * reused: `npm install --ignore-scripts` (install scripts would try to download and build
 * modules the test never uses, e.g. Kafka's), then only the SQLite module n8n's database
 * needs is built from source against the headers of the Node running the tests (n8n 2.x
 * requires Node 24, which is the project's own).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export const N8N_VERSION = "2.41.1";

export interface N8nInstall {
  /** The cache folder holding node_modules. */
  dir: string;
  /** n8n's entry script, run with the test's own Node. */
  bin: string;
}

/** `GRIST_REALTIME_N8N_CACHE`, else `$XDG_CACHE_HOME` or `~/.cache`, then grist-realtime/. */
export function n8nCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.GRIST_REALTIME_N8N_CACHE) return env.GRIST_REALTIME_N8N_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "grist-realtime", `n8n-${N8N_VERSION}`);
}

/** The Node of the tests first on PATH, so npm and node-gyp build for it. */
export function pathWithOurNode(env: NodeJS.ProcessEnv): string {
  return `${dirname(process.execPath)}:${env.PATH ?? ""}`;
}

function run(command: string, args: string[], cwd: string, log: (line: string) => void) {
  log(`$ ${command} ${args.join(" ")}   (dans ${cwd})`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, PATH: pathWithOurNode(process.env) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-4000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} a échoué (${code}) :\n${tail}`)),
    );
  });
}

/**
 * Headers of the running Node for node-gyp: the official tarball layout (include/node beside
 * bin/), or the `node-<platform>-<arch>` package that the npm `node` package installs.
 */
function nodeHeadersDir(): string | null {
  const beside = join(dirname(process.execPath), "..");
  if (existsSync(join(beside, "include", "node", "node.h"))) return beside;
  const name = `node-${process.platform}-${process.arch}`;
  try {
    const resolved = createRequire(join(beside, "package.json")).resolve(`${name}/package.json`);
    const dir = dirname(resolved);
    if (existsSync(join(dir, "include", "node", "node.h"))) return dir;
  } catch {
    // Not installed through the npm `node` package.
  }
  return null;
}

export async function ensureN8n(log: (line: string) => void): Promise<N8nInstall> {
  const dir = n8nCacheDir(process.env);
  const bin = join(dir, "node_modules", "n8n", "bin", "n8n");
  const sqliteDir = join(dir, "node_modules", "sqlite3");
  const sqliteBinary = join(sqliteDir, "build", "Release", "node_sqlite3.node");
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, "package.json"))) {
      writeFileSync(join(dir, "package.json"), '{"name":"n8n-cache","private":true}\n');
    }
    await run(
      "npm",
      ["install", "--ignore-scripts", "--no-audit", "--no-fund", `n8n@${N8N_VERSION}`],
      dir,
      log,
    );
  }
  if (!existsSync(sqliteBinary)) {
    const headers = nodeHeadersDir();
    const gyp = join(dir, "node_modules", "node-gyp", "bin", "node-gyp.js");
    const args = [gyp, "rebuild", "--release", "-j", "2"];
    // Without local headers node-gyp downloads them, which needs access to nodejs.org.
    if (headers) args.push(`--nodedir=${headers}`);
    await run(process.execPath, args, sqliteDir, log);
  }
  return { dir, bin };
}
