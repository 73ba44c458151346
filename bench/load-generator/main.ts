/**
 * The load generator process: forked by bench/run.ts, it holds the subscribers and publishes,
 * one command at a time, and reports its own CPU so the orchestrator can show what the
 * measurement itself cost on the shared cores.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { summarize } from "../stats.ts";
import { DeliveryLog } from "./delivery-log.ts";
import type { Command, PublishReport, Reply, Result } from "./protocol.ts";
import { publishOpenLoop } from "./publisher.ts";
import { SubscriberPool } from "./subscriber-pool.ts";

let pool: SubscriberPool | null = null;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function publish(command: Extract<Command, { type: "publish" }>): Promise<PublishReport> {
  const subscribers = pool;
  if (!subscribers) throw new Error("connect first");
  const log = new DeliveryLog(subscribers.live, command.count, command.firstSeq);
  subscribers.log = log;
  subscribers.resetCounters();
  const droppedBefore = subscribers.dropped;
  const sent = await publishOpenLoop(command.target, command.count, command.rate, command.firstSeq);
  // Deliveries still in flight: wait until all came, or nothing moved for a while.
  let last = -1;
  let stillSince = performance.now();
  while (log.delivered < log.expected) {
    if (log.delivered !== last) {
      last = log.delivered;
      stillSince = performance.now();
    } else if (performance.now() - stillSince > command.drainTimeoutMs) break;
    await sleep(20);
  }
  subscribers.log = null;
  return {
    expected: log.expected,
    delivered: log.delivered,
    duplicates: log.duplicates,
    outOfOrder: log.outOfOrder,
    foreign: log.foreign,
    dropped: subscribers.dropped - droppedBefore,
    latencyMs: summarize(log.latenciesMs.subarray(0, log.delivered)),
    ackMs: summarize(sent.ackMs.filter((ms) => !Number.isNaN(ms))),
    acked: sent.acked,
    publishFailures: sent.failures,
    lateSends: sent.late,
    publishDurationMs: sent.durationMs,
    bytesPerDelivery: log.delivered === 0 ? 0 : subscribers.bytes / log.delivered,
    readsPerDelivery: log.delivered === 0 ? 0 : subscribers.reads / log.delivered,
  };
}

async function run(command: Command): Promise<Result> {
  switch (command.type) {
    case "connect":
      pool ??= new SubscriberPool(command.target);
      return pool.connect(
        command.count,
        command.sourceAddresses,
        command.concurrency,
        command.timeoutMs,
      );
    case "publish":
      return publish(command);
    case "idle": {
      if (!pool) throw new Error("connect first");
      pool.resetCounters();
      await sleep(command.seconds * 1000);
      return {
        seconds: command.seconds,
        bytes: pool.bytes,
        comments: pool.comments,
        otherFrames: pool.otherFrames,
        live: pool.live,
      };
    }
    case "acks": {
      const sent = await publishOpenLoop(
        command.target,
        command.count,
        command.rate,
        command.firstSeq,
      );
      return {
        sent: sent.sent,
        acked: sent.acked,
        failures: sent.failures,
        ackMs: summarize(sent.ackMs.filter((ms) => !Number.isNaN(ms))),
        late: sent.late,
        durationMs: sent.durationMs,
      };
    }
    case "storm":
      pool ??= new SubscriberPool(command.target);
      return pool.storm(command);
    case "disconnect": {
      const closed = pool?.live ?? 0;
      pool?.closeAll();
      pool = null;
      return { closed };
    }
  }
}

process.on("message", async (message: { id: number; command: Command }) => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  // A late loop here delays the reading of deliveries: it shows when the generator, not the
  // server, set the latency.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let reply: Reply;
  try {
    const result = await run(message.command);
    reply = { id: message.id, ok: true, result, cpuUs: 0, wallMs: 0 };
  } catch (error) {
    reply = { id: message.id, ok: false, error: String(error), cpuUs: 0, wallMs: 0 };
  }
  const used = process.cpuUsage(cpu);
  reply.cpuUs = used.user + used.system;
  reply.wallMs = performance.now() - started;
  loop.disable();
  reply.eventLoopDelayMs = { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
  process.send?.(reply);
});

// The orchestrator going away must not leave ten thousand sockets open.
process.on("disconnect", () => process.exit(0));
