/** Messages between the bench orchestrator and the load generator process (Node IPC, JSON). */
import type { PublishTarget } from "./publisher.ts";
import type { ConnectResult, StreamTarget } from "./subscriber-pool.ts";

export type Command =
  | {
      type: "connect";
      target: StreamTarget;
      count: number;
      sourceAddresses: string[];
      concurrency: number;
      timeoutMs: number;
    }
  | {
      type: "publish";
      target: PublishTarget;
      count: number;
      rate: number;
      firstSeq: number;
      /** How long to wait for the last deliveries once every message was acknowledged. */
      drainTimeoutMs: number;
    }
  | { type: "idle"; seconds: number }
  | { type: "acks"; target: PublishTarget; count: number; rate: number; firstSeq: number }
  | { type: "disconnect" };

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface PublishReport {
  expected: number;
  delivered: number;
  duplicates: number;
  outOfOrder: number;
  foreign: number;
  /** Streams the server closed during the run. */
  dropped: number;
  latencyMs: Percentiles;
  ackMs: Percentiles;
  acked: number;
  publishFailures: Record<string, number>;
  lateSends: number;
  publishDurationMs: number;
  /** Bytes received by all subscribers during the run ÷ deliveries. */
  bytesPerDelivery: number;
  /** Socket reads by the subscribers during the run ÷ deliveries. */
  readsPerDelivery: number;
}

export interface IdleReport {
  seconds: number;
  bytes: number;
  comments: number;
  otherFrames: number;
  live: number;
}

export interface AckReport {
  sent: number;
  acked: number;
  failures: Record<string, number>;
  ackMs: Percentiles;
  late: number;
  durationMs: number;
}

export type Result = ConnectResult | PublishReport | IdleReport | AckReport | { closed: number };

export interface Reply {
  id: number;
  ok: boolean;
  result?: Result;
  error?: string;
  /** CPU the load generator itself used for this command (user + system). */
  cpuUs: number;
  wallMs: number;
  /** The generator's own event-loop delay during the command (ms). */
  eventLoopDelayMs?: { p99: number; max: number };
}
