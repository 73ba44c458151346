/**
 * `grist-realtime demo` (`npm run demo`): a relay on loopback fed by the field simulator, so a
 * newcomer sees a living dashboard in one command. Nothing is kept (memory store by default).
 */
import { randomBytes } from "node:crypto";
import { ConfigError, loadConfig } from "../config/config.ts";
import { SimulatedGeocoder } from "../geocode/simulated-geocoder.ts";
import { FieldSimulator } from "../grist/simulator.ts";
import { createLogger } from "../log/logger.ts";
import { createRelay } from "../relay.ts";
import type { CommandIo } from "./io.ts";
import { RelayTarget, runSimulation } from "./simulate-command.ts";

const HELP = `Usage : grist-realtime demo [options du relais]

Démarre le relais en mémoire sur http://127.0.0.1:8080 et l'alimente avec une activité de
terrain simulée (2 changements par seconde), adresses sans coordonnées géocodées par une
simulation locale (aucun accès à Internet). Ouvrez l'adresse affichée dans un navigateur.
Les options de « serve » s'appliquent (ex. --port 9000). Ctrl+C arrête tout.
`;

export async function runDemoCommand(
  argv: string[],
  io: CommandIo & { signal?: AbortSignal },
): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout.write(HELP);
    return 0;
  }
  // A fresh secret: the demo's webhook endpoint is not open to other local processes.
  const secret = randomBytes(24).toString("base64url");
  let relay: Awaited<ReturnType<typeof createRelay>>;
  try {
    const config = loadConfig({
      argv,
      env: { STORE: "memory", LOG_LEVEL: "warn", ...io.env, WEBHOOK_SECRET: secret },
    });
    // The demo needs no Internet: its addresses are geocoded by a local simulation.
    relay = await createRelay(config, createLogger(config.LOG_LEVEL), {
      geocoder: new SimulatedGeocoder(),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const url = await relay.listen();
  io.stdout.write(
    `Tableau de bord : ${url.replace("127.0.0.1", "localhost")}/\nCtrl+C pour arrêter.\n`,
  );
  const stop = new AbortController();
  io.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await runSimulation({
      // The guide's table: addresses, no coordinates — the map fills through geocoding.
      simulator: new FieldSimulator({ seed: Date.now() % 100_000, withCoordinates: false }),
      target: new RelayTarget(url, secret),
      ratePerSecond: 2,
      signal: stop.signal,
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await relay.stop();
  }
  return 0;
}
