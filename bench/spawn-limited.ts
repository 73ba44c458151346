/**
 * Spawns a child allowed to open `files` file descriptors. Node raises its soft limit to the
 * hard one at start-up, so only a hard limit too low needs `prlimit` (root, or a hard limit
 * already high enough).
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export function hardFileLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const hard = line?.split(/\s+/)[4];
  return hard === "unlimited" ? Number.POSITIVE_INFINITY : Number(hard ?? 1024);
}

export function spawnLimited(
  command: string,
  args: readonly string[],
  files: number,
  options: SpawnOptions,
): ChildProcess {
  const hard = hardFileLimit();
  if (files <= hard) return spawn(command, args, options);
  // Raising the hard limit needs CAP_SYS_RESOURCE: in a container without it, prlimit fails
  // and the child exits at once with prlimit's message.
  process.stderr.write(
    `[bench] ${command}: raising the file limit from ${hard} to ${files} (prlimit)\n`,
  );
  // prlimit execs the command: the child's pid is the command's pid, as /proc readings need.
  return spawn("prlimit", [`--nofile=${files}:${files}`, "--", command, ...args], options);
}
