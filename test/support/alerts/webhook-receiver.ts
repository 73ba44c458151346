/**
 * A real HTTP receiver for outgoing alert webhooks: records every request (time, delivery id,
 * body) and answers what the test script says, so tests count what a receiver really got.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The `X-Grist-Realtime-Delivery` header. */
  delivery: string;
  /** What the receiver answered. */
  status: number;
}

/** Decides the answer to one request; `index` counts requests from 0. */
export type Answer = (
  request: Omit<ReceivedRequest, "status">,
  index: number,
) => { status: number; headers?: Record<string, string> };

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Requests answered 2xx for this delivery id. */
  accepted(delivery?: string): ReceivedRequest[];
  answer(fn: Answer): void;
  /** Resolves when `predicate` holds, or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  let answer: Answer = () => ({ status: 200 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => {
      const received = {
        at: Date.now(),
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        delivery: String(request.headers["x-grist-realtime-delivery"] ?? ""),
      };
      const { status, headers } = answer(received, requests.length);
      requests.push({ ...received, status });
      response.writeHead(status, { "Content-Type": "application/json", ...headers });
      response.end(status < 300 ? '{"recu":true}' : '{"erreur":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook/alerte`,
    requests,
    accepted: (delivery) =>
      requests.filter((r) => r.status < 300 && (delivery === undefined || r.delivery === delivery)),
    answer(fn) {
      answer = fn;
    },
    async waitFor(predicate, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
