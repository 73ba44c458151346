/**
 * What the kernel says about a server process: resident memory (VmRSS) and CPU time
 * (utime + stime, every thread, including threads that already exited).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

export const CLOCK_TICKS = clockTicksPerSecond();

export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/** User and system CPU time in µs (resolution: one clock tick, 10 ms at 100 Hz). */
export function cpuSplitUs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name is in parentheses and may contain spaces: fields count from after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const toUs = (ticks: number) => (ticks * 1_000_000) / CLOCK_TICKS;
  return { user: toUs(Number(fields[11])), system: toUs(Number(fields[12])) };
}

export function cpuUs(pid: number): number {
  const { user, system } = cpuSplitUs(pid);
  return user + system;
}

export function systemCpuUs(pid: number): number {
  return cpuSplitUs(pid).system;
}

export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let list = "";
    try {
      list = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
    } catch {
      // the thread ended meanwhile
    }
    if (list) children.push(...list.split(" ").map(Number));
  }
  return children;
}

/** A process that exited between listing and reading (a short-lived child) counts as 0. */
export function sum(pids: readonly number[], read: (pid: number) => number): number {
  return pids.reduce((total, pid) => {
    try {
      return total + read(pid);
    } catch {
      return total;
    }
  }, 0);
}

export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** Whole-machine CPU counters (/proc/stat, all cores, in clock ticks). */
export function machineCpuTicks(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((sum, tick) => sum + tick, 0);
  // idle and iowait are the 4th and 5th counters.
  const busy = total - (ticks[3] ?? 0) - (ticks[4] ?? 0);
  return { busy, total };
}

/** Busy share of every core between two readings, in % of the whole machine. */
export function machineCpuPercent(
  before: ReturnType<typeof machineCpuTicks>,
  after: ReturnType<typeof machineCpuTicks>,
): number {
  const total = after.total - before.total;
  return total <= 0 ? 0 : ((after.busy - before.busy) / total) * 100;
}
