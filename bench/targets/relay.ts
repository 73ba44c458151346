/**
 * The relay as operators run it: `grist-realtime serve` in its own process, a fresh DATA_DIR,
 * the stream caps raised for the bench, every other setting at its default
 * (SUBSCRIBER_QUEUE_BYTES, HEARTBEAT_MS 30 s).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { childrenOf } from "../proc-stats.ts";
import { spawnLimited } from "../spawn-limited.ts";
import { freePort, stopChild, type Target, waitUntilUp } from "./target.ts";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const PROBE = fileURLToPath(new URL("./relay-probe.ts", import.meta.url));

export interface RelayTargetOptions {
  subscribers: number;
  store: "sqlite" | "redis";
  synchronous: "FULL" | "NORMAL";
  /** Extra Node flags (`--cpu-prof`…), for profiling runs. */
  nodeArgs: readonly string[];
  redisUrl?: string;
  redisKeyPrefix?: string;
  /** Relay processes (`WORKERS`, Redis only); 1 by default. */
  workers?: number;
  /** An existing DATA_DIR (kept at stop), to restart a relay on the state of the previous one. */
  dataDir?: string;
}

export async function startRelay(options: RelayTargetOptions): Promise<Target> {
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "grist-realtime-bench-"));
  const probeFile = join(dataDir, "probe");
  const port = await freePort();
  const streams = String(options.subscribers + 1000);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    STORE: options.store,
    SQLITE_SYNCHRONOUS: options.synchronous,
    MAX_STREAMS: streams,
    MAX_STREAMS_PER_IP: streams,
    WORKERS: String(options.workers ?? 1),
    BENCH_PROBE_FILE: probeFile,
  };
  if (options.redisUrl) env.REDIS_URL = options.redisUrl;
  if (options.redisKeyPrefix) env.REDIS_KEY_PREFIX = options.redisKeyPrefix;
  const child = spawnLimited(
    process.execPath,
    ["--import", PROBE, ...options.nodeArgs, MAIN, "serve"],
    options.subscribers + 1000,
    { env, stdio: ["ignore", "pipe", "pipe"], cwd: dataDir },
  );
  let output = "";
  child.stdout?.on(
    "data",
    (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)),
  );
  child.stderr?.on(
    "data",
    (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)),
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(`${url}/livez`, child, () => output);
  } catch (error) {
    await stopChild(child);
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const pid = child.pid as number;
  const workers = options.workers ?? 1;
  const relayPids = () => (workers > 1 ? [pid, ...childrenOf(pid)] : [pid]);
  if (workers > 1) await waitForWorkers(pid, workers);
  return {
    name: "relay",
    description: `grist-realtime (Node ${process.version}, STORE=${options.store}, WORKERS=${workers}${
      options.store === "sqlite" ? `, SQLITE_SYNCHRONOUS=${options.synchronous}` : ""
    })`,
    stream: {
      host: "127.0.0.1",
      port,
      path: "/events",
      headers: { Accept: "text/event-stream" },
      readyOn: "snapshot",
    },
    publish: {
      host: "127.0.0.1",
      port,
      path: "/webhooks/grist",
      headers: {},
      body: "grist",
    },
    // With WORKERS the primary forks the relay processes: they are the server too.
    pids: relayPids,
    probeFile,
    probePids: relayPids,
    async stop() {
      await stopChild(child);
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
      if (child.exitCode !== 0 && child.exitCode !== null)
        process.stderr.write(`relay exited with ${child.exitCode}:\n${output}\n`);
    },
  };
}

/** `/livez` may answer from the first worker up: the bench waits for all of them. */
async function waitForWorkers(pid: number, workers: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (childrenOf(pid).length < workers) {
    if (Date.now() > deadline)
      throw new Error(`${workers} workers expected, ${childrenOf(pid).length} started`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Each worker listens a moment after it is forked.
  await new Promise((resolve) => setTimeout(resolve, 2000));
}
