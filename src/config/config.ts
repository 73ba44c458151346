/**
 * The relay's configuration: read once from flags and environment (flags win), validated with
 * every problem listed, then frozen. Nothing else in the relay reads `process.env`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { OPTIONS } from "./options.ts";

type Option = (typeof OPTIONS)[number];
type Shape = { [O in Option as O["env"]]: O["schema"] };
const ConfigSchema = z.object(Object.fromEntries(OPTIONS.map((o) => [o.env, o.schema])) as Shape);

export type Config = Readonly<z.output<typeof ConfigSchema>> & {
  /** Where the column mapping is read from, when a file is there. */
  readonly columnMappingFile: string | null;
  /** True when subscribers must present a JWT. */
  readonly authEnabled: boolean;
};

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Configuration invalide :\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ConfigSource {
  argv?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads `<ENV>_FILE` secrets; replaceable in tests. */
  readFile?: (path: string) => string;
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function parseFlags(argv: readonly string[]): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(
    OPTIONS.map((o) => [o.flag, { type: o.boolean ? ("boolean" as const) : ("string" as const) }]),
  );
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // parseArgs names the unknown or malformed flag; keep its words.
    throw new ConfigError([(error as Error).message]);
  }
}

function label(env: string): string {
  const option = OPTIONS.find((o) => o.env === env);
  return option ? `${env} (--${option.flag})` : env;
}

export function loadConfig(source: ConfigSource = {}): Config {
  const env = source.env ?? {};
  const readFile = source.readFile ?? ((path: string) => readFileSync(path, "utf8"));
  const flags = parseFlags(source.argv ?? []);
  const problems: string[] = [];
  const raw: Record<string, string | undefined> = {};
  for (const option of OPTIONS) {
    const flag = flags[option.flag];
    let value: string | undefined = typeof flag === "boolean" ? String(flag) : flag;
    value ??= env[option.env];
    const file = env[`${option.env}_FILE`];
    if (value === undefined && option.secret && file) {
      try {
        value = readFile(file).trim();
      } catch (error) {
        problems.push(
          `${option.env}_FILE : lecture impossible de ${file} (${(error as NodeJS.ErrnoException).code ?? "erreur"})`,
        );
      }
    }
    if (value === "" && option.secret && option.default === undefined) {
      // An empty secret used to count as unset, silently turning authentication off (a
      // `WEBHOOK_SECRET=` left in an env file): set means set, and long enough.
      problems.push(`${label(option.env)} : vide ; retirez la variable ou donnez un secret`);
      value = undefined;
    }
    if (value === "" && option.default === undefined) value = undefined;
    raw[option.env] = value ?? option.default;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success || problems.length > 0) {
    for (const issue of parsed.error?.issues ?? [])
      problems.push(`${label(String(issue.path[0]))} : ${issue.message}`);
    throw new ConfigError(problems);
  }
  const values = parsed.data;
  const authEnabled = Boolean(values.AUTH_JWT_SECRET || values.AUTH_JWKS_URL);
  if (!isLoopbackHost(values.HOST) && !authEnabled && !values.ALLOW_UNAUTHENTICATED_PUBLIC) {
    problems.push(
      `${label("HOST")} : écouter sur ${values.HOST} sans authentification exposerait les interventions ; définissez AUTH_JWT_SECRET ou AUTH_JWKS_URL, ou ALLOW_UNAUTHENTICATED_PUBLIC=true en connaissance de cause`,
    );
  }
  if (
    !isLoopbackHost(values.HOST) &&
    authEnabled &&
    !values.WEBHOOK_SECRET &&
    !values.ALLOW_UNAUTHENTICATED_WEBHOOKS
  ) {
    // Subscribers must show a token, so the operator means the relay to be protected; anyone
    // able to reach the address could still write interventions through the webhook.
    problems.push(
      `${label("WEBHOOK_SECRET")} : requis pour écouter sur ${values.HOST} avec l'authentification des abonnés ; sinon ALLOW_UNAUTHENTICATED_WEBHOOKS=true en connaissance de cause`,
    );
  }
  const grist = [values.GRIST_URL, values.GRIST_DOC_ID, values.GRIST_API_KEY];
  if (grist.some(Boolean) && !grist.every(Boolean)) {
    problems.push("GRIST_URL, GRIST_DOC_ID et GRIST_API_KEY vont ensemble : il en manque");
  }
  if (values.GEOCODE_WRITE_BACK && !grist.every(Boolean)) {
    problems.push(
      "GEOCODE_WRITE_BACK=true écrit dans le document Grist : définissez GRIST_URL, GRIST_DOC_ID et GRIST_API_KEY",
    );
  }
  const tchap = [values.TCHAP_HOMESERVER_URL, values.TCHAP_ACCESS_TOKEN, values.TCHAP_ROOM_ID];
  if (tchap.some(Boolean) && !tchap.every(Boolean)) {
    problems.push(
      "TCHAP_HOMESERVER_URL, TCHAP_ACCESS_TOKEN et TCHAP_ROOM_ID vont ensemble : il en manque",
    );
  }
  if (values.WORKERS > 1 && values.STORE !== "redis") {
    // Each process would have its own copy (memory) or fight for one file (SQLite): only the
    // Redis store gives several processes one ordered stream.
    problems.push(
      `${label("WORKERS")} : ${values.WORKERS} processus exigent STORE=redis ; avec STORE=${values.STORE}, un seul processus possède les données (WORKERS=1)`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const defaultMapping = join(values.DATA_DIR, "column-mapping.json");
  const columnMappingFile = values.COLUMN_MAPPING_FILE
    ? resolve(values.COLUMN_MAPPING_FILE)
    : existsSync(defaultMapping)
      ? resolve(defaultMapping)
      : null;
  return Object.freeze({
    ...values,
    CORS_ORIGINS: Object.freeze([...values.CORS_ORIGINS]),
    columnMappingFile,
    authEnabled,
  }) as Config;
}

/** The effective configuration with secrets masked, for logs and `--help`. */
export function redactConfig(config: Config): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const value = config[option.env as keyof Config];
    if (option.secret) shown[option.env] = value === undefined ? "(non défini)" : "[masqué]";
    else shown[option.env] = value;
  }
  return shown;
}

export function configHelp(): string {
  return OPTIONS.map((o) => {
    const def = o.default !== undefined && o.default !== "" ? ` (défaut : ${o.default})` : "";
    return `  --${o.flag.padEnd(28)} ${o.env}\n      ${o.description}${def}`;
  }).join("\n");
}
