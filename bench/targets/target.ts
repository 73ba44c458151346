/** A server under test, started by the bench on loopback and stopped by it. */
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import type { PublishTarget } from "../load-generator/publisher.ts";
import type { StreamTarget } from "../load-generator/subscriber-pool.ts";

export interface Target {
  /** `relay` or `nchan`, the key of the results. */
  readonly name: string;
  /** What ran, for the report (version, store, settings). */
  readonly description: string;
  readonly stream: StreamTarget;
  readonly publish: PublishTarget;
  /** Processes whose memory and CPU are the server's. */
  pids(): number[];
  /** Where `relay-probe.ts` writes (event-loop delay, GC); absent for a server without it. */
  readonly probeFile?: string;
  /**
   * The processes that load the probe, the only ones sent SIGUSR2 (its default action ends a
   * process: redis-server, counted in `pids`, would die of it).
   */
  probePids?(): number[];
  stop(): Promise<void>;
}

/** A free loopback port (closed again at once: the server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200, or fails with what the child printed. */
export async function waitUntilUp(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`exited with ${child.exitCode} before answering:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms:\n${output()}`);
}

/** SIGTERM, then SIGKILL if it lingers. */
export function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
