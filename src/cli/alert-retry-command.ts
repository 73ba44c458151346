/**
 * `grist-realtime alert retry <clé> [--url <relais>]`: asks the running relay to put a failed
 * alert back in its queue (`POST /api/alerts/{clé}/retry`). Going through the relay, not the
 * store, works with every store (memory included) and wakes the sender at once.
 */
import { parseArgs } from "node:util";
import { mintToken } from "../auth/jwt.ts";
import { ConfigError, loadConfig } from "../config/config.ts";
import type { CommandIo } from "./io.ts";

export const RETRY_HELP = `Usage : grist-realtime alert retry <clé> [--url <adresse du relais>] [--token <jeton admin>]

Remet dans la file d'envoi une alerte en échec (clé affichée par /api/alerts, et envoyée aux
destinataires dans l'en-tête X-Grist-Realtime-Delivery).
  --url     adresse du relais (défaut : http://127.0.0.1:<PORT>)
  --token   jeton admin ; sinon un jeton d'une minute est signé avec AUTH_JWT_SECRET

Code de sortie : 0 relancée, 1 refusée par le relais ou relais injoignable, 2 usage incorrect.
`;

const FLAGS = {
  url: { type: "string" },
  token: { type: "string" },
  help: { type: "boolean" },
} as const;

/** The relay's error body, read without trusting it. */
function errorMessage(body: unknown): string | null {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== "string" || typeof error.message !== "string") return null;
  return `${error.code} : ${error.message.slice(0, 300)}`;
}

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
}

export async function runAlertRetryCommand(argv: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${RETRY_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(RETRY_HELP);
    return 0;
  }
  const key = positionals[0];
  if (positionals.length !== 1 || !key) {
    io.stderr.write(RETRY_HELP);
    return 2;
  }
  let base: string;
  let token = values.token;
  try {
    const config = loadConfig({ argv: [], env: io.env });
    const host = config.HOST === "0.0.0.0" || config.HOST === "::" ? "127.0.0.1" : config.HOST;
    base = values.url ?? `http://${host.includes(":") ? `[${host}]` : host}:${config.PORT}`;
    if (!token && config.AUTH_JWT_SECRET) {
      token = await mintToken({
        secret: config.AUTH_JWT_SECRET,
        role: "admin",
        subject: "cli:alert-retry",
        ttlSeconds: 60,
        ...(config.AUTH_JWT_ISSUER ? { issuer: config.AUTH_JWT_ISSUER } : {}),
        ...(config.AUTH_JWT_AUDIENCE ? { audience: config.AUTH_JWT_AUDIENCE } : {}),
      });
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return 2;
  }
  const url = new URL(`/api/alerts/${encodeURIComponent(key)}/retry`, base);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      redirect: "error",
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as Error).cause as { code?: unknown } | undefined;
    io.stderr.write(
      `Relais injoignable à ${url.origin} (${String(cause?.code ?? (error as Error).name)}) : vérifiez --url.\n`,
    );
    return 1;
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    io.stderr.write(
      `Relance refusée (HTTP ${response.status}) : ${errorMessage(body) ?? "réponse illisible"}\n`,
    );
    return 1;
  }
  io.stdout.write(`Alerte ${key} remise dans la file : elle part dans les secondes qui suivent.\n`);
  return 0;
}
