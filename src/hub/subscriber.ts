/**
 * One open SSE stream on a raw socket. While it catches up (snapshot or replay) live events are
 * held in a bounded list; afterwards they are written as they come, and a subscriber whose
 * socket buffer grows past its bound is disconnected — it comes back with Last-Event-ID.
 */
import type { Socket } from "node:net";
import type { RelayEvent } from "../domain/events.ts";
import type { StreamFormat } from "./encoded-event.ts";
import { isUnfiltered, type RecordFilter } from "./record-filter.ts";

export type CloseReason = "client" | "slow" | "expired" | "shutdown" | "error" | "replaced";

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
    this.socket.write(bytes);
    return true;
  }

  /** Writes and waits for the kernel to take the bytes (used during catch-up, which can be large). */
  writeAndDrain(bytes: Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return Promise.resolve(false);
    if (this.socket.write(bytes)) return Promise.resolve(true);
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
