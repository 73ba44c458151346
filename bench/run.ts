/**
 * `npm run bench`: starts the server(s) under test and the load generator as child processes,
 * runs the scenario on each target in turn (never both at once: they would share the cores),
 * then writes the JSON results and the Markdown table under bench/results/.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LoadGenerator } from "./load-generator-client.ts";
import { type BenchOptions, parseBenchOptions, USAGE } from "./options.ts";
import { type BenchReport, describeMachine, markdown, ratios, writeReport } from "./report.ts";
import { runAckOnly, runScenario, type TargetResult } from "./scenario.ts";
import { round } from "./stats.ts";
import { runStorm, type StormResult } from "./storm.ts";
import { startNchan } from "./targets/nchan.ts";
import { type RedisServer, startRedisServer } from "./targets/redis-server.ts";
import { startRelay } from "./targets/relay.ts";
import type { Target } from "./targets/target.ts";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

/** A target that fails is reported as such; the other one is still measured. */
async function measure(
  start: () => Promise<Target>,
  options: BenchOptions,
  failures: Record<string, string>,
  name: string,
): Promise<TargetResult | undefined> {
  let target: Target;
  try {
    target = await start();
  } catch (error) {
    failures[name] = (error as Error).message;
    return undefined;
  }
  const load = new LoadGenerator(options.subscribers);
  try {
    return await runScenario(target, load, options);
  } catch (error) {
    failures[name] = (error as Error).message;
    return undefined;
  } finally {
    await load.stop();
    await target.stop();
  }
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const targets: Record<string, TargetResult> = {};
  const failures: Record<string, string> = {};
  const extra: Record<string, unknown> = {};
  const notes: string[] = [];

  let storm: StormResult | undefined;
  if (options.scenario === "storm") {
    let redis: RedisServer | null = null;
    if (options.store === "redis" && !options.redisUrl) redis = await startRedisServer();
    const redisUrl = options.redisUrl ?? redis?.url;
    try {
      storm = await runStorm({
        subscribers: options.subscribers,
        records: options.records,
        tail: options.tail,
        spreadSeconds: options.spreadSeconds,
        connectionsPerAddress: options.connectionsPerAddress,
        store: options.store,
        snapshotOverHttp: options.stormSnapshot === "http",
        ...(redisUrl ? { redisUrl } : {}),
      });
    } catch (error) {
      failures.storm = (error as Error).message;
    } finally {
      await redis?.stop();
    }
  } else if (options.target !== "nchan") {
    let redis: RedisServer | null = null;
    if (options.store === "redis" && !options.redisUrl) redis = await startRedisServer();
    const redisUrl = options.redisUrl ?? redis?.url;
    try {
      const relay = await measure(
        async () => {
          const relay = await startRelay({
            subscribers: options.subscribers,
            store: options.store,
            synchronous: "FULL",
            nodeArgs: options.relayNodeArgs,
            redisUrl,
            redisKeyPrefix: `grist-realtime-bench-${Date.now()}:`,
            workers: options.workers,
          });
          if (!redis) return relay;
          // The store's own process is part of the cost of a delivery.
          const redisPid = redis.pid;
          return { ...relay, pids: () => [...relay.pids(), redisPid] };
        },
        options,
        failures,
        "relay",
      );
      if (relay) targets.relay = relay;
    } finally {
      await redis?.stop();
    }
    if (options.store === "sqlite" && !options.skipNormal) {
      const relay = await startRelay({
        subscribers: 0,
        store: "sqlite",
        synchronous: "NORMAL",
        nodeArgs: [],
      });
      const load = new LoadGenerator(0);
      try {
        const normal = await runAckOnly(relay, load, options);
        extra["Acquittement avec SQLITE_SYNCHRONOUS=NORMAL (ms)"] = {
          p50: round(normal.p50),
          p99: round(normal.p99),
          max: round(normal.max),
          warmupP99: round(normal.warmupP99),
          failures: normal.failures,
        };
      } finally {
        await load.stop();
        await relay.stop();
      }
    }
  }
  if (options.scenario === "fanout" && options.target !== "relay") {
    const nchan = await measure(
      () => startNchan({ subscribers: options.subscribers }),
      options,
      failures,
      "nchan",
    );
    if (nchan) targets.nchan = nchan;
    notes.push(
      "nchan reçoit le JSON que le relais diffuserait pour la même ligne (taille comparable) ; " +
        "il acquitte la publication après l'avoir remise à ses abonnés locaux.",
    );
  }

  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    machine: describeMachine(),
    parameters: (({ out: _out, ...rest }) => rest)(options),
    targets,
    extra,
    ratios: ratios(targets),
    failures,
    notes,
    ...(storm ? { storm } : {}),
  };
  const stamp = report.generatedAt.slice(0, 16).replace(/[:T]/g, "-");
  const out =
    options.out ??
    join(
      RESULTS,
      options.scenario === "storm"
        ? `${stamp}-storm-${options.stormSnapshot}-n${options.subscribers}-records${options.records}.json`
        : `${stamp}-n${options.subscribers}-r${options.rate}-${options.target}${
            options.store === "redis" ? `-redis-w${options.workers}` : ""
          }.json`,
    );
  mkdirSync(dirname(out), { recursive: true });
  const mdFile = writeReport(report, out);
  if (Object.keys(failures).length > 0) process.exitCode = 1;
  process.stdout.write(`${markdown(report)}\nRésultats : ${out}\nTableau : ${mdFile}\n`);
}

await main();
