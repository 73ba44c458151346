/**
 * A local Matrix client-server API server for tests, behaving like a homeserver on the two
 * endpoints the relay calls (spec v1.x `room_send.yaml`, `whoami`, "Transaction identifiers",
 * "Rate limiting"):
 * - Bearer token required: none → 401 M_MISSING_TOKEN, unknown → 401 M_UNKNOWN_TOKEN; the
 *   `access_token` query parameter is ignored, as spec v1.20 dropped it.
 * - txnId deduplicated per access token: same txnId → same event_id, message stored once.
 * - Unknown room → 404 M_NOT_FOUND; room the bot has not joined → 403 M_FORBIDDEN.
 * - Scripted failures for the next sends: 429 M_LIMIT_EXCEEDED (Retry-After and/or
 *   retry_after_ms), 500, or a dropped connection; and an outage switch.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRoom {
  /** User ids that have joined; a send from anyone else gets 403. */
  members: string[];
}

export interface FakeHomeserverOptions {
  /** access token → user id. */
  tokens: Record<string, string>;
  /** room id → room. */
  rooms: Record<string, FakeRoom>;
}

export interface ReceivedMessage {
  roomId: string;
  sender: string;
  txnId: string;
  eventId: string;
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
}

export interface FakeHomeserver {
  url: string;
  messages: ReceivedMessage[];
  requests: RequestLogEntry[];
  /** The next `count` sends fail this way (after authentication, like a real rate limiter). */
  failNext(count: number, failure: ScriptedFailure): void;
  /** While set, every request fails this way; `null` ends the outage. */
  setOutage(failure: ScriptedFailure | null): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 65_536;
const SEND_PATH = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/([^/]+)$/;

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

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

export async function startFakeHomeserver(options: FakeHomeserverOptions): Promise<FakeHomeserver> {
  const messages: ReceivedMessage[] = [];
  const requests: RequestLogEntry[] = [];
  const scripted: ScriptedFailure[] = [];
  const transactions = new Map<string, string>();
  let outage: ScriptedFailure | null = null;
  let nextEvent = 1;

  function fail(response: ServerResponse, failure: ScriptedFailure): number {
    if (failure.dropConnection) {
      response.socket?.destroy();
      return 0;
    }
    const headers: Record<string, string> = {};
    if (failure.retryAfterSeconds !== undefined) {
      headers["Retry-After"] = String(failure.retryAfterSeconds);
    }
    const body: Record<string, unknown> = {
      errcode: failure.errcode ?? (failure.status === 429 ? "M_LIMIT_EXCEEDED" : "M_UNKNOWN"),
      error: failure.status === 429 ? "Too Many Requests" : "Internal server error",
    };
    if (failure.retryAfterMs !== undefined) body.retry_after_ms = failure.retryAfterMs;
    sendJson(response, failure.status, body, headers);
    return failure.status;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<number> {
    if (outage) return fail(response, outage);
    const url = new URL(request.url ?? "/", "http://localhost");
    const auth = request.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length) : "";
    if (!token) {
      sendJson(response, 401, { errcode: "M_MISSING_TOKEN", error: "Missing access token" });
      return 401;
    }
    const userId = options.tokens[token];
    if (!userId) {
      sendJson(response, 401, { errcode: "M_UNKNOWN_TOKEN", error: "Unknown access token" });
      return 401;
    }
    if (request.method === "GET" && url.pathname === "/_matrix/client/v3/account/whoami") {
      sendJson(response, 200, { user_id: userId, device_id: "FAKEDEVICE" });
      return 200;
    }
    const match = SEND_PATH.exec(url.pathname);
    if (!match || request.method !== "PUT") {
      sendJson(response, 404, { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
      return 404;
    }
    const [, rawRoom = "", eventType = "", rawTxn = ""] = match;
    const roomId = decodeURIComponent(rawRoom);
    const txnId = decodeURIComponent(rawTxn);
    const body = await readBody(request);
    const failure = scripted.shift();
    if (failure) return fail(response, failure);
    if (body === null) {
      sendJson(response, 413, { errcode: "M_TOO_LARGE", error: "Event too large" });
      return 413;
    }
    const room = options.rooms[roomId];
    if (!room) {
      sendJson(response, 404, { errcode: "M_NOT_FOUND", error: "Unknown room" });
      return 404;
    }
    if (!room.members.includes(userId)) {
      sendJson(response, 403, {
        errcode: "M_FORBIDDEN",
        error: `User ${userId} not in room ${roomId}`,
      });
      return 403;
    }
    let content: unknown;
    try {
      content = JSON.parse(body.toString("utf8"));
    } catch {
      sendJson(response, 400, { errcode: "M_NOT_JSON", error: "Content not JSON." });
      return 400;
    }
    if (typeof content !== "object" || content === null || eventType !== "m.room.message") {
      sendJson(response, 400, { errcode: "M_BAD_JSON", error: "Bad event" });
      return 400;
    }
    const transactionKey = `${token}\u0000${txnId}`;
    let eventId = transactions.get(transactionKey);
    if (!eventId) {
      eventId = `$event${nextEvent++}`;
      transactions.set(transactionKey, eventId);
      messages.push({
        roomId,
        sender: userId,
        txnId,
        eventId,
        content: content as Record<string, unknown>,
      });
    }
    sendJson(response, 200, { event_id: eventId });
    return 200;
  }

  const server = createServer((request, response) => {
    const entry: RequestLogEntry = {
      method: request.method ?? "",
      url: request.url ?? "",
      hadAuthorization: request.headers.authorization !== undefined,
      status: 0,
    };
    requests.push(entry);
    handle(request, response).then(
      (status) => {
        entry.status = status;
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
    failNext(count, failure) {
      for (let i = 0; i < count; i++) scripted.push(failure);
    },
    setOutage(failure) {
      outage = failure;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
