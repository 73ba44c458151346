/**
 * `WORKERS` > 1: this process only supervises. It forks that many relays (each a full instance
 * on the Redis store, as separate machines would be; Node's cluster shares the listening port
 * between them), answers `/metrics` aggregation, and on SIGTERM/SIGINT asks each worker to
 * stop gracefully, then waits for them.
 */
import cluster, { type Worker } from "node:cluster";
import type { Config } from "../config/config.ts";
import type { Logger } from "../log/logger.ts";
import { serveClusterMetrics } from "./cluster-metrics.ts";

/** A worker that dies this often in a minute is not restarted again: something is wrong. */
const MAX_RESTARTS_PER_MINUTE = 5;

export async function runPrimary(config: Config, logger: Logger): Promise<number> {
  const log = logger.child({ module: "cluster" });
  serveClusterMetrics();
  let stopping = false;
  let restarts: number[] = [];
  const listening = new Set<Worker>();

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.once("listening", () => listening.add(worker));
    return worker;
  };

  const exitCode = await new Promise<number>((resolve) => {
    const stopAll = (signal: NodeJS.Signals, code: number) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, "stopping workers");
      const workers = Object.values(cluster.workers ?? {}) as Worker[];
      if (workers.length === 0) resolve(code);
      // Each worker drains (SHUTDOWN_DRAIN_MS) then closes within SHUTDOWN_TIMEOUT_MS; past a
      // margin it is killed so the primary never hangs.
      const deadline = setTimeout(
        () => {
          for (const worker of Object.values(cluster.workers ?? {}))
            worker?.process.kill("SIGKILL");
        },
        config.SHUTDOWN_DRAIN_MS + config.SHUTDOWN_TIMEOUT_MS + 5000,
      );
      deadline.unref();
      for (const worker of workers) worker.process.kill(signal);
      cluster.on("exit", () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearTimeout(deadline);
          resolve(code);
        }
      });
    };

    cluster.on("exit", (worker, code, signal) => {
      if (stopping) return;
      const wasListening = listening.delete(worker);
      log.error({ pid: worker.process.pid, code, signal }, "worker exited");
      const now = Date.now();
      restarts = restarts.filter((at) => now - at < 60_000);
      // A worker that never listened failed to start (Redis unreachable, bad file): the
      // others would fail the same way, so the relay stops with the error they printed.
      if (!wasListening || restarts.length >= MAX_RESTARTS_PER_MINUTE) {
        stopAll("SIGTERM", 1);
        return;
      }
      restarts.push(now);
      fork();
    });
    process.once("SIGTERM", () => stopAll("SIGTERM", 0));
    process.once("SIGINT", () => stopAll("SIGINT", 0));
    log.info({ workers: config.WORKERS }, "starting workers");
    for (let i = 0; i < config.WORKERS; i++) fork();
  });
  log.info({ code: exitCode }, "all workers stopped");
  return exitCode;
}
