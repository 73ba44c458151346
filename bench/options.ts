/** `npm run bench -- --subscribers N --events M --rate R [--target relay|nchan|both] …` */
import { parseArgs } from "node:util";

export interface BenchOptions {
  subscribers: number;
  events: number;
  rate: number;
  target: "relay" | "nchan" | "both";
  store: "sqlite" | "redis";
  out: string | null;
  idleSeconds: number;
  ackRate: number;
  ackSeconds: number;
  ackWarmupSeconds: number;
  connectConcurrency: number;
  connectionsPerAddress: number;
  drainTimeoutMs: number;
  /** Extra Node flags for the relay, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
  relayNodeArgs: string[];
  redisUrl: string | null;
  /** Skip the SQLITE_SYNCHRONOUS=NORMAL acknowledgement run. */
  skipNormal: boolean;
  /** Relay processes (`WORKERS`), Redis store only. */
  workers: number;
  /** `fanout` (default): live fan-out vs nchan. `storm`: the reconnection storm (relay only). */
  scenario: "fanout" | "storm";
  /** Storm: records in state, events after the resumed Last-Event-ID, connection window. */
  records: number;
  tail: number;
  spreadSeconds: number;
  /** Storm: how the non-resumed half gets the state. */
  stormSnapshot: "stream" | "http";
}

export const USAGE = `Usage : npm run bench -- --subscribers N --events M --rate R [options]

  --target relay|nchan|both   serveur(s) mesuré(s) (défaut : relay)
  --store sqlite|redis        stockage du relais (défaut : sqlite)
  --out FICHIER               résultats JSON (défaut : bench/results/<date>-n<N>-r<R>.json) ; le
                              tableau Markdown est écrit à côté (.md)
  --idle-seconds S            fenêtre sans événement pour les octets de maintien (défaut : 65)
  --ack-rate R --ack-seconds S  phase d'acquittement des webhooks (défaut : 200/s pendant 10 s)
  --ack-warmup-seconds S      publications d'échauffement avant cette phase, mesurées à part
                              (défaut : 5 ; 0 pour aucune)
  --connect-concurrency C     connexions en cours d'établissement à la fois (défaut : 200)
  --connections-per-address K abonnés par adresse source 127.0.0.x (défaut : 5000)
  --drain-timeout-ms T        attente des dernières livraisons sans progrès (défaut : 10000)
  --relay-node-args="…"       options Node du relais (profilage :
                              --relay-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof")
  --redis-url URL             Redis existant pour --store redis (défaut : un redis-server lancé
                              par le bench dans un dossier temporaire)
  --scenario fanout|storm     diffusion (défaut) ou tempête de reconnexions après redémarrage
  --records N --tail T --spread-seconds S
                              tempête : N enregistrements (défaut 5000), T événements à rejouer
                              (défaut 50), reconnexions étalées sur S s (défaut 5)
  --storm-snapshot stream|http
                              tempête : l'état des flux sans Last-Event-ID vient dans le flux
                              (défaut) ou par GET /api/interventions compressé, puis le flux
  --workers N                 processus relais (WORKERS, avec --store redis seulement ; défaut : 1)
  --skip-normal               ne pas mesurer l'acquittement avec SQLITE_SYNCHRONOUS=NORMAL
`;

function positive(name: string, value: string | undefined, fallback: number): number {
  const number = Number(value ?? fallback);
  if (!Number.isFinite(number) || number <= 0)
    throw new Error(`--${name} : nombre positif attendu`);
  return number;
}

function nonNegative(name: string, value: string | undefined, fallback: number): number {
  const number = Number(value ?? fallback);
  if (!Number.isFinite(number) || number < 0)
    throw new Error(`--${name} : nombre positif ou nul attendu`);
  return number;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscribers: { type: "string" },
      events: { type: "string" },
      rate: { type: "string" },
      target: { type: "string", default: "relay" },
      store: { type: "string", default: "sqlite" },
      out: { type: "string" },
      "idle-seconds": { type: "string" },
      "ack-rate": { type: "string" },
      "ack-seconds": { type: "string" },
      "ack-warmup-seconds": { type: "string" },
      "connect-concurrency": { type: "string" },
      "connections-per-address": { type: "string" },
      "drain-timeout-ms": { type: "string" },
      "relay-node-args": { type: "string", default: "" },
      "redis-url": { type: "string" },
      "skip-normal": { type: "boolean", default: false },
      workers: { type: "string" },
      scenario: { type: "string", default: "fanout" },
      records: { type: "string" },
      tail: { type: "string" },
      "spread-seconds": { type: "string" },
      "storm-snapshot": { type: "string", default: "stream" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  if (!["relay", "nchan", "both"].includes(values.target))
    throw new Error("--target : relay, nchan ou both");
  if (!["sqlite", "redis"].includes(values.store)) throw new Error("--store : sqlite ou redis");
  const subscribers = Math.floor(positive("subscribers", values.subscribers, 1000));
  const workers = Math.floor(positive("workers", values.workers, 1));
  if (!["fanout", "storm"].includes(values.scenario))
    throw new Error("--scenario : fanout ou storm");
  if (!["stream", "http"].includes(values["storm-snapshot"]))
    throw new Error("--storm-snapshot : stream ou http");
  if (workers > 1 && values.store !== "redis") throw new Error("--workers : avec --store redis");
  const events = Math.floor(positive("events", values.events, 100));
  // Bounded: one socket per subscriber in each process, 5,000 per loopback source address.
  if (subscribers > 200_000) throw new Error("--subscribers : 200 000 au plus");
  // Bounded: the delivery log holds one byte and one float per expected delivery.
  if (subscribers * events > 50_000_000)
    throw new Error("--subscribers × --events : 50 millions de livraisons au plus");
  return {
    subscribers,
    events,
    rate: positive("rate", values.rate, 5),
    target: values.target as BenchOptions["target"],
    store: values.store as BenchOptions["store"],
    out: values.out ?? null,
    idleSeconds: positive("idle-seconds", values["idle-seconds"], 65),
    ackRate: Math.floor(positive("ack-rate", values["ack-rate"], 200)),
    ackSeconds: positive("ack-seconds", values["ack-seconds"], 10),
    ackWarmupSeconds: nonNegative("ack-warmup-seconds", values["ack-warmup-seconds"], 5),
    connectConcurrency: Math.floor(
      positive("connect-concurrency", values["connect-concurrency"], 200),
    ),
    connectionsPerAddress: Math.floor(
      positive("connections-per-address", values["connections-per-address"], 5000),
    ),
    drainTimeoutMs: positive("drain-timeout-ms", values["drain-timeout-ms"], 10_000),
    relayNodeArgs: values["relay-node-args"].split(" ").filter((arg) => arg !== ""),
    redisUrl: values["redis-url"] ?? null,
    skipNormal: values["skip-normal"],
    workers,
    scenario: values.scenario as BenchOptions["scenario"],
    records: Math.floor(positive("records", values.records, 5000)),
    tail: Math.floor(positive("tail", values.tail, 50)),
    spreadSeconds: positive("spread-seconds", values["spread-seconds"], 5),
    stormSnapshot: values["storm-snapshot"] as BenchOptions["stormSnapshot"],
  };
}
