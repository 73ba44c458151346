/**
 * `GET /events` and `GET /webhook/sse-stream`: the SSE streams, written on the raw socket so
 * each event is encoded once and the same bytes go to every subscriber.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Principal } from "../../auth/principal.ts";
import { RelayError } from "../../errors.ts";
import type { StreamFormat } from "../../hub/encoded-event.ts";
import type { Hub } from "../../hub/hub.ts";
import { buildFilter } from "../../hub/record-filter.ts";
import { Subscriber } from "../../hub/subscriber.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import { encodeJsonFrame, encodeResponseHead } from "../../sse/frame.ts";
import { takeOverSocket } from "../../sse/take-over-socket.ts";
import type { Authorize } from "../authorize.ts";
import type { CorsPolicy } from "../cors.ts";
import { badQuery, FilterQuerySchema } from "../query.ts";
import type { RelayState } from "../relay-state.ts";
import type { StreamLimits } from "../stream-limits.ts";

export interface StreamRoutesOptions {
  hub: Hub;
  authorize: Authorize;
  limits: StreamLimits;
  state: RelayState;
  metrics: Metrics;
  cors: CorsPolicy;
}

const StreamQuerySchema = FilterQuerySchema.extend({
  // Event ids are short; anything longer or with control characters is not ours.
  lastEventId: z.string().max(64).optional(),
  heartbeat: z.enum(["comment", "event"]).optional(),
  token: z.string().optional(),
});

function lastEventIdOf(request: FastifyRequest, fromQuery: string | undefined): string | null {
  const header = request.headers["last-event-id"];
  const value = typeof header === "string" && header !== "" ? header : fromQuery;
  if (value === undefined || value === "") return null;
  // Never trust a client id beyond its shape: the store answers "gap" to what it does not know.
  return value.length <= 64 && /^[0-9A-Za-z-]+$/.test(value) ? value : "invalid";
}

export function registerStreamRoutes(app: FastifyInstance, options: StreamRoutesOptions): void {
  const { hub, authorize, limits, state, metrics } = options;

  async function openStream(
    request: FastifyRequest,
    reply: FastifyReply,
    format: StreamFormat,
  ): Promise<void> {
    if (state.shuttingDown) {
      metrics.subscriberRefused("shutdown");
      throw new RelayError(
        "RELAY_ERR_SHUTTING_DOWN",
        "le relais s'arrête ; reconnectez-vous à une autre instance",
        { retryAfterSeconds: 3 },
      );
    }
    const query = StreamQuerySchema.safeParse(request.query);
    if (!query.success) throw badQuery(query.error);
    let principal: Principal;
    try {
      principal = await authorize(request, "viewer");
    } catch (error) {
      metrics.subscriberRefused("auth");
      throw error;
    }
    let release: () => void;
    try {
      release = limits.acquire(request.ip);
    } catch (error) {
      metrics.subscriberRefused(
        (error as RelayError).code === "RELAY_ERR_CAPACITY" ? "total" : "per-ip",
      );
      throw error;
    }
    const socket = request.raw.socket;
    if (socket.destroyed) {
      // The client left while it was being authorized: no "close" is coming to free the slot.
      release();
      return;
    }
    const lastEventId = lastEventIdOf(request, query.data.lastEventId);
    const subscriber = new Subscriber({
      socket,
      format,
      filter: buildFilter(query.data, principal.departements),
      clientAddress: request.ip,
      heartbeatAsEvent: query.data.heartbeat === "event",
      release,
    });

    // From here on the relay writes the response itself, on the socket.
    socket.setNoDelay(true);
    socket.setTimeout(0);
    socket.setKeepAlive(true, 60_000);
    socket.write(encodeResponseHead(options.cors.headersFor(request.headers.origin)));
    // Node's HTTP server keeps a parser, the request and the response per connection for as
    // long as it lives: about 7 KiB that a stream never uses again. Released in the next turn,
    // once the parser has returned from the callback that brought us here.
    setImmediate(takeOverSocket, request.raw, reply.raw);

    if (principal.expiresAt !== null) {
      // An expired token ends the stream; the client comes back with a fresh one.
      const delay = Math.max(0, principal.expiresAt - Date.now());
      const timer = setTimeout(
        () => {
          subscriber.write(encodeJsonFrame("token-expired", { reason: "token-expired" }));
          hub.close(subscriber, "expired");
        },
        Math.min(delay, 2_147_483_647),
      );
      timer.unref();
      subscriber.expiry = timer;
    }
    try {
      await hub.open(subscriber, lastEventId);
    } catch (error) {
      request.log.error({ err: error }, "stream catch-up failed");
    }
  }

  for (const [url, format] of [
    ["/events", "relay"],
    ["/webhook/sse-stream", "guide"],
  ] as const) {
    app.get(url, async (request, reply) => {
      // Validation and auth errors must be answered as JSON, before the stream starts.
      await openStreamChecked(request, reply, format);
    });
  }

  async function openStreamChecked(
    request: FastifyRequest,
    reply: FastifyReply,
    format: StreamFormat,
  ) {
    reply.hijack();
    try {
      await openStream(request, reply, format);
    } catch (error) {
      const relayError =
        error instanceof RelayError
          ? error
          : new RelayError("RELAY_ERR_INTERNAL", "erreur interne du relais", { cause: error });
      if (relayError.statusCode >= 500 && relayError.code === "RELAY_ERR_INTERNAL")
        request.log.error({ err: error }, "stream failed");
      const raw = reply.raw;
      if (raw.headersSent || request.raw.socket.destroyed) return;
      // The reply was hijacked, so Fastify no longer tracks this socket: close it after the answer.
      const headers: Record<string, string> = {
        "Content-Type": "application/json; charset=utf-8",
        Connection: "close",
        ...options.cors.headersFor(request.headers.origin),
      };
      if (relayError.retryAfterSeconds !== undefined)
        headers["Retry-After"] = String(relayError.retryAfterSeconds);
      raw.writeHead(relayError.statusCode, headers);
      raw.end(JSON.stringify(relayError.toBody()));
    }
  }
}
