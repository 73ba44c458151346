/**
 * `node bench/profile-summary.ts FILE.cpuprofile [top]`: where a V8 CPU profile (node
 * --cpu-prof) spent its time — self time per function, and time including callees for the
 * relay's own code — so a bench result can be explained with numbers.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, "$1").replace(/^node:/, "");
  return `${functionName || "(anonymous)"} ${file ? `${file}:${lineNumber + 1}` : ""}`.trim();
}

export function summarizeProfile(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = profile.endTime - profile.startTime;
  const selfByLabel = new Map<string, number>();
  const inclusiveByLabel = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id) as ProfileNode;
    selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + us);
    // Inclusive time: charge every distinct ancestor frame once.
    const seen = new Set<string>();
    for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
      const name = label(byId.get(cursor) as ProfileNode);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusiveByLabel.set(name, (inclusiveByLabel.get(name) ?? 0) + us);
    }
  }
  const format = (entries: Map<string, number>, filter: (name: string) => boolean) =>
    [...entries]
      .filter(([name]) => filter(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, us]) =>
          `${(us / 1000).toFixed(1).padStart(9)} ms ${((us / total) * 100).toFixed(1).padStart(5)} %  ${name}`,
      )
      .join("\n");
  const idle = selfByLabel.get("(idle)") ?? 0;
  return [
    `profile: ${(total / 1000).toFixed(0)} ms, busy ${((total - idle) / 1000).toFixed(0)} ms`,
    "",
    "self time:",
    format(selfByLabel, (name) => name !== "(idle)"),
    "",
    "including callees (relay code):",
    format(inclusiveByLabel, (name) => name.includes("src/")),
  ].join("\n");
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write("Usage : node bench/profile-summary.ts FICHIER.cpuprofile [N]\n");
    process.exitCode = 2;
  } else {
    const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
    process.stdout.write(`${summarizeProfile(profile, Number(top ?? 25))}\n`);
  }
}
