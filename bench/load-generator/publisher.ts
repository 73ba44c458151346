/**
 * Open-loop publishing: message i leaves at start + i/rate whatever happened to the earlier
 * ones (a closed loop would slow down with the server and hide its latency). In-flight requests
 * are bounded; a send that had to wait for a slot is counted as late.
 */
import { Agent, request } from "node:http";
import { gristWebhookBody, nowUs, relayShapedEvent } from "./payload.ts";

export interface PublishTarget {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  /** `grist`: a Grist webhook body (relay). `relay-event`: the relay's event JSON (nchan). */
  body: "grist" | "relay-event";
}

export interface PublishResult {
  sent: number;
  /** 2xx answers. */
  acked: number;
  failures: Record<string, number>;
  /** Request start → end of the answer, per message (NaN when it failed). */
  ackMs: Float64Array;
  /** Sends that left after their slot because too many requests were in flight. */
  late: number;
  durationMs: number;
}

const MAX_IN_FLIGHT = 64;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function publishOpenLoop(
  target: PublishTarget,
  count: number,
  rate: number,
  firstSeq: number,
): Promise<PublishResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  const result: PublishResult = {
    sent: 0,
    acked: 0,
    failures: {},
    ackMs: new Float64Array(count).fill(Number.NaN),
    late: 0,
    durationMs: 0,
  };
  const fail = (reason: string) => (result.failures[reason] = (result.failures[reason] ?? 0) + 1);
  let inFlight = 0;
  let slotFreed: (() => void) | null = null;
  const started = performance.now();

  const send = (i: number) => {
    const seq = firstSeq + i;
    const sentAtUs = nowUs();
    const body =
      target.body === "grist" ? gristWebhookBody(seq, sentAtUs) : relayShapedEvent(seq, sentAtUs);
    inFlight++;
    result.sent++;
    return new Promise<void>((resolve) => {
      const done = (failure: string | null) => {
        inFlight--;
        if (failure) fail(failure);
        else {
          result.acked++;
          result.ackMs[i] = (nowUs() - sentAtUs) / 1000;
        }
        slotFreed?.();
        resolve();
      };
      const req = request(
        {
          host: target.host,
          port: target.port,
          path: target.path,
          method: "POST",
          agent,
          headers: {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(body),
            ...target.headers,
          },
        },
        (res) => {
          res.resume();
          res.once("end", () =>
            done(
              res.statusCode !== undefined && res.statusCode < 300
                ? null
                : `http-${res.statusCode}`,
            ),
          );
          res.once("error", () => done("response-error"));
        },
      );
      req.once("error", (error: NodeJS.ErrnoException) => done(error.code ?? "request-error"));
      req.end(body);
    });
  };

  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0.5) await sleep(wait);
    if (inFlight >= MAX_IN_FLIGHT) {
      result.late++;
      while (inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => (slotFreed = resolve));
    }
    pending.push(send(i));
  }
  await Promise.all(pending);
  result.durationMs = performance.now() - started;
  agent.destroy();
  return result;
}
