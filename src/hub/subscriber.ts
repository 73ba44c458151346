/**
 * One open SSE stream on a raw socket. While it catches up (snapshot or replay) live events are
 * held in a bounded list; afterwards they are written as they come, and a subscriber whose
 * socket buffer grows past its bound is disconnected — it comes back with Last-Event-ID.
 */
import type { Socket } from "node:net";
import type { RelayEvent } from "../domain/events.ts";
import type { CloseReason } from "../metrics/metrics.ts";
import type { StreamFormat } from "./encoded-event.ts";
import { isUnfiltered, type RecordFilter } from "./record-filter.ts";

export type { CloseReason };

const OWNER = Symbol("grist-realtime.subscriber");
type OwnedSocket = Socket & { [OWNER]?: Subscriber };

/** The one "close" listener of every stream socket: a closure per subscriber would cost memory. */
function socketClosed(this: OwnedSocket): void {
  this[OWNER]?.gone();
}

export interface SubscriberOptions {
  socket: Socket;
  format: StreamFormat;
  filter: RecordFilter;
  clientAddress: string;
  /** Heartbeats as `event: heartbeat` (visible to EventSource) instead of comments. */
  heartbeatAsEvent: boolean;
  /** Called once when the socket closes: gives back the stream's slot in the limits. */
  release?: () => void;
}

export class Subscriber {
  readonly socket: Socket;
  readonly format: StreamFormat;
  readonly filter: RecordFilter;
  readonly unfiltered: boolean;
  readonly clientAddress: string;
  readonly heartbeatAsEvent: boolean;
  /** Live events that arrived while catching up, in order. */
  pending: RelayEvent[] | null = [];
  /** Id of the last event written, to skip held events the catch-up already covered. */
  lastId: string | null = null;
  /** The hub's event count when this subscriber went live: earlier events were held for it. */
  liveFrom = 0;
  /** Where its catch-up ended, until a later live event came: live events up to it are skipped. */
  caughtUpTo: string | null = null;
  closed = false;
  closeReason: CloseReason | null = null;
  /** Set by the hub: told when the socket closes, whoever closed it. */
  onGone: ((subscriber: Subscriber) => void) | null = null;
  /** Ends the stream when its token expires; cleared when the socket closes. */
  expiry: NodeJS.Timeout | null = null;
  #release: (() => void) | null;
  /** Bytes handed to the socket so far; minus what it still holds = what the peer took. */
  #written = 0;
  #drainedSeen = 0;
  /** Since when bytes wait and none left; null while the peer reads (or nothing waits). */
  #stuckSince: number | null = null;

  constructor(options: SubscriberOptions) {
    this.socket = options.socket;
    this.format = options.format;
    this.filter = options.filter;
    this.unfiltered = isUnfiltered(options.filter);
    this.clientAddress = options.clientAddress;
    this.heartbeatAsEvent = options.heartbeatAsEvent;
    this.#release = options.release ?? null;
    (this.socket as OwnedSocket)[OWNER] = this;
    this.socket.on("close", socketClosed);
  }

  /** The socket closed. Runs once. */
  gone(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = null;
    this.onGone?.(this);
  }

  get catchingUp(): boolean {
    return this.pending !== null;
  }

  /** Writes without waiting; false when the socket is gone. */
  write(bytes: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.#written += bytes.length;
    this.socket.write(bytes);
    return true;
  }

  /** Several buffers in one system call, without copying them into one. */
  writeAll(parts: readonly Buffer[]): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.socket.cork();
    for (const part of parts) {
      this.#written += part.length;
      this.socket.write(part);
    }
    this.socket.uncork();
    return true;
  }

  /** Writes and waits for the kernel to take the bytes (used during catch-up, which can be large). */
  writeAndDrain(bytes: Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return Promise.resolve(false);
    this.#written += bytes.length;
    if (this.socket.write(bytes)) return Promise.resolve(true);
    return this.#drained();
  }

  /**
   * Writes `chunks` (shared buffers, never copied) in batches, waiting for the socket to empty
   * between them, so no more than `maxQueuedBytes` ever wait for this subscriber, however
   * large the whole (an 8 MB snapshot). False when the socket closed meanwhile.
   */
  async writeBounded(chunks: Iterable<Buffer>, maxQueuedBytes: number): Promise<boolean> {
    const batchBytes = Math.max(1024, Math.min(256 * 1024, Math.floor(maxQueuedBytes / 2)));
    let batch: Buffer[] = [];
    let size = 0;
    const flush = (): Promise<boolean> => {
      const parts = batch;
      batch = [];
      size = 0;
      return this.#writeAllAndWait(parts);
    };
    for (const chunk of chunks) {
      for (let offset = 0; offset < chunk.length; offset += batchBytes) {
        const piece =
          offset === 0 && chunk.length <= batchBytes
            ? chunk
            : chunk.subarray(offset, offset + batchBytes);
        // Flushed before it would pass the batch size: a batch never exceeds it.
        if (size + piece.length > batchBytes && size > 0 && !(await flush())) return false;
        batch.push(piece);
        size += piece.length;
      }
    }
    return size === 0 || flush();
  }

  /** Writes `parts` corked and resolves once the socket handed the last one to the kernel. */
  #writeAllAndWait(parts: readonly Buffer[]): Promise<boolean> {
    const socket = this.socket;
    if (this.closed || socket.destroyed || parts.length === 0)
      return Promise.resolve(!this.closed && !socket.destroyed);
    return new Promise((resolve) => {
      const onClose = () => resolve(false);
      socket.once("close", onClose);
      socket.cork();
      parts.forEach((part, index) => {
        this.#written += part.length;
        if (index < parts.length - 1) socket.write(part);
        else
          socket.write(part, (error) => {
            socket.off("close", onClose);
            resolve(!error && !socket.destroyed);
          });
      });
      socket.uncork();
    });
  }

  /**
   * Measures whether the peer takes what waits for it; returns for how long it has taken
   * nothing while bytes were waiting (0 when it reads, or when nothing waits).
   */
  stalledFor(now: number): number {
    const queued = this.socket.writableLength;
    const drained = this.#written - queued;
    if (queued === 0 || drained > this.#drainedSeen) {
      this.#drainedSeen = drained;
      this.#stuckSince = queued === 0 ? null : now;
      return 0;
    }
    this.#stuckSince ??= now;
    return now - this.#stuckSince;
  }

  #drained(): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.socket.off("drain", onDrain);
        this.socket.off("close", onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      this.socket.on("drain", onDrain);
      this.socket.on("close", onClose);
    });
  }

  queuedBytes(): number {
    return this.socket.writableLength;
  }
}
