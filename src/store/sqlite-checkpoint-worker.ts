/**
 * Runs in a worker thread (see sqlite-checkpointer.ts): its own connection to the relay's
 * database checkpoints the WAL into the main file. A checkpoint fsyncs twice and copies pages;
 * done by the committing connection (SQLite's auto-checkpoint) it stalled the event loop.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { file, intervalMs } = workerData as { file: string; intervalMs: number };
const db = new DatabaseSync(file);
db.exec("PRAGMA busy_timeout = 1000; PRAGMA synchronous = FULL;");
// PASSIVE never waits for the writer nor blocks it: frames still being read stay for next time.
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");

const timer = setInterval(() => {
  const result = checkpoint.get() as { busy: number; log: number; checkpointed: number };
  parentPort?.postMessage(result);
}, intervalMs);

parentPort?.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
