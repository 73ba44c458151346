/**
 * Keeps the WAL of a SQLite file short from a worker thread, so no checkpoint runs on the
 * event loop. If the worker fails, the owner turns SQLite's own auto-checkpoint back on
 * (`onFailure`): a WAL growing without bound would be worse than the stall.
 */
import { Worker } from "node:worker_threads";

export interface CheckpointResult {
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames copied into the database file. */
  checkpointed: number;
}

export interface CheckpointerOptions {
  file: string;
  intervalMs?: number;
  onCheckpoint?: (result: CheckpointResult) => void;
  onFailure: (error: Error) => void;
}

const WORKER = new URL("./sqlite-checkpoint-worker.ts", import.meta.url);

export class SqliteCheckpointer {
  readonly #worker: Worker;
  #stopped = false;

  constructor(options: CheckpointerOptions) {
    this.#worker = new Worker(WORKER, {
      workerData: { file: options.file, intervalMs: options.intervalMs ?? 1000 },
    });
    // It must not keep the process alive on its own.
    this.#worker.unref();
    this.#worker.on("message", (result: CheckpointResult) => options.onCheckpoint?.(result));
    this.#worker.once("error", (error) => {
      if (!this.#stopped) options.onFailure(error);
    });
    this.#worker.once("exit", (code) => {
      if (!this.#stopped) options.onFailure(new Error(`checkpoint worker exited with ${code}`));
    });
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const exited = new Promise((resolve) => this.#worker.once("exit", resolve));
    this.#worker.postMessage("stop");
    const timer = setTimeout(() => void this.#worker.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}
