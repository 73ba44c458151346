/** The results file (JSON, one entry per target) and its Markdown table with relay/nchan ratios. */

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { BenchOptions } from "./options.ts";
import type { TargetResult } from "./scenario.ts";
import { round } from "./stats.ts";

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  kernel: string;
  node: string;
}

export interface BenchReport {
  generatedAt: string;
  machine: Machine;
  parameters: Omit<BenchOptions, "out">;
  targets: Record<string, TargetResult>;
  /** Extra measurements (acknowledgements with SQLITE_SYNCHRONOUS=NORMAL). */
  extra: Record<string, unknown>;
  ratios: Record<string, number> | null;
  /** Targets that could not be measured, with the reason. */
  failures: Record<string, string>;
  notes: string[];
}

export function describeMachine(): Machine {
  let kernel = "?";
  try {
    kernel = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();
  } catch {
    // not Linux
  }
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? "?",
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    kernel,
    node: process.version,
  };
}

/** Fields compared relay ÷ nchan (lower is better for all of them). */
const COMPARED = [
  "p50Ms",
  "p95Ms",
  "p99Ms",
  "maxMs",
  "rssPerSubscriberKiB",
  "cpuUsPerDelivery",
  "cpuUsPerConnection",
  "ackP50Ms",
  "ackP99Ms",
  "idleBytesPerClientPerMin",
] as const;

export function ratios(targets: Record<string, TargetResult>): Record<string, number> | null {
  const relay = targets.relay;
  const nchan = targets.nchan;
  if (!relay || !nchan) return null;
  return Object.fromEntries(
    COMPARED.map((field) => [
      field,
      nchan[field] === 0 ? Number.NaN : round(relay[field] / nchan[field]),
    ]),
  );
}

const ROWS: [label: string, field: keyof TargetResult, compared: boolean][] = [
  ["Abonnés connectés", "connected", false],
  ["Latence p50 (ms)", "p50Ms", true],
  ["Latence p95 (ms)", "p95Ms", true],
  ["Latence p99 (ms)", "p99Ms", true],
  ["Latence max (ms)", "maxMs", true],
  ["Livraisons attendues", "expected", false],
  ["Livraisons reçues", "delivered", false],
  ["Perdues", "lost", false],
  ["Doublons", "duplicates", false],
  ["Hors ordre", "outOfOrder", false],
  ["Flux coupés par le serveur", "dropped", false],
  ["Octets par livraison", "bytesPerDelivery", false],
  ["Lectures socket par livraison (abonnés)", "readsPerDelivery", false],
  ["RSS par abonné (KiB)", "rssPerSubscriberKiB", true],
  ["CPU serveur par livraison (µs)", "cpuUsPerDelivery", true],
  ["Part du noyau dans ce CPU", "systemCpuShare", false],
  ["CPU serveur par connexion (µs)", "cpuUsPerConnection", true],
  ["CPU serveur pendant la diffusion (% d'un cœur)", "serverCpuPercent", false],
  ["Acquittement pendant la diffusion p50 (ms)", "fanoutAckP50Ms", false],
  ["Acquittement pendant la diffusion p99 (ms)", "fanoutAckP99Ms", false],
  ["Acquittement sans abonné p50 (ms)", "ackP50Ms", true],
  ["Acquittement sans abonné p99 (ms)", "ackP99Ms", true],
  ["Acquittement sans abonné p99, échauffement (ms)", "ackWarmupP99Ms", false],
  ["Octets au repos par client et par minute", "idleBytesPerClientPerMin", true],
];

function cell(value: unknown): string {
  if (typeof value === "number") return Number.isNaN(value) ? "—" : String(value);
  return String(value ?? "—");
}

export function markdown(report: BenchReport): string {
  const names = Object.keys(report.targets);
  const both = report.ratios !== null;
  const header = ["Mesure", ...names, ...(both ? ["relais / nchan"] : [])];
  const lines = [
    `# Bench ${report.generatedAt}`,
    "",
    `${report.parameters.subscribers} abonnés, ${report.parameters.events} événements à ${report.parameters.rate}/s, ` +
      `acquittements à ${report.parameters.ackRate}/s pendant ${report.parameters.ackSeconds} s, ` +
      `fenêtre de repos ${report.parameters.idleSeconds} s, stockage ${report.parameters.store}.`,
    "",
    `Machine : ${report.machine.nproc} cœurs (${report.machine.cpu}), ${report.machine.memoryGiB} Gio, ` +
      `noyau ${report.machine.kernel}, Node ${report.machine.node}.`,
    "",
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
  ];
  for (const [label, field, compared] of ROWS) {
    const values = names.map((name) => cell(report.targets[name]?.[field]));
    const ratio = both ? [compared ? cell(report.ratios?.[field]) : ""] : [];
    lines.push(`| ${[label, ...values, ...ratio].join(" | ")} |`);
  }
  lines.push("");
  for (const name of names) {
    const t = report.targets[name] as TargetResult;
    lines.push(
      `- **${name}** : ${t.description} ; générateur de charge pendant la diffusion : ` +
        `${t.loadGenerator.publishCpuPercent} % d'un cœur ; charge de la machine (loadavg) ` +
        `avant ${t.loadAverage.before}, après ${t.loadAverage.after}.`,
    );
  }
  for (const [key, value] of Object.entries(report.extra))
    lines.push(`- ${key} : ${JSON.stringify(value)}`);
  for (const note of report.notes) lines.push(`- ${note}`);
  for (const [name, reason] of Object.entries(report.failures))
    lines.push(`- **${name} non mesuré** : ${reason.split("\n").slice(0, 5).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

export function writeReport(report: BenchReport, jsonFile: string): string {
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  const mdFile = `${jsonFile.replace(/\.json$/, "")}.md`;
  writeFileSync(mdFile, markdown(report));
  return mdFile;
}
