/**
 * The alert configuration: which events trigger an alert and where each alert goes. Read once
 * at start from the JSON file named by `ALERTS_CONFIG` (schema documented in docs/alertes.md),
 * or built from the three `TCHAP_*` variables. Every problem is reported at once, with its path.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { EVENT_SOURCES, type EventSource } from "../domain/events.ts";
import { ALARM_KINDS, TRACKED_FIELDS } from "../domain/vocabulary.ts";

/** Room ids start with `!`; since room version 12 they no longer carry `:server`. */
const ROOM_ID = /^![^\s/]{1,255}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A tracked field (`priorite`) or a raw Grist column (`fields.Equipe`). */
const FIELD_PATH = new RegExp(`^(?:${TRACKED_FIELDS.join("|")}|fields\\.[A-Za-z_][A-Za-z0-9_]*)$`);

const nameSchema = z
  .string()
  .regex(NAME, "nom attendu : lettres, chiffres, - ou _ (64 caractères au plus)");
const fieldSchema = z
  .string()
  .regex(FIELD_PATH, `champ attendu : ${TRACKED_FIELDS.join(", ")} ou fields.<colonne Grist>`);
const valueSchema = z.string().min(1).max(200);
const valuesSchema = z.union([valueSchema, z.array(valueSchema).min(1).max(50)]);
const httpUrl = z.url({ protocol: /^https?$/, error: "URL http:// ou https:// attendue" });

const recordTriggerSchema = z.strictObject({
  on: z.enum(["record.added", "record.updated", "record.removed"]),
  /** Every listed field must have one of the listed values in the record's current state. */
  where: z.record(fieldSchema, valuesSchema).optional(),
});
const changeTriggerSchema = z.strictObject({
  on: z.literal("change"),
  field: fieldSchema,
  from: valuesSchema.optional(),
  to: valuesSchema.optional(),
});
/** The record *became* urgent or blocked: the dashboard's alarm rule (`alarmsRaisedBy`). */
const alarmTriggerSchema = z.strictObject({
  on: z.literal("alarm"),
  kind: z.enum(ALARM_KINDS),
});
const triggerSchema = z.discriminatedUnion(
  "on",
  [recordTriggerSchema, changeTriggerSchema, alarmTriggerSchema],
  { error: "« on » attendu : record.added, record.updated, record.removed, change ou alarm" },
);

const ruleSchema = z.strictObject({
  name: nameSchema,
  title: z.string().min(1).max(120).optional(),
  triggers: z.array(triggerSchema).min(1).max(20),
  departements: z.array(z.string().min(1).max(3)).min(1).optional(),
  types: z.array(valueSchema).min(1).optional(),
  sources: z.array(z.enum(EVENT_SOURCES)).min(1).optional(),
  destinations: z.array(nameSchema).min(1),
});

const secretText = z.string().min(1).max(4096);
const matrixSchema = z.strictObject({
  name: nameSchema,
  kind: z.literal("matrix"),
  homeserverUrl: httpUrl,
  accessToken: secretText.optional(),
  accessTokenFile: z.string().min(1).optional(),
  roomId: z.string().regex(ROOM_ID, "identifiant de salon attendu : !abc… (pas un alias #…)"),
  minIntervalMs: z.number().int().min(0).max(3_600_000).optional(),
  retryWindowMs: z.number().int().min(1000).max(604_800_000).optional(),
});
const webhookSchema = z.strictObject({
  name: nameSchema,
  kind: z.literal("webhook"),
  url: httpUrl,
  secret: z.string().min(16, "au moins 16 caractères").max(4096).optional(),
  secretFile: z.string().min(1).optional(),
  minIntervalMs: z.number().int().min(0).max(3_600_000).optional(),
  retryWindowMs: z.number().int().min(1000).max(604_800_000).optional(),
});
const destinationSchema = z.discriminatedUnion("kind", [matrixSchema, webhookSchema], {
  error: "« kind » attendu : matrix ou webhook",
});

const deliverySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).optional(),
  backoffBaseMs: z.number().int().min(100).max(600_000).optional(),
  backoffMaxMs: z.number().int().min(1000).max(86_400_000).optional(),
});

const fileSchema = z.strictObject({
  $schema: z.string().optional(),
  destinations: z.array(destinationSchema).min(1).max(50),
  rules: z.array(ruleSchema).max(100).optional(),
  delivery: deliverySchema.optional(),
});
type AlertsFile = z.infer<typeof fileSchema>;

export type RecordTrigger = z.infer<typeof recordTriggerSchema>;
export type ChangeTrigger = z.infer<typeof changeTriggerSchema>;
export type AlarmTrigger = z.infer<typeof alarmTriggerSchema>;
export type AlertTrigger = RecordTrigger | ChangeTrigger | AlarmTrigger;

export interface AlertRule {
  name: string;
  /** First line of the message, e.g. "🚨 Intervention urgente". */
  title: string;
  triggers: AlertTrigger[];
  departements: string[] | null;
  types: string[] | null;
  sources: EventSource[];
  destinations: string[];
}

export interface MatrixDestination {
  name: string;
  kind: "matrix";
  homeserverUrl: string;
  accessToken: string;
  roomId: string;
  /** At most one message per this many ms to this room (Tchap asks for about 1/s). */
  minIntervalMs: number;
  /** How long a failing alert keeps being retried; defaults to 24 h (dispatcher). */
  retryWindowMs?: number;
}

export interface WebhookDestination {
  name: string;
  kind: "webhook";
  url: string;
  secret: string;
  minIntervalMs: number;
  /** How long a failing alert keeps being retried; defaults to 24 h (dispatcher). */
  retryWindowMs?: number;
}

export type AlertDestination = MatrixDestination | WebhookDestination;

/**
 * Retry policy; absent fields keep the dispatcher's defaults (no attempt cap: each destination's
 * `retryWindowMs`, 24 h, bounds the retries; waits of 5 s doubling to 5 min).
 */
export type DeliverySettings = z.infer<typeof deliverySchema>;

export interface AlertsConfig {
  destinations: AlertDestination[];
  rules: AlertRule[];
  delivery?: DeliverySettings;
}

export interface ConfigIssue {
  /** Where in the file, e.g. `destinations[0].roomId`. */
  path: string;
  message: string;
}

export class AlertsConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(source: string, issues: ConfigIssue[]) {
    const lines = issues.map((issue) => `- ${issue.path || "(racine)"} : ${issue.message}`);
    super(
      `Configuration des alertes invalide (${source}, ${issues.length} erreur(s)) :\n${lines.join("\n")}`,
    );
    this.name = "AlertsConfigError";
    this.issues = issues;
  }
}

export const DEFAULT_MATRIX_MIN_INTERVAL_MS = 1000;

/**
 * Initial sync (`sync`) is left out by default: it replays every existing row as
 * `record.added`, and the room would get one alert per urgent row at each fresh start.
 */
const DEFAULT_SOURCES: EventSource[] = ["webhook", "reconciliation"];

/**
 * The guide's two cases: an intervention becomes urgent, an intervention becomes blocked —
 * edges, as on the dashboard: never for another update of an urgent row, never for closing it.
 */
export function defaultAlertRules(destinations: readonly string[]): AlertRule[] {
  const common = { departements: null, types: null, sources: [...DEFAULT_SOURCES] };
  return [
    {
      ...common,
      name: "urgence",
      title: "🚨 Intervention urgente",
      triggers: [{ on: "alarm", kind: "urgente" }],
      destinations: [...destinations],
    },
    {
      ...common,
      name: "blocage",
      title: "⛔ Intervention bloquée",
      triggers: [{ on: "alarm", kind: "bloque" }],
      destinations: [...destinations],
    },
  ];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`,
    )
    .join("");
}

function readSecretFile(
  file: string,
  baseDir: string,
  path: string,
  issues: ConfigIssue[],
): string | null {
  try {
    const value = readFileSync(resolve(baseDir, file), "utf8").trim();
    if (value === "") issues.push({ path, message: "le fichier est vide" });
    return value === "" ? null : value;
  } catch (error) {
    const code = (error as { code?: string }).code ?? "illisible";
    issues.push({ path, message: `fichier illisible (${code})` });
    return null;
  }
}

/** Exactly one of the inline secret and its file; the file is read now, relative to baseDir. */
function pickSecret(
  inline: string | undefined,
  file: string | undefined,
  names: { inline: string; file: string },
  at: string,
  baseDir: string,
  issues: ConfigIssue[],
): string {
  if (inline !== undefined && file !== undefined) {
    issues.push({ path: at, message: `« ${names.inline} » ou « ${names.file} », pas les deux` });
    return "";
  }
  if (file !== undefined) return readSecretFile(file, baseDir, `${at}.${names.file}`, issues) ?? "";
  if (inline === undefined) {
    issues.push({ path: at, message: `« ${names.inline} » ou « ${names.file} » est requis` });
    return "";
  }
  return inline;
}

function resolveDestinations(
  file: AlertsFile,
  baseDir: string,
  issues: ConfigIssue[],
): AlertDestination[] {
  return file.destinations.map((destination, index): AlertDestination => {
    const at = `destinations[${index}]`;
    if (destination.kind === "matrix") {
      const names = { inline: "accessToken", file: "accessTokenFile" };
      const { accessToken, accessTokenFile, ...rest } = destination;
      return {
        ...rest,
        accessToken: pickSecret(accessToken, accessTokenFile, names, at, baseDir, issues),
        minIntervalMs: destination.minIntervalMs ?? DEFAULT_MATRIX_MIN_INTERVAL_MS,
      };
    }
    const names = { inline: "secret", file: "secretFile" };
    const { secret, secretFile, ...rest } = destination;
    const value = pickSecret(secret, secretFile, names, at, baseDir, issues);
    if (secretFile !== undefined && value !== "" && value.length < 16) {
      issues.push({
        path: `${at}.secretFile`,
        message: "secret de 16 caractères au moins attendu",
      });
    }
    return { ...rest, secret: value, minIntervalMs: destination.minIntervalMs ?? 0 };
  });
}

function resolveRules(file: AlertsFile, known: Set<string>, issues: ConfigIssue[]): AlertRule[] {
  if (file.rules === undefined) return defaultAlertRules([...known]);
  const seen = new Set<string>();
  return file.rules.map((rule, index) => {
    if (seen.has(rule.name)) {
      issues.push({ path: `rules[${index}].name`, message: `règle « ${rule.name} » en double` });
    }
    seen.add(rule.name);
    rule.destinations.forEach((name, d) => {
      if (!known.has(name)) {
        issues.push({
          path: `rules[${index}].destinations[${d}]`,
          message: `destination inconnue « ${name} » (connues : ${[...known].join(", ")})`,
        });
      }
    });
    return {
      name: rule.name,
      title: rule.title ?? "Alerte intervention",
      triggers: rule.triggers,
      departements: rule.departements ?? null,
      types: rule.types ?? null,
      sources: rule.sources ?? [...DEFAULT_SOURCES],
      destinations: rule.destinations,
    };
  });
}

/**
 * Validates a parsed configuration file. `baseDir` resolves `accessTokenFile`/`secretFile`.
 * Throws `AlertsConfigError` listing every problem found.
 */
export function parseAlertsConfig(
  raw: unknown,
  options: { baseDir: string; source?: string },
): AlertsConfig {
  const source = options.source ?? "configuration";
  const parsed = fileSchema.safeParse(raw, { error: z.locales.fr().localeError });
  if (!parsed.success) {
    throw new AlertsConfigError(
      source,
      parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path),
        message: issue.message,
      })),
    );
  }
  const issues: ConfigIssue[] = [];
  const destinations = resolveDestinations(parsed.data, options.baseDir, issues);
  const known = new Set<string>();
  destinations.forEach((destination, index) => {
    if (known.has(destination.name)) {
      issues.push({
        path: `destinations[${index}].name`,
        message: `destination « ${destination.name} » en double`,
      });
    }
    known.add(destination.name);
  });
  const rules = resolveRules(parsed.data, known, issues);
  if (issues.length > 0) throw new AlertsConfigError(source, issues);
  const delivery = parsed.data.delivery;
  return Object.freeze(delivery ? { destinations, rules, delivery } : { destinations, rules });
}

/** Where the JSON breaks, without the snippet V8 quotes (it may hold a token). */
function jsonErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  const position = /line (\d+) column (\d+)/.exec(message);
  if (position) return `JSON invalide (ligne ${position[1]}, colonne ${position[2]})`;
  return message.startsWith("Unexpected end")
    ? "JSON invalide : fin de fichier inattendue"
    : "JSON invalide : caractère inattendu";
}

/** Reads and validates the file named by `ALERTS_CONFIG`. */
export function loadAlertsConfigFile(file: string): AlertsConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code ?? "illisible";
    throw new AlertsConfigError(file, [{ path: "", message: `fichier illisible (${code})` }]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new AlertsConfigError(file, [{ path: "", message: jsonErrorMessage(error) }]);
  }
  return parseAlertsConfig(raw, { baseDir: dirname(resolve(file)), source: file });
}

/**
 * One Tchap room with the default rules, from `TCHAP_HOMESERVER_URL`, `TCHAP_ACCESS_TOKEN` and
 * `TCHAP_ROOM_ID` (the caller reads the environment). The destination is named `tchap`.
 */
export function alertsConfigFromTchap(values: {
  homeserverUrl: string;
  accessToken: string;
  roomId: string;
}): AlertsConfig {
  const raw = { destinations: [{ name: "tchap", kind: "matrix", ...values }] };
  try {
    return parseAlertsConfig(raw, { baseDir: ".", source: "variables TCHAP_*" });
  } catch (error) {
    if (!(error instanceof AlertsConfigError)) throw error;
    // Name the variables, not the file paths the operator never wrote.
    const env: Record<string, string> = {
      "destinations[0].homeserverUrl": "TCHAP_HOMESERVER_URL",
      "destinations[0].accessToken": "TCHAP_ACCESS_TOKEN",
      "destinations[0].roomId": "TCHAP_ROOM_ID",
    };
    throw new AlertsConfigError(
      "variables TCHAP_*",
      error.issues.map((issue) => ({ ...issue, path: env[issue.path] ?? issue.path })),
    );
  }
}

/** The settings of the relay's configuration that say where alert rules come from. */
export interface AlertSettings {
  ALERTS_CONFIG?: string | undefined;
  TCHAP_HOMESERVER_URL?: string | undefined;
  TCHAP_ACCESS_TOKEN?: string | undefined;
  TCHAP_ROOM_ID?: string | undefined;
}

/**
 * The alert configuration the settings describe: the `ALERTS_CONFIG` file, or the single
 * Tchap room of the `TCHAP_*` variables, or null when alerts are off. Both at once is refused
 * rather than guessing which one the operator meant.
 */
export function alertsConfigFromSettings(settings: AlertSettings): AlertsConfig | null {
  const tchap = [
    settings.TCHAP_HOMESERVER_URL,
    settings.TCHAP_ACCESS_TOKEN,
    settings.TCHAP_ROOM_ID,
  ] as const;
  const anyTchap = tchap.some((value) => value !== undefined && value !== "");
  if (settings.ALERTS_CONFIG) {
    if (anyTchap) {
      throw new AlertsConfigError(settings.ALERTS_CONFIG, [
        {
          path: "TCHAP_*",
          message:
            "ALERTS_CONFIG et les variables TCHAP_* s'excluent : déclarez le salon Tchap dans le fichier",
        },
      ]);
    }
    return loadAlertsConfigFile(settings.ALERTS_CONFIG);
  }
  if (!anyTchap) return null;
  const [homeserverUrl = "", accessToken = "", roomId = ""] = tchap;
  return alertsConfigFromTchap({ homeserverUrl, accessToken, roomId });
}
