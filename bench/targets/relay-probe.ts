/**
 * Loaded into the relay by the bench (`node --import …/relay-probe.ts`), never by production:
 * records the event-loop delay (`monitorEventLoopDelay`) and every GC pause, and on SIGUSR2
 * writes what it saw since the previous signal to `<BENCH_PROBE_FILE>.<pid>` (one file per
 * process, so cluster workers do not overwrite each other), then starts again from zero.
 */
import { renameSync, writeFileSync } from "node:fs";
import {
  constants,
  monitorEventLoopDelay,
  type PerformanceEntry,
  PerformanceObserver,
} from "node:perf_hooks";

export interface ProbeReport {
  pid: number;
  /** Wall time covered by this report (since the previous SIGUSR2 or the start), ms. */
  windowMs: number;
  /** How late timers fired: what a request arriving at a random moment waited for the loop. */
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
  gc: {
    count: number;
    totalMs: number;
    maxMs: number;
    /** Pauses of 10 ms or more: the ones that show in a p99. */
    over10Ms: number;
    byKind: Record<string, { count: number; totalMs: number; maxMs: number }>;
  };
}

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

// The bench's own convention, read only by this bench-only module; the relay's config never
// sees it.
const FILE = process.env.BENCH_PROBE_FILE;
/** The histogram holds the whole timer interval: the lateness is what exceeds it. */
const RESOLUTION_MS = 10;

function emptyGc(): ProbeReport["gc"] {
  return { count: 0, totalMs: 0, maxMs: 0, over10Ms: 0, byKind: {} };
}

if (FILE) {
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  let gc = emptyGc();
  let since = performance.now();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind =
        KINDS[(entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1] ??
        "other";
      const ms = entry.duration;
      gc.count++;
      gc.totalMs += ms;
      gc.maxMs = Math.max(gc.maxMs, ms);
      if (ms >= 10) gc.over10Ms++;
      gc.byKind[kind] ??= { count: 0, totalMs: 0, maxMs: 0 };
      const byKind = gc.byKind[kind];
      byKind.count++;
      byKind.totalMs += ms;
      byKind.maxMs = Math.max(byKind.maxMs, ms);
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  process.on("SIGUSR2", () => {
    const ms = (ns: number) => Math.max(0, Math.round(ns / 1e4) / 100 - RESOLUTION_MS);
    const report: ProbeReport = {
      pid: process.pid,
      windowMs: Math.round(performance.now() - since),
      eventLoopDelayMs: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        max: ms(loop.max),
        mean: ms(loop.mean),
      },
      gc,
    };
    // Written aside then renamed: the bench never reads half a file.
    const target = `${FILE}.${process.pid}`;
    writeFileSync(`${target}.tmp`, JSON.stringify(report));
    renameSync(`${target}.tmp`, target);
    loop.reset();
    gc = emptyGc();
    since = performance.now();
  });
}
