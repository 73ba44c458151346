/**
 * The reconnection storm (`--scenario storm`): a relay holding `records` records restarts, and
 * `subscribers` streams come back within `spreadSeconds`, half with `Last-Event-ID` (they must
 * get exactly the events stored after it: no gap, no double), half for a snapshot. Measured
 * from the moment the restarted relay answers: time until every stream is live, peak memory,
 * bytes sent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bottleneckReasons } from "./bottleneck.ts";
import { gristRowFor, nowUs } from "./load-generator/payload.ts";
import type { StormReport } from "./load-generator/protocol.ts";
import { LoadGenerator } from "./load-generator-client.ts";
import {
  cpuUs as cpuOf,
  loadAverage,
  machineCpuPercent,
  machineCpuTicks,
  rssKiB,
  sum,
} from "./proc-stats.ts";
import { sourceAddresses } from "./scenario.ts";
import { round } from "./stats.ts";
import { type ProbeSummary, readProbe } from "./targets/probe-reader.ts";
import { type RelayTargetOptions, startRelay } from "./targets/relay.ts";
import type { Target } from "./targets/target.ts";

export interface StormOptions {
  subscribers: number;
  records: number;
  /** Events stored after the resumed streams' Last-Event-ID. */
  tail: number;
  spreadSeconds: number;
  connectionsPerAddress: number;
  store: "sqlite" | "redis";
  redisUrl?: string;
  /** The non-resumed half fetches the state over HTTP (gzip) instead of an in-stream snapshot. */
  snapshotOverHttp: boolean;
}

export interface StormResult {
  description: string;
  /** `stream`: snapshot inside the SSE stream. `http`: GET /api/interventions, then the stream. */
  snapshotVia: "stream" | "http";
  records: number;
  subscribers: number;
  connected: number;
  connectFailures: Record<string, number>;
  /** Restarted relay answering → last stream live (s). */
  allLiveSeconds: number;
  liveP50Ms: number;
  liveP99Ms: number;
  liveMaxMs: number;
  snapshotStreams: number;
  resumedStreams: number;
  resumedExpected: number;
  resumedDelivered: number;
  /** Tail events missing from resumed streams: 0 means no gap. */
  gaps: number;
  duplicates: number;
  outOfOrder: number;
  foreign: number;
  /** Bytes the storm sent ÷ snapshot streams (snapshots dominate). */
  bytesPerSnapshotStream: number;
  bytesTotal: number;
  rssBeforeKiB: number;
  rssPeakKiB: number;
  serverCpuSeconds: number;
  machineCpuPercent: number;
  serverLoop: ProbeSummary | null;
  loadGenerator: { cpuMs: number; eventLoopP99Ms: number; eventLoopMaxMs: number };
  /** Why the load generator, not the relay, may have set the numbers; empty when it did not. */
  generatorBottleneck: string[];
  loadAverage: { before: string; after: string };
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

async function post(target: Target, body: string): Promise<void> {
  const { host, port, path } = target.publish;
  const response = await fetch(`http://${host}:${port}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`seeding: HTTP ${response.status}`);
}

async function lastEventId(target: Target): Promise<string> {
  const { host, port } = target.publish;
  const status = (await (await fetch(`http://${host}:${port}/api/events?limit=1`)).json()) as {
    lastEventId: string | null;
  };
  if (!status.lastEventId) throw new Error("seeding: no last event id");
  return status.lastEventId;
}

/** `records` records in batches, then the tail; returns the id the tail follows and the last. */
async function seed(
  target: Target,
  records: number,
  tail: number,
): Promise<{ beforeTail: string; last: string }> {
  const batch = 200;
  for (let first = 1; first <= records; first += batch) {
    const rows = [];
    for (let id = first; id < Math.min(first + batch, records + 1); id++)
      rows.push(gristRowFor(id, id - 1, nowUs()));
    await post(target, JSON.stringify(rows));
  }
  const beforeTail = await lastEventId(target);
  for (let i = 0; i < tail; i++)
    await post(target, JSON.stringify([gristRowFor((i % records) + 1, records + i, nowUs())]));
  return { beforeTail, last: await lastEventId(target) };
}

export async function runStorm(options: StormOptions): Promise<StormResult> {
  const dataDir = mkdtempSync(join(tmpdir(), "grist-realtime-storm-"));
  const relayOptions: RelayTargetOptions = {
    subscribers: options.subscribers,
    store: options.store,
    synchronous: "FULL",
    nodeArgs: [],
    dataDir,
    ...(options.redisUrl
      ? { redisUrl: options.redisUrl, redisKeyPrefix: `grist-realtime-storm-${Date.now()}:` }
      : {}),
  };
  try {
    const first = await startRelay(relayOptions);
    let ids: { beforeTail: string; last: string };
    try {
      log(`storm: seeding ${options.records} records and ${options.tail} more events`);
      ids = await seed(first, options.records, options.tail);
    } finally {
      await first.stop();
    }
    log("storm: relay restarted, storm begins");
    const relay = await startRelay(relayOptions);
    const loadBefore = loadAverage();
    const load = new LoadGenerator(options.subscribers);
    try {
      const pids = () => relay.pids();
      const probe = () =>
        relay.probeFile ? readProbe(relay.probeFile, relay.probePids?.() ?? []) : null;
      await probe();
      const rssBefore = sum(pids(), rssKiB);
      let rssPeak = rssBefore;
      const sampler = setInterval(() => {
        rssPeak = Math.max(rssPeak, sum(pids(), rssKiB));
      }, 50);
      const cpuBefore = sum(pids(), (pid) => cpuOf(pid));
      const machineBefore = machineCpuTicks();
      let answer: Awaited<ReturnType<LoadGenerator["storm"]>>;
      try {
        answer = await load.storm(
          {
            type: "storm",
            target: relay.stream,
            count: options.subscribers,
            sourceAddresses: sourceAddresses(options.subscribers, options.connectionsPerAddress),
            spreadMs: options.spreadSeconds * 1000,
            lastEventId: ids.beforeTail,
            snapshotOverHttp: options.snapshotOverHttp
              ? { path: "/api/interventions", currentEventId: ids.last }
              : null,
            firstTailSeq: options.records,
            tail: options.tail,
            timeoutMs: 120_000,
          },
          options.spreadSeconds * 1000 + 180_000,
        );
      } finally {
        clearInterval(sampler);
      }
      const cpu = sum(pids(), (pid) => cpuOf(pid)) - cpuBefore;
      const machine = machineCpuPercent(machineBefore, machineCpuTicks());
      const serverLoop = await probe();
      const s: StormReport = answer.result;
      log(
        `storm: ${s.connected}/${options.subscribers} live after ${round(s.allLiveMs / 1000)} s, gaps ${s.resumed.expected - s.resumed.delivered}`,
      );
      return {
        description: relay.description,
        snapshotVia: options.snapshotOverHttp ? "http" : "stream",
        records: options.records,
        subscribers: options.subscribers,
        connected: s.connected,
        connectFailures: s.failures,
        // The load generator started a moment after /livez answered: counted from its start.
        allLiveSeconds: round(s.allLiveMs / 1000),
        liveP50Ms: round(s.liveMs.p50),
        liveP99Ms: round(s.liveMs.p99),
        liveMaxMs: round(s.liveMs.max),
        snapshotStreams: s.snapshotStreams,
        resumedStreams: s.resumedStreams,
        resumedExpected: s.resumed.expected,
        resumedDelivered: s.resumed.delivered,
        gaps: s.resumed.expected - s.resumed.delivered,
        duplicates: s.resumed.duplicates,
        outOfOrder: s.resumed.outOfOrder,
        foreign: s.resumed.foreign,
        bytesPerSnapshotStream: round(s.bytes / Math.max(1, s.snapshotStreams), 0),
        bytesTotal: s.bytes,
        rssBeforeKiB: rssBefore,
        rssPeakKiB: rssPeak,
        serverCpuSeconds: round(cpu / 1e6),
        machineCpuPercent: round(machine, 1),
        serverLoop,
        loadGenerator: {
          cpuMs: round(answer.cpuUs / 1000, 0),
          eventLoopP99Ms: round(answer.eventLoopDelayMs.p99),
          eventLoopMaxMs: round(answer.eventLoopDelayMs.max),
        },
        loadAverage: { before: loadBefore, after: loadAverage() },
        generatorBottleneck: bottleneckReasons({
          cpuPercent: (answer.cpuUs / 1000 / answer.wallMs) * 100,
          lateSends: 0,
          eventLoopP99Ms: answer.eventLoopDelayMs.p99,
          latencyP99Ms: s.liveMs.p99,
        }),
      };
    } finally {
      await load.stop();
      await relay.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const ROWS: [string, (r: StormResult) => unknown][] = [
  ["Enregistrements dans l'état", (r) => r.records],
  [
    "État des flux sans Last-Event-ID",
    (r) =>
      r.snapshotVia === "http"
        ? "GET /api/interventions (gzip), puis le flux à son lastEventId"
        : "instantané dans le flux",
  ],
  [
    "Abonnés (moitié avec Last-Event-ID)",
    (r) => `${r.subscribers} (${r.resumedStreams} reprises, ${r.snapshotStreams} instantanés)`,
  ],
  ["Flux revenus", (r) => r.connected],
  ["Échecs", (r) => JSON.stringify(r.connectFailures)],
  ["Tous les flux en direct après (s)", (r) => r.allLiveSeconds],
  [
    "Délai par flux p50 / p99 / max (ms)",
    (r) => `${r.liveP50Ms} / ${r.liveP99Ms} / ${r.liveMaxMs}`,
  ],
  ["Reprises : événements attendus / reçus", (r) => `${r.resumedExpected} / ${r.resumedDelivered}`],
  [
    "Trous, doublons, hors ordre, étrangers",
    (r) => `${r.gaps}, ${r.duplicates}, ${r.outOfOrder}, ${r.foreign}`,
  ],
  ["Octets reçus ÷ flux sans Last-Event-ID", (r) => r.bytesPerSnapshotStream],
  [
    "RSS avant / pic (Mio)",
    (r) => `${round(r.rssBeforeKiB / 1024)} / ${round(r.rssPeakKiB / 1024)}`,
  ],
  ["CPU serveur (s)", (r) => r.serverCpuSeconds],
  ["CPU de toute la machine (% des cœurs)", (r) => r.machineCpuPercent],
  [
    "Retard de boucle serveur p99 / max (ms)",
    (r) =>
      r.serverLoop
        ? `${r.serverLoop.eventLoopDelayMs.p99} / ${r.serverLoop.eventLoopDelayMs.max}`
        : "—",
  ],
  [
    "Pauses GC serveur : nombre / total / max (ms)",
    (r) =>
      r.serverLoop
        ? `${r.serverLoop.gcCount} / ${r.serverLoop.gcTotalMs} / ${r.serverLoop.gcMaxMs}`
        : "—",
  ],
  [
    "Générateur : CPU (ms), retard de boucle p99 / max (ms)",
    (r) =>
      `${r.loadGenerator.cpuMs}, ${r.loadGenerator.eventLoopP99Ms} / ${r.loadGenerator.eventLoopMaxMs}`,
  ],
  [
    "Générateur goulot d'étranglement",
    (r) =>
      r.generatorBottleneck.length === 0 ? "non" : `**OUI** : ${r.generatorBottleneck.join(" ; ")}`,
  ],
  ["Charge de la machine avant / après", (r) => `${r.loadAverage.before} / ${r.loadAverage.after}`],
];

export function stormMarkdown(result: StormResult): string {
  return [
    "| Tempête de reconnexions | relais |",
    "| --- | --- |",
    ...ROWS.map(([label, value]) => `| ${label} | ${value(result)} |`),
    "",
    `- ${result.description}`,
  ].join("\n");
}
