/** A receiver that records webhook requests as they arrive: raw headers in order, raw body. */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  /** Raw headers in the order received. */
  headers: Array<[string, string]>;
  body: string;
}

export interface WebhookRecorder {
  url: string;
  readonly requests: RecordedRequest[];
  /** Resolves once `count` requests have arrived. */
  waitFor(count: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

/**
 * A receiver that records every request, like the one the fixtures were captured with.
 * `respond` picks the status per request (default 200).
 */
export async function startWebhookRecorder(
  respond: (request: RecordedRequest, index: number) => number = () => 200,
): Promise<WebhookRecorder> {
  const requests: RecordedRequest[] = [];
  const arrived = new EventTarget();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.push([req.rawHeaders[i] ?? "", req.rawHeaders[i + 1] ?? ""]);
    }
    const request: RecordedRequest = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    requests.push(request);
    res.writeHead(respond(request, requests.length - 1)).end();
    arrived.dispatchEvent(new Event("request"));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    requests,
    async waitFor(count) {
      while (requests.length < count) await once(arrived, "request");
      return requests.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
