/**
 * The orchestrator's side of `relay-probe.ts`: asks each relay process for what it recorded
 * (SIGUSR2) and folds the answers of several processes (cluster workers) into one.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { round } from "../stats.ts";
import type { ProbeReport } from "./relay-probe.ts";

export interface ProbeSummary {
  processes: number;
  windowMs: number;
  /** The worst process: the loop a client landed on may be any of them. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
  gcOver10Ms: number;
  gcByKind: Record<string, { count: number; totalMs: number; maxMs: number }>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function askOne(file: string, pid: number, timeoutMs: number): Promise<ProbeReport | null> {
  const path = `${file}.${pid}`;
  rmSync(path, { force: true });
  try {
    process.kill(pid, "SIGUSR2");
  } catch {
    return null;
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as ProbeReport;
    await sleep(20);
  }
  return null;
}

/** Null when no process answered (a target without the probe, such as nchan). */
export async function readProbe(
  file: string,
  pids: readonly number[],
  timeoutMs = 10_000,
): Promise<ProbeSummary | null> {
  const reports = (await Promise.all(pids.map((pid) => askOne(file, pid, timeoutMs)))).filter(
    (report): report is ProbeReport => report !== null,
  );
  if (reports.length === 0) return null;
  const byKind: ProbeSummary["gcByKind"] = {};
  for (const report of reports)
    for (const [kind, value] of Object.entries(report.gc.byKind)) {
      byKind[kind] ??= { count: 0, totalMs: 0, maxMs: 0 };
      const total = byKind[kind];
      total.count += value.count;
      total.totalMs = round(total.totalMs + value.totalMs);
      total.maxMs = round(Math.max(total.maxMs, value.maxMs));
    }
  const worst = (pick: (report: ProbeReport) => number) => round(Math.max(...reports.map(pick)));
  const total = (pick: (report: ProbeReport) => number) =>
    round(reports.reduce((sum, report) => sum + pick(report), 0));
  return {
    processes: reports.length,
    windowMs: worst((r) => r.windowMs),
    eventLoopDelayMs: {
      p50: worst((r) => r.eventLoopDelayMs.p50),
      p99: worst((r) => r.eventLoopDelayMs.p99),
      max: worst((r) => r.eventLoopDelayMs.max),
    },
    gcCount: total((r) => r.gc.count),
    gcTotalMs: total((r) => r.gc.totalMs),
    gcMaxMs: worst((r) => r.gc.maxMs),
    gcOver10Ms: total((r) => r.gc.over10Ms),
    gcByKind: byKind,
  };
}
