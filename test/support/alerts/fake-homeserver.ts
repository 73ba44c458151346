/**
 * A local Matrix client-server API server for tests, behaving like a homeserver on what the
 * relay and a matrix-js-sdk client call (spec v1.x: `login`, `whoami`, `sync`, room state and
 * members, `room_send.yaml`, `keys/upload|query|claim`, cross-signing uploads, `sendToDevice`,
 * "Transaction identifiers", "Rate limiting"):
 * - Bearer token required: none → 401 M_MISSING_TOKEN, unknown → 401 M_UNKNOWN_TOKEN; the
 *   `access_token` query parameter is ignored, as spec v1.20 dropped it.
 * - `POST /login` (m.login.password, by user id, localpart or e-mail) creates a token and a device.
 * - txnId deduplicated per access token: same txnId → same event_id, event stored once.
 * - Unknown room → 404 M_NOT_FOUND; room the user has not joined → 403 M_FORBIDDEN.
 * - `/sync` long-polls on one stream of room events, to-device messages and key changes.
 * - Cross-signing: `keys/device_signing/upload` behind user-interactive auth (401 with a
 *   session, then `m.login.password` answering it; optionally no auth for a first upload, as
 *   MSC3967 servers do), `keys/signatures/upload` merged into what `keys/query` returns.
 * - Account data (`/user/{me}/account_data/{type}`, and in `/sync`), where secret storage lives.
 * - Scripted failures for the next room sends: 429 M_LIMIT_EXCEEDED (Retry-After and/or
 *   retry_after_ms), 500, or a dropped connection; and an outage switch.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleCrypto } from "./fake-homeserver-crypto.ts";
import { defaultPushRules } from "./fake-homeserver-push-rules.ts";
import { HomeserverState, type MatrixEvent, type RoomSetup } from "./fake-homeserver-state.ts";
import { handleSync } from "./fake-homeserver-sync.ts";

export type FakeRoom = RoomSetup;

export interface FakeAccount {
  password: string;
  /** Lets `m.id.thirdparty` e-mail logins find the account, as Tchap logins do. */
  email?: string;
}

export interface FakeHomeserverOptions {
  /** access token → user id (device `FAKEDEVICE`), or user id and device id. */
  tokens: Record<string, string | { userId: string; deviceId: string }>;
  /** room id → room. */
  rooms: Record<string, FakeRoom>;
  /** user id → account, for `POST /login`. */
  accounts?: Record<string, FakeAccount>;
  /** A first cross-signing upload needs no auth (MSC3967); default false, like older Synapse. */
  firstCrossSigningUploadWithoutAuth?: boolean;
}

export interface ReceivedMessage {
  roomId: string;
  sender: string;
  txnId: string;
  eventId: string;
  /** `m.room.message`, or `m.room.encrypted` from an encrypting client. */
  eventType: string;
  content: Record<string, unknown>;
}

export interface ScriptedFailure {
  status: number;
  errcode?: string;
  /** Sent as `retry_after_ms` in the JSON body. */
  retryAfterMs?: number;
  /** Sent as the `Retry-After` header (seconds). */
  retryAfterSeconds?: number;
  /** Destroy the socket instead of answering (a network error for the client). */
  dropConnection?: boolean;
}

export interface RequestLogEntry {
  method: string;
  /** Path and query as received: tests check the token never shows up here. */
  url: string;
  hadAuthorization: boolean;
  status: number;
  /** When the request arrived (ms since the epoch). */
  at: number;
}

export interface FakeHomeserver {
  url: string;
  /** Every room event sent through `PUT /rooms/…/send`, once per transaction. */
  messages: ReceivedMessage[];
  requests: RequestLogEntry[];
  state: HomeserverState;
  /** The next `count` room sends fail this way (after authentication, like a real rate limiter). */
  failNext(count: number, failure: ScriptedFailure): void;
  /** While set, every request fails this way; `null` ends the outage. */
  setOutage(failure: ScriptedFailure | null): void;
  /** Revokes a token, as a logout elsewhere would. */
  revoke(token: string): void;
  close(): Promise<void>;
}

export interface Caller {
  token: string;
  userId: string;
  deviceId: string;
}

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const MAX_BODY_BYTES = 262_144;
const CLIENT = "/_matrix/client/v3";
const SEND_PATH = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/;
const ROOM_PATH =
  /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/(state|members|joined_members)(?:\/([^/]+)(?:\/([^/]*))?)?$/;

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const error = (status: number, errcode: string, message: string): Reply => ({
  status,
  body: { errcode, error: message },
});

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function parseJson(body: Buffer | null): Record<string, unknown> | null {
  if (body === null || body.length === 0) return body === null ? null : {};
  try {
    const value = JSON.parse(body.toString("utf8"));
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}

export async function startFakeHomeserver(options: FakeHomeserverOptions): Promise<FakeHomeserver> {
  const state = new HomeserverState(options.rooms);
  const messages: ReceivedMessage[] = [];
  const requests: RequestLogEntry[] = [];
  const scripted: ScriptedFailure[] = [];
  const transactions = new Map<string, string>();
  const tokens = new Map<string, { userId: string; deviceId: string }>(
    Object.entries(options.tokens).map(([token, who]) => [
      token,
      typeof who === "string" ? { userId: who, deviceId: "FAKEDEVICE" } : who,
    ]),
  );
  const filters = new Map<string, unknown>();
  let outage: ScriptedFailure | null = null;

  function failureReply(failure: ScriptedFailure): Reply | "drop" {
    if (failure.dropConnection) return "drop";
    const headers: Record<string, string> = {};
    if (failure.retryAfterSeconds !== undefined) {
      headers["Retry-After"] = String(failure.retryAfterSeconds);
    }
    const body: Record<string, unknown> = {
      errcode: failure.errcode ?? (failure.status === 429 ? "M_LIMIT_EXCEEDED" : "M_UNKNOWN"),
      error: failure.status === 429 ? "Too Many Requests" : "Internal server error",
    };
    if (failure.retryAfterMs !== undefined) body.retry_after_ms = failure.retryAfterMs;
    return { status: failure.status, body, headers };
  }

  function login(body: Record<string, unknown>): Reply {
    if (body.type !== "m.login.password" || typeof body.password !== "string") {
      return error(400, "M_UNKNOWN", "Unknown login type");
    }
    const identifier = (body.identifier ?? {}) as Record<string, unknown>;
    const wanted = String(identifier.user ?? body.user ?? identifier.address ?? "");
    const entry = Object.entries(options.accounts ?? {}).find(
      ([userId, account]) =>
        userId === wanted ||
        userId.slice(1).split(":")[0] === wanted ||
        (identifier.medium === "email" && account.email === wanted),
    );
    if (!entry || entry[1].password !== body.password) {
      return error(403, "M_FORBIDDEN", "Invalid username or password");
    }
    const token = `syt_${randomBytes(12).toString("hex")}`;
    const deviceId =
      typeof body.device_id === "string"
        ? body.device_id
        : randomBytes(5).toString("hex").toUpperCase();
    tokens.set(token, { userId: entry[0], deviceId });
    return ok({ user_id: entry[0], access_token: token, device_id: deviceId });
  }

  function roomRead(caller: Caller, match: RegExpExecArray): Reply {
    const [, rawRoom = "", what = "", rawType, rawKey] = match;
    const roomId = decodeURIComponent(rawRoom);
    const room = state.rooms.get(roomId);
    if (!room) return error(404, "M_NOT_FOUND", "Unknown room");
    if (!room.members.includes(caller.userId)) {
      return error(403, "M_FORBIDDEN", `User ${caller.userId} not in room ${roomId}`);
    }
    const current = state.roomState(roomId);
    if (what === "members") {
      return ok({ chunk: current.filter((e) => e.type === "m.room.member") });
    }
    if (what === "joined_members") {
      return ok({ joined: Object.fromEntries(room.members.map((m) => [m, {}])) });
    }
    if (rawType === undefined) return ok(current);
    const type = decodeURIComponent(rawType);
    const key = decodeURIComponent(rawKey ?? "");
    const event = current.find((e) => e.type === type && e.state_key === key);
    return event ? ok(event.content) : error(404, "M_NOT_FOUND", "Event not found");
  }

  function roomSend(caller: Caller, match: RegExpExecArray, body: Buffer | null): Reply | "drop" {
    const [, rawRoom = "", rawType = "", rawTxn = ""] = match;
    const roomId = decodeURIComponent(rawRoom);
    const eventType = decodeURIComponent(rawType);
    const txnId = decodeURIComponent(rawTxn);
    const failure = scripted.shift();
    if (failure) return failureReply(failure);
    if (body === null) return error(413, "M_TOO_LARGE", "Event too large");
    const room = state.rooms.get(roomId);
    if (!room) return error(404, "M_NOT_FOUND", "Unknown room");
    if (!room.members.includes(caller.userId)) {
      return error(403, "M_FORBIDDEN", `User ${caller.userId} not in room ${roomId}`);
    }
    const content = parseJson(body);
    if (content === null) return error(400, "M_NOT_JSON", "Content not JSON.");
    if (eventType !== "m.room.message" && eventType !== "m.room.encrypted") {
      return error(400, "M_BAD_JSON", "Bad event");
    }
    const transactionKey = `${caller.token}\u0000${txnId}`;
    let eventId = transactions.get(transactionKey);
    if (!eventId) {
      const event: MatrixEvent = state.addEvent(roomId, caller.userId, eventType, content);
      eventId = event.event_id;
      transactions.set(transactionKey, eventId);
      messages.push({ roomId, sender: caller.userId, txnId, eventId, eventType, content });
    }
    return ok({ event_id: eventId });
  }

  async function route(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<Reply | "drop"> {
    if (outage) return failureReply(outage);
    const url = new URL(request.url ?? "/", "http://localhost");
    const path = url.pathname;
    const method = request.method ?? "GET";
    if (path === "/_matrix/client/versions") {
      return ok({ versions: ["v1.1", "v1.5", "v1.8", "v1.11", "v1.12"], unstable_features: {} });
    }
    if (path === `${CLIENT}/login`) {
      if (method === "GET") return ok({ flows: [{ type: "m.login.password" }] });
      const body = parseJson(await readBody(request));
      return body ? login(body) : error(400, "M_NOT_JSON", "Content not JSON.");
    }
    const auth = request.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    if (!token) return error(401, "M_MISSING_TOKEN", "Missing access token");
    const who = tokens.get(token);
    if (!who) return error(401, "M_UNKNOWN_TOKEN", "Unknown access token");
    const caller: Caller = { token, ...who };
    if (method === "GET" && path === `${CLIENT}/account/whoami`) {
      return ok({ user_id: caller.userId, device_id: caller.deviceId });
    }
    const send = SEND_PATH.exec(path);
    if (send && method === "PUT") return roomSend(caller, send, await readBody(request));
    const room = ROOM_PATH.exec(path);
    if (room && method === "GET") return roomRead(caller, room);
    if (path === `${CLIENT}/sync` && method === "GET") {
      return handleSync(state, caller, url.searchParams, response);
    }
    const filter = /^\/_matrix\/client\/v3\/user\/[^/]+\/filter(?:\/([^/]+))?$/.exec(path);
    if (filter) {
      if (method === "POST") {
        const id = String(filters.size + 1);
        filters.set(id, parseJson(await readBody(request)));
        return ok({ filter_id: id });
      }
      const stored = filters.get(filter[1] ?? "");
      return stored ? ok(stored) : error(404, "M_NOT_FOUND", "No such filter");
    }
    if (path === `${CLIENT}/pushrules/` || path === `${CLIENT}/pushrules`) {
      return ok(defaultPushRules());
    }
    if (path === `${CLIENT}/capabilities`) return ok({ capabilities: {} });
    const accountData = /^\/_matrix\/client\/v3\/user\/([^/]+)\/account_data\/([^/]+)$/.exec(path);
    if (accountData) {
      const [, rawUser = "", rawType = ""] = accountData;
      // Spec: only the user themself may read or write their account data.
      if (decodeURIComponent(rawUser) !== caller.userId) {
        return error(403, "M_FORBIDDEN", "Cannot access account data of other users");
      }
      const type = decodeURIComponent(rawType);
      if (method === "PUT") {
        const body = parseJson(await readBody(request));
        if (!body) return error(400, "M_NOT_JSON", "Content not JSON.");
        state.setAccountData(caller.userId, type, body);
        return ok({});
      }
      const stored = state.accountData.get(caller.userId)?.get(type);
      return stored ? ok(stored) : error(404, "M_NOT_FOUND", "Account data not found");
    }
    if (path.startsWith(`${CLIENT}/room_keys/`)) {
      return error(404, "M_NOT_FOUND", "No current backup version");
    }
    const passwords = Object.fromEntries(
      Object.entries(options.accounts ?? {}).map(([userId, account]) => [userId, account.password]),
    );
    const crypto = await handleCrypto(state, caller, method, path, () => readBody(request), {
      passwords,
      firstUploadWithoutAuth: options.firstCrossSigningUploadWithoutAuth ?? false,
    });
    if (crypto) return crypto;
    return error(404, "M_UNRECOGNIZED", "Unrecognized request");
  }

  const server = createServer((request, response) => {
    const entry: RequestLogEntry = {
      method: request.method ?? "",
      url: request.url ?? "",
      hadAuthorization: request.headers.authorization !== undefined,
      status: 0,
      at: Date.now(),
    };
    requests.push(entry);
    route(request, response).then(
      (reply) => {
        if (reply === "drop") {
          response.socket?.destroy();
          return;
        }
        entry.status = reply.status;
        if (response.destroyed) return;
        response.writeHead(reply.status, {
          "Content-Type": "application/json",
          ...reply.headers,
        });
        response.end(JSON.stringify(reply.body));
      },
      () => response.socket?.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    requests,
    state,
    failNext(count, failure) {
      for (let i = 0; i < count; i++) scripted.push(failure);
    },
    setOutage(failure) {
      outage = failure;
    },
    revoke(token) {
      tokens.delete(token);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The room sends the homeserver accepted, one per request, duplicates included: what "exactly
 * once" tests count, since `messages` has already dropped a repeated txnId as Matrix does.
 */
export function acceptedSends(homeserver: Pick<FakeHomeserver, "requests">): RequestLogEntry[] {
  return homeserver.requests.filter(
    (r) => r.method === "PUT" && r.url.includes("/send/") && r.status === 200,
  );
}
