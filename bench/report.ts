/** The results file (JSON, one entry per target) and its Markdown table with relay/nchan ratios. */

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { BenchOptions } from "./options.ts";
import type { TargetResult } from "./scenario.ts";
import { round } from "./stats.ts";
import { type StormResult, stormMarkdown } from "./storm.ts";
import type { ProbeSummary } from "./targets/probe-reader.ts";

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
  /** `--scenario storm`. */
  storm?: StormResult;
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

type Row = [label: string, value: (t: TargetResult) => unknown, compared?: Compared];
type Compared = (typeof COMPARED)[number];

const field =
  (name: keyof TargetResult) =>
  (t: TargetResult): unknown =>
    t[name];
const failures = (counts: Record<string, number>) =>
  Object.keys(counts).length === 0
    ? 0
    : Object.entries(counts)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(", ");

const ROWS: Row[] = [
  ["Abonnés connectés", field("connected")],
  ["Échecs de connexion", (t) => failures(t.connectFailures)],
  ["Latence p50 (ms)", field("p50Ms"), "p50Ms"],
  ["Latence p95 (ms)", field("p95Ms"), "p95Ms"],
  ["Latence p99 (ms)", field("p99Ms"), "p99Ms"],
  ["Latence max (ms)", field("maxMs"), "maxMs"],
  ["Publications envoyées / acquittées", (t) => `${t.sent} / ${t.acked}`],
  ["Échecs de publication", (t) => failures(t.publishFailures)],
  ["Envois partis en retard (créneau occupé)", field("lateSends")],
  ["Livraisons attendues", field("expected")],
  ["Livraisons reçues", field("delivered")],
  ["Perdues", field("lost")],
  ["Doublons", field("duplicates")],
  ["Hors ordre", field("outOfOrder")],
  ["Messages étrangers", field("foreign")],
  ["Flux coupés par le serveur", field("dropped")],
  ["Livraisons par seconde", field("deliveriesPerSecond")],
  ["Octets par livraison", field("bytesPerDelivery")],
  ["Lectures socket par livraison (abonnés)", field("readsPerDelivery")],
  ["RSS par abonné (KiB)", field("rssPerSubscriberKiB"), "rssPerSubscriberKiB"],
  ["CPU serveur par livraison (µs)", field("cpuUsPerDelivery"), "cpuUsPerDelivery"],
  ["Part du noyau dans ce CPU", field("systemCpuShare")],
  ["CPU serveur par connexion (µs)", field("cpuUsPerConnection"), "cpuUsPerConnection"],
  ["CPU serveur pendant la diffusion (% d'un cœur)", field("serverCpuPercent")],
  ["CPU de toute la machine pendant la diffusion (% des cœurs)", field("machineCpuPercent")],
  [
    "Retard de boucle serveur pendant la diffusion p99 / max (ms)",
    (t) => loop(t.serverLoop.publish),
  ],
  [
    "Pauses GC serveur pendant la diffusion : nombre / total / max (ms) / ≥ 10 ms",
    (t) => gc(t.serverLoop.publish),
  ],
  [
    "Retard de boucle serveur pendant les connexions p99 / max (ms)",
    (t) => loop(t.serverLoop.connect),
  ],
  ["Acquittement pendant la diffusion p50 (ms)", field("fanoutAckP50Ms")],
  ["Acquittement pendant la diffusion p99 (ms)", field("fanoutAckP99Ms")],
  ["Acquittement sans abonné p50 (ms)", field("ackP50Ms"), "ackP50Ms"],
  ["Acquittement sans abonné p99 (ms)", field("ackP99Ms"), "ackP99Ms"],
  ["Acquittement sans abonné p99, échauffement (ms)", field("ackWarmupP99Ms")],
  [
    "Octets au repos par client et par minute",
    field("idleBytesPerClientPerMin"),
    "idleBytesPerClientPerMin",
  ],
  ["Générateur : CPU pendant la diffusion (% d'un cœur)", (t) => t.loadGenerator.publishCpuPercent],
  [
    "Générateur : retard de boucle p99 / max (ms)",
    (t) => `${t.loadGenerator.publishEventLoopP99Ms} / ${t.loadGenerator.publishEventLoopMaxMs}`,
  ],
  [
    "Générateur goulot d'étranglement",
    (t) =>
      t.generatorBottleneck.length === 0 ? "non" : `**OUI** : ${t.generatorBottleneck.join(" ; ")}`,
  ],
];

function loop(probe: ProbeSummary | null): string {
  return probe ? `${probe.eventLoopDelayMs.p99} / ${probe.eventLoopDelayMs.max}` : "—";
}

function gc(probe: ProbeSummary | null): string {
  return probe
    ? `${probe.gcCount} / ${probe.gcTotalMs} / ${probe.gcMaxMs} / ${probe.gcOver10Ms}`
    : "—";
}

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
  ];
  if (names.length > 0)
    lines.push(`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`);
  for (const [label, value, compared] of names.length > 0 ? ROWS : []) {
    const values = names.map((name) => {
      const target = report.targets[name];
      return cell(target ? value(target) : undefined);
    });
    const ratio = both ? [compared ? cell(report.ratios?.[compared]) : ""] : [];
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
  if (report.storm) lines.push(stormMarkdown(report.storm), "");
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
