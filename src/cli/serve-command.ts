/** `grist-realtime serve`: validates the config, starts the relay, stops it on SIGTERM/SIGINT. */
import cluster from "node:cluster";
import { runPrimary } from "../cluster/primary.ts";
import { ConfigError, configHelp, loadConfig, redactConfig } from "../config/config.ts";
import { createLogger } from "../log/logger.ts";
import { createRelay } from "../relay.ts";
import type { CommandIo } from "./io.ts";

export async function runServeCommand(argv: string[], io: CommandIo): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(
      `Usage : grist-realtime serve [options]\n\nChaque option se donne aussi par variable d'environnement (les options l'emportent).\n\n${configHelp()}\n`,
    );
    return 0;
  }
  let relay: Awaited<ReturnType<typeof createRelay>>;
  try {
    const config = loadConfig({ argv, env: io.env });
    const logger = createLogger(config.LOG_LEVEL);
    // With WORKERS > 1 the primary only supervises; each worker comes back here as a relay.
    if (config.WORKERS > 1 && cluster.isPrimary) {
      logger.info({ settings: redactConfig(config) }, "configuration");
      return await runPrimary(config, logger);
    }
    if (cluster.isPrimary) logger.info({ settings: redactConfig(config) }, "configuration");
    relay = await createRelay(config, logger);
    await relay.listen();
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    io.stderr.write(`Démarrage impossible : ${(error as Error).message}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      relay.app.log.info({ signal }, "shutting down");
      relay.stop().then(resolve, resolve);
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  // A worker's channel to the primary would keep it alive after the relay stopped.
  if (cluster.isWorker) process.disconnect();
  return 0;
}
