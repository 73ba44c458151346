/**
 * Runs the cached n8n (see n8n-install.ts) with a throwaway user folder: its CLI for imports,
 * and the server on a free loopback port, with everything that would call out disabled.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import type { N8nInstall } from "./n8n-install.ts";
import { pathWithOurNode } from "./n8n-install.ts";

export { freePort } from "../wait.ts";

export interface N8nOptions {
  install: N8nInstall;
  userFolder: string;
  port: number;
  /** Variables the workflows read (RELAY_URL, GRIST_REALTIME_ALERT_SECRET…). */
  env: Record<string, string>;
}

function n8nEnv(options: N8nOptions): NodeJS.ProcessEnv {
  return {
    PATH: pathWithOurNode(process.env),
    HOME: options.userFolder,
    N8N_USER_FOLDER: options.userFolder,
    N8N_PORT: String(options.port),
    N8N_LISTEN_ADDRESS: "127.0.0.1",
    N8N_HOST: "127.0.0.1",
    WEBHOOK_URL: `http://127.0.0.1:${options.port}/`,
    // Nothing leaves the machine (n8n.md §1: the MCP registry module calls out otherwise).
    N8N_DIAGNOSTICS_ENABLED: "false",
    N8N_VERSION_NOTIFICATIONS_ENABLED: "false",
    N8N_TEMPLATES_ENABLED: "false",
    N8N_PERSONALIZATION_ENABLED: "false",
    N8N_HIRING_BANNER_ENABLED: "false",
    N8N_DYNAMIC_BANNERS_ENABLED: "false",
    N8N_LICENSE_AUTO_RENEW_ENABLED: "false",
    N8N_DISABLED_MODULES: "mcp-registry",
    N8N_LOG_LEVEL: "info",
    ...options.env,
  };
}

export interface CliResult {
  code: number | null;
  output: string;
}

export function runN8nCli(options: N8nOptions, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.install.bin, ...args], {
      env: n8nEnv(options),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-20_000);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

export interface N8nServer {
  url: string;
  /** Stops n8n (SIGTERM, then SIGKILL after 20 s) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `n8n start` and resolves once `/healthz` answers 200. */
export async function startN8n(options: N8nOptions, timeoutMs = 180_000): Promise<N8nServer> {
  const log = createWriteStream(join(options.userFolder, "n8n.log"), { flags: "a" });
  const child: ChildProcess = spawn(process.execPath, [options.install.bin, "start"], {
    env: n8nEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(
        `n8n s'est arrêté au démarrage (voir ${join(options.userFolder, "n8n.log")})`,
      );
    }
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return { url, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`n8n ne répond pas après ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
