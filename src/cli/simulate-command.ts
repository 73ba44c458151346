/**
 * `grist-realtime simulate`: feeds field activity either straight to a relay (Grist-format
 * webhook posts) or to a real Grist document over REST, so that Grist itself sends the webhooks.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ColumnMappingFileSchema, MAPPED_FIELDS } from "../domain/column-mapping.ts";
import { DEFAULT_TABLE_ID, matchColumns } from "../grist/expected-schema.ts";
import { GristApiError, GristClient } from "../grist/rest-client.ts";
import {
  DEFAULT_SIMULATOR_COLUMNS,
  FieldSimulator,
  type SimulatedEvent,
  type SimulatorColumns,
} from "../grist/simulator.ts";
import type { CommandIo } from "./io.ts";

const HELP = `Usage : grist-realtime simulate [options]

Simule l'activité d'agents de terrain (créations, changements de statut, commentaires).

Cible (une des deux) :
  --relay-url <url>        RELAY_PUBLIC_URL   poste des webhooks au format Grist au relais
                                              (défaut : http://127.0.0.1:8080)
  --webhook-secret <s>     WEBHOOK_SECRET     secret attendu par le relais
  --grist-url <url>        GRIST_URL          écrit dans un document Grist, qui enverra
  --doc <id>               GRIST_DOC_ID       lui-même les webhooks
  --api-key <clé>          GRIST_API_KEY
  --table <id>             GRIST_TABLE        (défaut : ${DEFAULT_TABLE_ID})
  --target relay|grist     choisit la cible quand les deux sont configurées

Rythme :
  --rate <n>               événements par seconde (défaut : 2)
  --duration <s>           durée en secondes (défaut : 60 ; 0 = jusqu'à Ctrl+C)
  --count <n>              nombre d'événements (remplace --duration)
  --seed <n>               graine du générateur, pour rejouer la même activité
  --first-id <n>           identifiant de la première ligne (cible relais ; défaut : 1)
  --no-coordinates         sans latitude/longitude
  --mapping-file <chemin>  COLUMN_MAPPING_FILE  identifiants des colonnes (cible relais)
  --quiet                  n'affiche que le bilan
  --help                   affiche cette aide
`;

const OPTIONS = {
  "relay-url": { type: "string" },
  "webhook-secret": { type: "string" },
  "grist-url": { type: "string" },
  doc: { type: "string" },
  "api-key": { type: "string" },
  table: { type: "string" },
  target: { type: "string" },
  rate: { type: "string" },
  duration: { type: "string" },
  count: { type: "string" },
  seed: { type: "string" },
  "first-id": { type: "string" },
  coordinates: { type: "boolean", default: true },
  "mapping-file": { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean" },
} as const;

/** Where simulated events go. `send` throws `FatalTargetError` when going on is pointless. */
export interface SimulationTarget {
  readonly description: string;
  send(event: SimulatedEvent): Promise<void>;
}

export class FatalTargetError extends Error {}

/** Posts each event as Grist would: a one-row array, to the URL of its event type. */
export class RelayTarget implements SimulationTarget {
  readonly description: string;
  readonly #url: string;
  readonly #secret: string | undefined;

  constructor(relayUrl: string, secret: string | undefined) {
    this.#url = `${relayUrl.replace(/\/+$/, "")}/webhooks/grist`;
    this.#secret = secret;
    this.description = `relais ${relayUrl}`;
  }

  async send(event: SimulatedEvent): Promise<void> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.#secret) headers.Authorization = `Bearer ${this.#secret}`;
    const response = await fetch(`${this.#url}?event=${event.kind}`, {
      method: "POST",
      headers,
      body: JSON.stringify([event.row]),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    if (response.ok) return;
    if (response.status === 401) {
      throw new FatalTargetError(
        "le relais refuse le secret (401) : donnez le même WEBHOOK_SECRET qu'au relais",
      );
    }
    if (response.status >= 400 && response.status < 500 && response.status !== 429) {
      throw new FatalTargetError(`le relais refuse les webhooks (${response.status})`);
    }
    throw new Error(`le relais répond ${response.status}`);
  }
}

/** Writes to a Grist table (POST for a new row, PATCH after), so Grist sends the webhooks. */
export class GristTarget implements SimulationTarget {
  readonly description: string;
  readonly #client: GristClient;
  readonly #table: string;
  /** Simulator row id → Grist row id. */
  readonly #rowIds = new Map<unknown, number>();

  constructor(client: GristClient, table: string) {
    this.#client = client;
    this.#table = table;
    this.description = `Grist, document « ${client.docId} », table « ${table} »`;
  }

  async send(event: SimulatedEvent): Promise<void> {
    const { id, manualSort: _manualSort, ...fields } = event.row;
    try {
      const rowId = this.#rowIds.get(id);
      if (rowId === undefined) {
        const [created] = await this.#client.addRecords(this.#table, [fields]);
        if (created !== undefined) this.#rowIds.set(id, created);
      } else {
        await this.#client.updateRecords(this.#table, [{ id: rowId, fields }]);
      }
    } catch (error) {
      if (
        error instanceof GristApiError &&
        !["server", "unreachable", "rate-limited"].includes(error.kind)
      ) {
        throw new FatalTargetError(error.message);
      }
      throw error;
    }
  }
}

export interface SimulationOptions {
  simulator: FieldSimulator;
  target: SimulationTarget;
  ratePerSecond: number;
  /** Events to send; undefined = until `signal` aborts. */
  count?: number;
  signal?: AbortSignal;
  onEvent?: (event: SimulatedEvent, error: Error | null) => void;
}

export interface SimulationSummary {
  sent: number;
  failed: number;
  added: number;
  updated: number;
}

/** Sends events at a steady rate; a failed send is counted and the run goes on, unless fatal. */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const summary: SimulationSummary = { sent: 0, failed: 0, added: 0, updated: 0 };
  const intervalMs = 1000 / options.ratePerSecond;
  const startedAt = performance.now();
  for (let i = 0; options.count === undefined || i < options.count; i++) {
    const wait = startedAt + i * intervalMs - performance.now();
    if (wait > 0) await sleep(wait, options.signal);
    if (options.signal?.aborted) break;
    const event = options.simulator.next(Math.floor(Date.now() / 1000));
    try {
      await options.target.send(event);
      summary.sent++;
      if (event.kind === "add") summary.added++;
      else summary.updated++;
      options.onEvent?.(event, null);
    } catch (error) {
      summary.failed++;
      options.onEvent?.(event, error as Error);
      if (error instanceof FatalTargetError) throw error;
    }
  }
  return summary;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

export async function runSimulateCommand(
  argv: string[],
  io: CommandIo & { signal?: AbortSignal },
): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowNegative: true }).values;
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    io.stderr.write(
      `${unknown ? `Option inconnue : ${unknown[1]}` : `Arguments invalides : ${message}`}\n\n« grist-realtime simulate --help » liste les options.\n`,
    );
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const settings = readSettings(values, io.env);
  if ("problems" in settings) {
    io.stderr.write(
      `Impossible de lancer la simulation :\n${settings.problems.map((p) => `  - ${p}`).join("\n")}\n`,
    );
    return 2;
  }

  let target: SimulationTarget;
  let columns = settings.columns;
  let withCoordinates = values.coordinates !== false;
  if (settings.grist) {
    const client = new GristClient({
      url: settings.grist.url,
      docId: settings.grist.docId,
      auth: { kind: "apiKey", apiKey: settings.grist.apiKey },
    });
    try {
      // Write to the real column ids (`ID2`…), whatever the document calls them.
      const matches = matchColumns(await client.listColumns(settings.grist.table));
      columns = Object.fromEntries(
        MAPPED_FIELDS.map((f) => [f, matches.get(f)?.id ?? DEFAULT_SIMULATOR_COLUMNS[f]]),
      ) as SimulatorColumns;
      withCoordinates &&= matches.has("latitude") && matches.has("longitude");
    } catch (error) {
      if (!(error instanceof GristApiError)) throw error;
      io.stderr.write(`Échec : ${error.message}\n`);
      return 1;
    }
    target = new GristTarget(client, settings.grist.table);
  } else {
    target = new RelayTarget(settings.relayUrl, settings.secret);
  }

  const simulator = new FieldSimulator({
    seed: settings.seed,
    columns,
    withCoordinates,
    firstId: settings.firstId,
  });
  const stopOnSignal = io.signal ? null : new AbortController();
  const onSignal = () => stopOnSignal?.abort();
  if (stopOnSignal) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  const total =
    settings.count ??
    (settings.durationSeconds > 0
      ? Math.round(settings.rate * settings.durationSeconds)
      : undefined);
  io.stdout.write(
    `Simulation vers ${target.description} : ${settings.rate} événement(s)/s, ${total ?? "sans fin"} événement(s), graine ${settings.seed}\n`,
  );
  try {
    const summary = await runSimulation({
      simulator,
      target,
      ratePerSecond: settings.rate,
      count: total,
      signal: io.signal ?? stopOnSignal?.signal,
      onEvent: values.quiet
        ? undefined
        : (event, error) =>
            io.stdout.write(
              `${describeEvent(event, columns)}${error ? ` — échec : ${error.message}` : ""}\n`,
            ),
    });
    io.stdout.write(
      `Bilan : ${summary.sent} envoyé(s) (${summary.added} ajout(s), ${summary.updated} modification(s)), ${summary.failed} échec(s).\n`,
    );
    return summary.failed > 0 ? 1 : 0;
  } catch (error) {
    if (!(error instanceof FatalTargetError)) throw error;
    io.stderr.write(`Arrêt : ${error.message}\n`);
    return 1;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

function describeEvent(event: SimulatedEvent, columns: SimulatorColumns): string {
  const row = event.row;
  const sign = event.kind === "add" ? "+" : "~";
  return `${sign} ${row[columns.reference]} ${row[columns.agent]} — ${row[columns.type]}, ${row[columns.statut]}, ${row[columns.priorite]} (${row[columns.localisation]})`;
}

interface Settings {
  relayUrl: string;
  secret: string | undefined;
  grist: { url: string; docId: string; apiKey: string; table: string } | null;
  columns: SimulatorColumns;
  rate: number;
  durationSeconds: number;
  count: number | undefined;
  seed: number;
  firstId: number;
}

function readSettings(
  values: Record<string, string | boolean | undefined>,
  env: CommandIo["env"],
): Settings | { problems: string[] } {
  const problems: string[] = [];
  const flag = (name: string) =>
    typeof values[name] === "string" && values[name] !== "" ? (values[name] as string) : undefined;
  const number = (
    name: string,
    fallback: number | undefined,
    check: (n: number) => boolean,
    expected: string,
  ) => {
    const raw = flag(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || !check(n)) problems.push(`--${name} : ${expected}, reçu « ${raw} »`);
    return n;
  };
  const rate =
    number(
      "rate",
      2,
      (n) => n > 0 && n <= 10_000,
      "nombre d'événements par seconde entre 0 et 10000",
    ) ?? 2;
  const durationSeconds = number("duration", 60, (n) => n >= 0, "secondes (0 = sans fin)") ?? 60;
  const count = number("count", undefined, (n) => Number.isInteger(n) && n >= 0, "entier positif");
  const seed = number("seed", Math.floor(Math.random() * 2 ** 31), Number.isInteger, "entier") ?? 1;
  const firstId = number("first-id", 1, (n) => Number.isInteger(n) && n > 0, "entier > 0") ?? 1;

  const explicit = flag("target");
  if (explicit !== undefined && explicit !== "relay" && explicit !== "grist")
    problems.push("--target : relay ou grist");
  const wantsGrist =
    explicit === "grist" ||
    (explicit === undefined &&
      (flag("grist-url") !== undefined ||
        (flag("relay-url") === undefined && !env.RELAY_PUBLIC_URL && Boolean(env.GRIST_URL))));
  let grist: Settings["grist"] = null;
  if (wantsGrist) {
    const url = flag("grist-url") ?? env.GRIST_URL;
    const docId = flag("doc") ?? env.GRIST_DOC_ID;
    const apiKey = flag("api-key") ?? env.GRIST_API_KEY;
    if (!url) problems.push("--grist-url (ou GRIST_URL) est requis pour la cible Grist");
    if (!docId) problems.push("--doc (ou GRIST_DOC_ID) est requis pour la cible Grist");
    if (!apiKey) problems.push("--api-key (ou GRIST_API_KEY) est requis pour la cible Grist");
    grist = {
      url: url ?? "",
      docId: docId ?? "",
      apiKey: apiKey ?? "",
      table: flag("table") ?? env.GRIST_TABLE ?? DEFAULT_TABLE_ID,
    };
  }
  const relayUrl = flag("relay-url") ?? env.RELAY_PUBLIC_URL ?? "http://127.0.0.1:8080";
  for (const url of [relayUrl, grist?.url].filter(Boolean) as string[]) {
    if (!/^https?:\/\//.test(url) || !URL.canParse(url))
      problems.push(`adresse http(s) attendue, reçu « ${url} »`);
  }
  const columns = readColumns(
    flag("mapping-file") ?? env.COLUMN_MAPPING_FILE,
    env.DATA_DIR,
    problems,
  );
  if (problems.length > 0) return { problems };
  return {
    relayUrl,
    secret: flag("webhook-secret") ?? env.WEBHOOK_SECRET,
    grist,
    columns,
    rate,
    durationSeconds,
    count,
    seed,
    firstId,
  };
}

/** Column ids from the mapping file `setup` wrote (first candidate per field), else the guide's. */
function readColumns(
  file: string | undefined,
  dataDir: string | undefined,
  problems: string[],
): SimulatorColumns {
  const path = file ?? join(dataDir || "./data", "column-mapping.json");
  if (!file && !existsSync(path)) return DEFAULT_SIMULATOR_COLUMNS;
  try {
    const mapping = ColumnMappingFileSchema.parse(JSON.parse(readFileSync(path, "utf8")));
    const columns = { ...DEFAULT_SIMULATOR_COLUMNS };
    for (const field of MAPPED_FIELDS) {
      const value = mapping[field];
      const first = typeof value === "string" ? value : value?.[0];
      if (first) columns[field] = first;
    }
    return columns;
  } catch (error) {
    problems.push(
      `fichier de correspondance ${path} illisible : ${(error as Error).message.split("\n")[0]}`,
    );
    return DEFAULT_SIMULATOR_COLUMNS;
  }
}
