/**
 * Grist-token login for the widget: inside Grist, `grist.getAccessToken()` gives a token scoped
 * to one document and one user (grist.md §4.7). The relay proves it by reading the configured
 * table with it, then mints a short-lived relay token for the stream. Users need no other
 * credential, and a token of another document is refused by Grist itself ("token misuse").
 */
import { RelayError } from "../errors.ts";
import { GristApiError, GristClient } from "./rest-client.ts";

/** Lifetime of the relay token given in exchange; the widget asks again before it ends. */
export const RELAY_TOKEN_TTL_SECONDS = 300;

export interface RelayTokenClaims {
  role: "viewer";
  /** `grist:<docId>:user:<id>` when the Grist token says who, for the relay's logs. */
  subject: string;
  ttlSeconds: number;
}

export interface GristTokenExchangeOptions {
  /** The document the relay follows (GRIST_URL, GRIST_DOC_ID, GRIST_TABLE). */
  grist: { url: string; docId: string; table: string };
  mint: (claims: RelayTokenClaims) => Promise<string>;
  fetch?: typeof fetch;
  /** Checks sent to Grist at once; more are refused with 429. Defaults to 4. */
  maxConcurrentChecks?: number;
}

export interface ExchangeResult {
  token: string;
  expiresInSeconds: number;
}

/** Grist shows a document under its full id or a 12-character prefix (its "urlId"). */
const MIN_URL_ID_LENGTH = 12;

function sameDocument(a: string, b: string): boolean {
  if (a === b) return true;
  const [shorter, longer] = a.length < b.length ? [a, b] : [b, a];
  return shorter.length >= MIN_URL_ID_LENGTH && longer.startsWith(shorter);
}

/**
 * True when `baseUrl` (from getAccessToken) designates the configured document on the
 * configured server: same origin, `[/o/<org>]/api/docs/<doc>` under the configured path.
 */
export function baseUrlMatches(baseUrl: string, grist: { url: string; docId: string }): boolean {
  let given: URL;
  let configured: URL;
  try {
    given = new URL(baseUrl);
    configured = new URL(grist.url);
  } catch {
    return false;
  }
  if (given.origin !== configured.origin || given.search || given.hash) return false;
  const prefix = configured.pathname.replace(/\/+$/, "");
  const rest = given.pathname.replace(/\/+$/, "");
  if (!rest.startsWith(`${prefix}/`)) return false;
  const match = /^(?:\/o\/[^/]+)?\/api\/docs\/([^/]+)$/.exec(rest.slice(prefix.length));
  return match !== null && sameDocument(decodeURIComponent(match[1] ?? ""), grist.docId);
}

/** Reads the Grist user id from a token Grist has just accepted, for audit only. */
function gristUserId(token: string): number | null {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    );
    return Number.isSafeInteger(payload?.userId) ? payload.userId : null;
  } catch {
    return null;
  }
}

export class GristTokenExchange {
  readonly #options: GristTokenExchangeOptions;
  readonly #maxChecks: number;
  #activeChecks = 0;

  constructor(options: GristTokenExchangeOptions) {
    this.#options = options;
    this.#maxChecks = options.maxConcurrentChecks ?? 4;
  }

  async exchange(gristToken: string, baseUrl: string): Promise<ExchangeResult> {
    const { grist } = this.#options;
    // SSRF guard: the token is only ever sent to the CONFIGURED Grist document, never to the
    // address given in the request. baseUrl is only compared, to refuse early and clearly.
    if (!baseUrlMatches(baseUrl, grist)) {
      throw new RelayError(
        "RELAY_ERR_FORBIDDEN",
        "ce jeton Grist concerne un autre serveur ou un autre document que celui du relais",
      );
    }
    // Each exchange costs a request to Grist: bound them so the relay cannot be used to flood it.
    if (this.#activeChecks >= this.#maxChecks) {
      throw new RelayError(
        "RELAY_ERR_RATE_LIMITED",
        "trop de connexions Grist simultanées ; réessayez",
        { retryAfterSeconds: 1 },
      );
    }
    this.#activeChecks++;
    try {
      await this.#verify(gristToken);
    } finally {
      this.#activeChecks--;
    }
    const userId = gristUserId(gristToken);
    const subject = `grist:${grist.docId}${userId === null ? "" : `:user:${userId}`}`;
    const token = await this.#options.mint({
      role: "viewer",
      subject,
      ttlSeconds: RELAY_TOKEN_TTL_SECONDS,
    });
    return { token, expiresInSeconds: RELAY_TOKEN_TTL_SECONDS };
  }

  async #verify(gristToken: string): Promise<void> {
    const { grist } = this.#options;
    const client = new GristClient({
      url: grist.url,
      docId: grist.docId,
      auth: { kind: "accessToken", token: gristToken },
      fetch: this.#options.fetch,
      maxAttempts: 2,
      timeoutMs: 5000,
    });
    try {
      await client.fetchRecords(grist.table, { limit: 1 });
    } catch (error) {
      throw toRelayError(error);
    }
  }
}

function toRelayError(error: unknown): RelayError {
  if (!(error instanceof GristApiError)) {
    return new RelayError("RELAY_ERR_INTERNAL", "vérification du jeton Grist impossible", {
      cause: error,
    });
  }
  switch (error.kind) {
    case "bad-token":
    case "bad-key":
      return error.status === 401
        ? new RelayError(
            "RELAY_ERR_UNAUTHORIZED",
            `jeton Grist refusé (${error.gristMessage}) ; rechargez le widget`,
            { cause: error },
          )
        : new RelayError(
            "RELAY_ERR_FORBIDDEN",
            "ce jeton Grist ne donne pas accès au document du relais",
            { cause: error },
          );
    case "missing-table":
    case "missing-column":
      // Access rules can hide a table from a user: Grist then says it does not exist.
      return new RelayError(
        "RELAY_ERR_FORBIDDEN",
        "ce jeton Grist ne permet pas de lire la table suivie",
        { cause: error },
      );
    default:
      return new RelayError(
        "RELAY_ERR_GRIST_UNREACHABLE",
        `Grist n'a pas pu vérifier le jeton : ${error.message}`,
        { cause: error },
      );
  }
}
