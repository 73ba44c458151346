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
  | { type: "disconnect" }
  | {
      type: "storm";
      target: StreamTarget;
      count: number;
      sourceAddresses: string[];
      /** Connections are opened evenly over this window. */
      spreadMs: number;
      /** Every other stream resumes with this Last-Event-ID; the others get a snapshot. */
      lastEventId: string;
      /** The bench messages stored after `lastEventId`: a resumed stream must get exactly these. */
      firstTailSeq: number;
      tail: number;
      timeoutMs: number;
      /**
       * The other half fetches the state over HTTP (gzip, GET /api/interventions) and then opens
       * the stream at `currentEventId`, instead of taking the snapshot inside the stream.
       */
      snapshotOverHttp: { path: string; currentEventId: string } | null;
    };

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

export interface StormReport {
  connected: number;
  failures: Record<string, number>;
  /** From the first connection attempt to the last stream live (ms). */
  allLiveMs: number;
  /** Per stream, attempt → live (snapshot, or the last replayed event). */
  liveMs: Percentiles;
  snapshotStreams: number;
  resumedStreams: number;
  /** What the resumed streams got of the tail: any missing, doubled or misplaced one is a gap. */
  resumed: {
    expected: number;
    delivered: number;
    duplicates: number;
    outOfOrder: number;
    foreign: number;
  };
  /** Bytes received by every stream during the storm. */
  bytes: number;
}

export type Result =
  | ConnectResult
  | PublishReport
  | IdleReport
  | AckReport
  | StormReport
  | { closed: number };

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
