/**
 * A small SSE client on a raw socket for the resilience tests: thousands of them fit in one
 * process, one can stop reading (the slow subscriber), and each remembers the ids it got so a
 * test can check "every event once, in order" across reconnections.
 */
import { connect, type Socket } from "node:net";

export interface SseFrame {
  id: string | undefined;
  event: string;
}

export interface RawSseOptions {
  port: number;
  path?: string;
  lastEventId?: string;
  localAddress?: string;
}

export class RawSse {
  readonly socket: Socket;
  /** Frames with data, in arrival order (comments and retry-only frames are counted apart). */
  readonly frames: SseFrame[] = [];
  status = 0;
  comments = 0;
  readonly ended: Promise<void>;
  #text = "";
  #headDone = false;
  #waiters = new Set<() => void>();

  constructor(options: RawSseOptions) {
    this.socket = connect({
      host: "127.0.0.1",
      port: options.port,
      localAddress: options.localAddress,
    });
    const resume = options.lastEventId ? `Last-Event-ID: ${options.lastEventId}\r\n` : "";
    this.socket.once("connect", () =>
      this.socket.write(
        `GET ${options.path ?? "/events"} HTTP/1.1\r\nHost: relay\r\nAccept: text/event-stream\r\n${resume}\r\n`,
      ),
    );
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => this.#read(chunk));
    this.socket.on("error", () => {});
    this.ended = new Promise((resolve) =>
      this.socket.once("close", () => {
        this.#wake();
        resolve();
      }),
    );
  }

  /** Id of the last frame that carried one: where a reconnection resumes. */
  get lastId(): string | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const id = this.frames[i]?.id;
      if (id !== undefined) return id;
    }
    return undefined;
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  /** Resolves when `predicate` holds, rejects after `timeoutMs` or when the stream closed first. */
  waitUntil(predicate: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate()) {
          finish();
          resolve();
        } else if (this.socket.destroyed) {
          finish();
          reject(new Error(`stream closed before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${what} not reached in ${timeoutMs} ms (last id ${this.lastId})`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #read(chunk: string): void {
    this.#text += chunk;
    if (!this.#headDone) {
      const end = this.#text.indexOf("\r\n\r\n");
      if (end < 0) return;
      this.status = Number(this.#text.slice(9, 12));
      this.#headDone = true;
      this.#text = this.#text.slice(end + 4);
    }
    let end = this.#text.indexOf("\n\n");
    while (end >= 0) {
      this.#frame(this.#text.slice(0, end));
      this.#text = this.#text.slice(end + 2);
      end = this.#text.indexOf("\n\n");
    }
    this.#wake();
  }

  #frame(block: string): void {
    if (block.startsWith(":")) {
      this.comments++;
      return;
    }
    let id: string | undefined;
    let event = "message";
    let data = false;
    for (const line of block.split("\n")) {
      if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data:")) data = true;
    }
    if (data) this.frames.push({ id, event });
  }
}

/**
 * The position of a SQLite or memory store's event id ("<epoch>.<n>", docs/reference/
 * protocole.md) as a number; NaN for anything else, so a foreign id never passes for one.
 */
export function positionOf(id: string | null | undefined): number {
  const match = /^[a-z]{8}\.(\d+)$/.exec(id ?? "");
  return match ? Number(match[1]) : Number.NaN;
}

/** Positions of the `record.*` events of `frames` (all of one store, so one epoch). */
export function recordIds(frames: readonly SseFrame[]): number[] {
  return frames.filter((f) => f.event.startsWith("record.")).map((f) => positionOf(f.id));
}

/** `from`, `from + 1` … `to`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
