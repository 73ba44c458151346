/**
 * The two Matrix client-server calls the relay needs, over fetch: send a room message and ask
 * who the token belongs to. Answers are classified into retry / give up, with the reason in
 * French. The access token only ever travels in the Authorization header.
 */
import {
  type DeliveryFailure,
  type DeliveryOutcome,
  failure,
  networkFailure,
  parseRetryAfter,
  readSmallJson,
  redirectFailure,
  remoteText,
} from "./delivery.ts";
import type { MatrixMessageContent } from "./message.ts";

export interface MatrixTarget {
  homeserverUrl: string;
  accessToken: string;
  roomId: string;
}

export interface MatrixCallOptions {
  fetch?: typeof fetch;
  /** Per request; defaults to 10 000 ms. */
  timeoutMs?: number;
  now?: () => number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function clientUrl(homeserverUrl: string, path: string): string {
  return `${homeserverUrl.replace(/\/+$/, "")}/_matrix/client/v3${path}`;
}

/**
 * Spec v1.20 dropped the `access_token` query parameter, and a URL ends up in proxy logs: the
 * header is the only place the token goes.
 */
function authHeaders(accessToken: string): Record<string, string> {
  return { Authorization: `Bearer ${accessToken}`, "User-Agent": "grist-realtime" };
}

function errcodeOf(body: Record<string, unknown>): string {
  const code = body.errcode;
  return typeof code === "string" && /^[A-Z0-9_.]{1,64}$/i.test(code) ? code : "";
}

function describe(status: number, errcode: string, body: Record<string, unknown>): string {
  const detail = remoteText(body.error);
  return `${status}${errcode ? ` ${errcode}` : ""}${detail ? ` : ${detail}` : ""}`;
}

/** Turns a non-2xx Matrix answer into an outcome. */
async function classify(response: Response, nowMs: number): Promise<DeliveryFailure> {
  if (response.status >= 300 && response.status < 400) return redirectFailure(response);
  const body = await readSmallJson(response);
  const { status } = response;
  const errcode = errcodeOf(body);
  const what = describe(status, errcode, body);
  const headerDelay = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  if (status === 429 || errcode === "M_LIMIT_EXCEEDED") {
    // Since spec v1.10 servers SHOULD send Retry-After; retry_after_ms is the older way.
    const bodyDelay =
      typeof body.retry_after_ms === "number" && body.retry_after_ms >= 0
        ? body.retry_after_ms
        : null;
    const retryAfterMs = headerDelay ?? bodyDelay;
    return failure("rate-limited", `limité par le serveur (${what})`, {
      retryable: true,
      retryAfterMs,
      status,
    });
  }
  if (status === 401 || errcode === "M_UNKNOWN_TOKEN" || errcode === "M_MISSING_TOKEN") {
    return failure("bad-token", `jeton invalide (${what})`, { status });
  }
  if (status === 403 || status === 404) {
    if (errcode === "M_UNRECOGNIZED") {
      return failure("rejected", `point d'accès inconnu : URL du serveur incorrecte (${what})`, {
        status,
      });
    }
    return failure("unknown-room", `salon inconnu ou bot non membre (${what})`, { status });
  }
  if (status >= 500 || status === 408) {
    return failure("server", `erreur du serveur (${what})`, {
      retryable: true,
      retryAfterMs: headerDelay,
      status,
    });
  }
  return failure("rejected", `requête refusée (${what})`, { status });
}

/**
 * `PUT /rooms/{roomId}/send/m.room.message/{txnId}`. Reusing the txnId of a previous attempt
 * is what lets the homeserver drop a duplicate when the first attempt did arrive.
 */
export async function sendMatrixMessage(
  target: MatrixTarget,
  txnId: string,
  content: MatrixMessageContent,
  options: MatrixCallOptions = {},
): Promise<DeliveryOutcome> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const url = clientUrl(
    target.homeserverUrl,
    `/rooms/${encodeURIComponent(target.roomId)}/send/m.room.message/${encodeURIComponent(txnId)}`,
  );
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: "PUT",
      headers: { ...authHeaders(target.accessToken), "Content-Type": "application/json" },
      body: JSON.stringify(content),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  if (response.ok) {
    const body = await readSmallJson(response);
    return { ok: true, detail: typeof body.event_id === "string" ? body.event_id : "" };
  }
  return classify(response, now());
}

/** `GET /account/whoami`: checks the token and tells which account and device the bot is. */
export async function matrixWhoAmI(
  target: Pick<MatrixTarget, "homeserverUrl" | "accessToken">,
  options: MatrixCallOptions = {},
): Promise<{ ok: true; userId: string; deviceId: string | null } | DeliveryFailure> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(clientUrl(target.homeserverUrl, "/account/whoami"), {
      headers: authHeaders(target.accessToken),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  if (!response.ok) return classify(response, (options.now ?? Date.now)());
  const body = await readSmallJson(response);
  if (typeof body.user_id !== "string") {
    return failure("rejected", "réponse inattendue de /account/whoami");
  }
  const deviceId = typeof body.device_id === "string" ? remoteText(body.device_id, 255) : null;
  return { ok: true, userId: remoteText(body.user_id, 255) ?? "", deviceId };
}

/**
 * `GET /rooms/{roomId}/state/m.room.encryption/`: true when the room is end-to-end encrypted
 * (the event exists), false when it is not (404 M_NOT_FOUND). Encryption cannot be turned off
 * once on, so a caller may remember a true answer.
 */
export async function matrixRoomEncrypted(
  target: MatrixTarget,
  options: MatrixCallOptions = {},
): Promise<{ ok: true; encrypted: boolean } | DeliveryFailure> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const path = `/rooms/${encodeURIComponent(target.roomId)}/state/m.room.encryption/`;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(clientUrl(target.homeserverUrl, path), {
      headers: authHeaders(target.accessToken),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  if (response.ok) {
    await readSmallJson(response);
    return { ok: true, encrypted: true };
  }
  if (response.status === 404) {
    const body = await readSmallJson(response);
    const errcode = errcodeOf(body);
    if (errcode === "M_NOT_FOUND") return { ok: true, encrypted: false };
    return failure(
      "unknown-room",
      `salon inconnu ou bot non membre (${describe(404, errcode, body)})`,
      {
        status: 404,
      },
    );
  }
  return classify(response, (options.now ?? Date.now)());
}

/** A GET on the client-server API, for `tchap check`: the JSON body or the classified failure. */
export function matrixGet(
  target: Pick<MatrixTarget, "homeserverUrl" | "accessToken">,
  path: string,
  options: MatrixCallOptions = {},
): Promise<{ ok: true; body: Record<string, unknown> } | DeliveryFailure> {
  return matrixCall(target, path, null, options);
}

/** A POST with a JSON body (e.g. `/keys/query`); the answer is read up to the same bound. */
export function matrixPost(
  target: Pick<MatrixTarget, "homeserverUrl" | "accessToken">,
  path: string,
  body: Record<string, unknown>,
  options: MatrixCallOptions = {},
): Promise<{ ok: true; body: Record<string, unknown> } | DeliveryFailure> {
  return matrixCall(target, path, body, options);
}

async function matrixCall(
  target: Pick<MatrixTarget, "homeserverUrl" | "accessToken">,
  path: string,
  body: Record<string, unknown> | null,
  options: MatrixCallOptions,
): Promise<{ ok: true; body: Record<string, unknown> } | DeliveryFailure> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(clientUrl(target.homeserverUrl, path), {
      ...(body
        ? {
            method: "POST",
            body: JSON.stringify(body),
            headers: { ...authHeaders(target.accessToken), "Content-Type": "application/json" },
          }
        : { headers: authHeaders(target.accessToken) }),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  if (!response.ok) return classify(response, (options.now ?? Date.now)());
  return { ok: true, body: await readSmallJson(response) };
}

/** `POST /login` with a password (by user id or, as Tchap accounts are, by e-mail). */
export async function matrixPasswordLogin(
  homeserverUrl: string,
  login: { user: string; password: string; deviceName: string },
  options: MatrixCallOptions = {},
): Promise<{ ok: true; userId: string; accessToken: string; deviceId: string } | DeliveryFailure> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const identifier =
    login.user.includes("@") && !login.user.startsWith("@")
      ? { type: "m.id.thirdparty", medium: "email", address: login.user }
      : { type: "m.id.user", user: login.user };
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(clientUrl(homeserverUrl, "/login"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "grist-realtime" },
      body: JSON.stringify({
        type: "m.login.password",
        identifier,
        password: login.password,
        initial_device_display_name: login.deviceName,
      }),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return networkFailure(error, timeoutMs);
  }
  if (response.status === 403) {
    await readSmallJson(response);
    return failure("bad-token", "identifiant ou mot de passe refusé (403 M_FORBIDDEN)", {
      status: 403,
    });
  }
  if (!response.ok) return classify(response, (options.now ?? Date.now)());
  const body = await readSmallJson(response);
  const { user_id: userId, access_token: accessToken, device_id: deviceId } = body;
  if (
    typeof userId !== "string" ||
    typeof accessToken !== "string" ||
    typeof deviceId !== "string"
  ) {
    return failure("rejected", "réponse inattendue de /login");
  }
  return { ok: true, userId, accessToken, deviceId };
}
