/**
 * One target, measured in phases: idle memory, connect N subscribers (memory per subscriber),
 * publish M messages at R/s (latency, losses, CPU per delivery), an idle window (keep-alive
 * bytes), then, subscribers gone, webhook acknowledgements at a fixed rate.
 */

import { bottleneckReasons } from "./bottleneck.ts";
import type { AckReport, Percentiles } from "./load-generator/protocol.ts";
import type { LoadGenerator } from "./load-generator-client.ts";
import {
  cpuUs,
  loadAverage,
  machineCpuPercent,
  machineCpuTicks,
  rssKiB,
  sum,
  systemCpuUs,
} from "./proc-stats.ts";
import { round, summarize } from "./stats.ts";
import { type ProbeSummary, readProbe } from "./targets/probe-reader.ts";
import type { Target } from "./targets/target.ts";

export interface ScenarioOptions {
  subscribers: number;
  events: number;
  rate: number;
  idleSeconds: number;
  ackRate: number;
  ackSeconds: number;
  /** Publications at the same rate before the measured ones, reported apart (cold start). */
  ackWarmupSeconds: number;
  connectConcurrency: number;
  connectionsPerAddress: number;
  drainTimeoutMs: number;
}

export interface TargetResult {
  target: string;
  description: string;
  subscribers: number;
  connected: number;
  connectFailures: Record<string, number>;
  connectSeconds: number;
  events: number;
  rate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicates: number;
  outOfOrder: number;
  /** Streams the server closed during publishing. */
  dropped: number;
  /** Bench messages that matched no expected delivery (another run's, or garbled). */
  foreign: number;
  /** Publications sent and acknowledged with a 2xx. */
  sent: number;
  acked: number;
  publishFailures: Record<string, number>;
  /** Sends that had to wait for a free connection slot (the open loop slipped). */
  lateSends: number;
  bytesPerDelivery: number;
  readsPerDelivery: number;
  /** Acknowledgement of the publishing requests while fanning out to every subscriber. */
  fanoutAckP50Ms: number;
  fanoutAckP99Ms: number;
  rssIdleKiB: number;
  rssConnectedKiB: number;
  rssPerSubscriberKiB: number;
  cpuUsPerConnection: number;
  cpuUsPerDelivery: number;
  /** Part of that CPU spent in the kernel (system time ÷ user + system). */
  systemCpuShare: number;
  /** Server CPU during publishing, in % of one core. */
  serverCpuPercent: number;
  /** The whole machine (server, load generator, everything else) during publishing, % of all cores. */
  machineCpuPercent: number;
  /** Deliveries per second during publishing (first send → last delivery). */
  deliveriesPerSecond: number;
  /** The server's event loop and GC (bench probe), per phase; null for a server without it. */
  serverLoop: { connect: ProbeSummary | null; publish: ProbeSummary | null };
  idleSeconds: number;
  idleBytesPerClientPerMin: number;
  ackRate: number;
  ackCount: number;
  /** p99 of the warm-up publications (JIT, caches and files still cold). */
  ackWarmupP99Ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
  ackMaxMs: number;
  ackFailures: Record<string, number>;
  loadGenerator: {
    connectCpuMs: number;
    publishCpuMs: number;
    /** Load generator CPU during publishing, in % of one core. */
    publishCpuPercent: number;
    /** Its own event-loop delay during publishing (ms): time added to every latency it reads. */
    publishEventLoopP99Ms: number;
    publishEventLoopMaxMs: number;
    idleCpuMs: number;
  };
  /** Why the load generator, not the server, may have set the numbers; empty when it did not. */
  generatorBottleneck: string[];
  loadAverage: { before: string; after: string };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function sourceAddresses(count: number, perAddress: number, first = 2): string[] {
  const needed = Math.max(1, Math.ceil(count / perAddress));
  if (first + needed > 255) throw new Error("too many subscribers for 127.0.0.2–127.0.0.254");
  return Array.from({ length: needed }, (_, i) => `127.0.0.${first + i}`);
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export async function runScenario(
  target: Target,
  load: LoadGenerator,
  options: ScenarioOptions,
): Promise<TargetResult> {
  const loadBefore = loadAverage();
  const pids = () => target.pids();
  await sleep(2000);
  const rssIdle = sum(pids(), rssKiB);
  const probe = () =>
    target.probeFile ? readProbe(target.probeFile, target.probePids?.() ?? []) : null;
  await probe();

  log(`${target.name}: connecting ${options.subscribers} subscribers`);
  const cpuBeforeConnect = sum(pids(), cpuUs);
  const connect = await load.connect(
    {
      type: "connect",
      target: target.stream,
      count: options.subscribers,
      sourceAddresses: sourceAddresses(options.subscribers, options.connectionsPerAddress),
      concurrency: options.connectConcurrency,
      timeoutMs: 30_000,
    },
    600_000,
  );
  const connectCpu = sum(pids(), cpuUs) - cpuBeforeConnect;
  const connectLoop = await probe();
  log(
    `${target.name}: ${connect.result.connected} connected in ${round(connect.result.ms / 1000)} s ${JSON.stringify(connect.result.failures)}`,
  );
  // Let the server settle (allocations after the handshakes, a GC) before reading memory.
  await sleep(3000);
  const rssConnected = sum(pids(), rssKiB);

  log(`${target.name}: publishing ${options.events} messages at ${options.rate}/s`);
  await probe();
  const cpuBeforePublish = sum(pids(), cpuUs);
  const systemBeforePublish = sum(pids(), systemCpuUs);
  const machineBeforePublish = machineCpuTicks();
  const publish = await load.publish(
    {
      type: "publish",
      target: target.publish,
      count: options.events,
      rate: options.rate,
      firstSeq: 0,
      drainTimeoutMs: options.drainTimeoutMs,
    },
    (options.events / options.rate) * 1000 + options.drainTimeoutMs + 120_000,
  );
  const publishCpu = sum(pids(), cpuUs) - cpuBeforePublish;
  const publishSystemCpu = sum(pids(), systemCpuUs) - systemBeforePublish;
  const machinePublish = machineCpuPercent(machineBeforePublish, machineCpuTicks());
  const publishLoop = await probe();
  const p = publish.result;
  log(
    `${target.name}: delivered ${p.delivered}/${p.expected}, p99 ${round(p.latencyMs.p99)} ms, dup ${p.duplicates}, ooo ${p.outOfOrder}`,
  );

  log(`${target.name}: idle window of ${options.idleSeconds} s`);
  const idle = await load.idle(options.idleSeconds);
  const live = Math.max(1, idle.result.live);

  await load.disconnect();
  const ackCount = options.ackRate * options.ackSeconds;
  log(`${target.name}: ${ackCount} publications at ${options.ackRate}/s without subscribers`);
  const { warmup, acks } = await measureAcks(target, load, options, options.events + 1000);
  const ack: Percentiles = acks.ackMs;
  const generatorCpuPercent = (publish.cpuUs / 1000 / publish.wallMs) * 100;

  return {
    target: target.name,
    description: target.description,
    subscribers: options.subscribers,
    connected: connect.result.connected,
    connectFailures: connect.result.failures,
    connectSeconds: round(connect.result.ms / 1000),
    events: options.events,
    rate: options.rate,
    p50Ms: round(p.latencyMs.p50),
    p95Ms: round(p.latencyMs.p95),
    p99Ms: round(p.latencyMs.p99),
    maxMs: round(p.latencyMs.max),
    expected: p.expected,
    delivered: p.delivered,
    lost: p.expected - p.delivered,
    duplicates: p.duplicates,
    outOfOrder: p.outOfOrder,
    dropped: p.dropped,
    foreign: p.foreign,
    sent: options.events,
    acked: p.acked,
    publishFailures: p.publishFailures,
    lateSends: p.lateSends,
    bytesPerDelivery: round(p.bytesPerDelivery, 0),
    readsPerDelivery: round(p.readsPerDelivery),
    fanoutAckP50Ms: round(p.ackMs.p50),
    fanoutAckP99Ms: round(p.ackMs.p99),
    rssIdleKiB: rssIdle,
    rssConnectedKiB: rssConnected,
    rssPerSubscriberKiB: round((rssConnected - rssIdle) / Math.max(1, connect.result.connected)),
    cpuUsPerConnection: round(connectCpu / Math.max(1, connect.result.connected)),
    cpuUsPerDelivery: round(publishCpu / Math.max(1, p.delivered)),
    systemCpuShare: round(publishSystemCpu / Math.max(1, publishCpu)),
    serverCpuPercent: round((publishCpu / 1000 / publish.wallMs) * 100, 1),
    machineCpuPercent: round(machinePublish, 1),
    deliveriesPerSecond: round(p.delivered / (publish.wallMs / 1000), 0),
    serverLoop: { connect: connectLoop, publish: publishLoop },
    idleSeconds: options.idleSeconds,
    idleBytesPerClientPerMin: round((idle.result.bytes / live) * (60 / options.idleSeconds)),
    ackRate: options.ackRate,
    ackCount,
    ackP50Ms: round(ack.p50),
    ackP99Ms: round(ack.p99),
    ackMaxMs: round(ack.max),
    ackFailures: acks.failures,
    ackWarmupP99Ms: round(warmup.p99),
    loadGenerator: {
      connectCpuMs: round(connect.cpuUs / 1000, 0),
      publishCpuMs: round(publish.cpuUs / 1000, 0),
      publishCpuPercent: round(generatorCpuPercent, 1),
      publishEventLoopP99Ms: round(publish.eventLoopDelayMs.p99),
      publishEventLoopMaxMs: round(publish.eventLoopDelayMs.max),
      idleCpuMs: round(idle.cpuUs / 1000, 0),
    },
    generatorBottleneck: bottleneckReasons({
      cpuPercent: generatorCpuPercent,
      lateSends: p.lateSends,
      eventLoopP99Ms: publish.eventLoopDelayMs.p99,
      latencyP99Ms: p.latencyMs.p99,
    }),
    loadAverage: { before: loadBefore, after: loadAverage() },
  };
}

/**
 * Webhook acknowledgements at a fixed rate with no subscriber: a warm-up first (reported
 * apart), then the measured run.
 */
async function measureAcks(
  target: Target,
  load: LoadGenerator,
  options: Pick<ScenarioOptions, "ackRate" | "ackSeconds" | "ackWarmupSeconds">,
  firstSeq: number,
): Promise<{ warmup: Percentiles; acks: AckReport }> {
  await sleep(1000);
  const run = async (seconds: number, from: number) =>
    (
      await load.acks(
        {
          type: "acks",
          target: target.publish,
          count: Math.round(options.ackRate * seconds),
          rate: options.ackRate,
          firstSeq: from,
        },
        seconds * 1000 + 120_000,
      )
    ).result;
  const warmup =
    options.ackWarmupSeconds > 0
      ? (await run(options.ackWarmupSeconds, firstSeq)).ackMs
      : summarize(new Float64Array(0));
  const acks = await run(options.ackSeconds, firstSeq + 100_000);
  return { warmup, acks };
}

/** Only the acknowledgement phase (the relay again, with SQLITE_SYNCHRONOUS=NORMAL). */
export async function runAckOnly(
  target: Target,
  load: LoadGenerator,
  options: Pick<ScenarioOptions, "ackRate" | "ackSeconds" | "ackWarmupSeconds">,
): Promise<Percentiles & { failures: Record<string, number>; warmupP99: number }> {
  const { warmup, acks } = await measureAcks(target, load, options, 0);
  return { ...acks.ackMs, failures: acks.failures, warmupP99: warmup.p99 };
}
