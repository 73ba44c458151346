/**
 * N subscribers on raw sockets, each with its own SSE reader, all reading into one shared
 * buffer (`onread`) so a read allocates nothing. Streams are never reconnected: a subscriber
 * the server drops shows up as missing deliveries.
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { summarize } from "../stats.ts";
import { DeliveryLog } from "./delivery-log.ts";
import { nowUs } from "./payload.ts";
import type { Command, StormReport } from "./protocol.ts";
import { type FrameKind, type FrameVisitor, SseReader } from "./sse-reader.ts";

export interface StreamTarget {
  host: string;
  port: number;
  path: string;
  headers: Record<string, string>;
  /** The relay sends a snapshot first: its stream is live once that came. nchan: the head. */
  readyOn: "snapshot" | "head";
}

export interface ConnectResult {
  connected: number;
  failed: number;
  failures: Record<string, number>;
  ms: number;
}

interface Stream {
  socket: Socket;
  reader: SseReader;
  ready: boolean;
}

const READ_BUFFER = Buffer.alloc(256 * 1024);

export class SubscriberPool implements FrameVisitor {
  readonly #target: StreamTarget;
  readonly #streams: (Stream | null)[] = [];
  readonly #waiting = new Map<number, (outcome: string) => void>();
  #log: DeliveryLog | null = null;
  /** Storm: a resumed stream is live once it got the bench message with this sequence. */
  #readyOnSeq: number | null = null;
  /** Storm: streams opened at the newest event are live once the server answered 200. */
  readonly #readyOnHead = new Set<number>();
  #readAtUs = 0;
  /** Bytes received on every stream since the last reset. */
  bytes = 0;
  /** Socket reads (one per `onread` call): how finely the server's bytes arrive. */
  reads = 0;
  comments = 0;
  otherFrames = 0;
  /** Streams that were live and then closed by the server. */
  dropped = 0;

  constructor(target: StreamTarget) {
    this.#target = target;
  }

  get live(): number {
    let count = 0;
    for (const stream of this.#streams) if (stream?.ready) count++;
    return count;
  }

  set log(log: DeliveryLog | null) {
    this.#log = log;
  }

  resetCounters(): void {
    this.bytes = 0;
    this.reads = 0;
    this.comments = 0;
    this.otherFrames = 0;
  }

  /** Opens `count` streams, at most `concurrency` handshakes at a time (the accept queue is finite). */
  async connect(
    count: number,
    sourceAddresses: readonly string[],
    concurrency: number,
    timeoutMs: number,
  ): Promise<ConnectResult> {
    const started = performance.now();
    const failures: Record<string, number> = {};
    let next = 0;
    let connected = 0;
    const worker = async () => {
      while (next < count) {
        const index = this.#streams.length;
        next++;
        const address = sourceAddresses[index % sourceAddresses.length] as string;
        const outcome = await this.#open(index, address, timeoutMs);
        if (outcome === "ok") connected++;
        else failures[outcome] = (failures[outcome] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return {
      connected,
      failed: count - connected,
      failures,
      ms: performance.now() - started,
    };
  }

  /**
   * The reconnection storm: `count` streams opened evenly over `spreadMs`, every other one with
   * `Last-Event-ID` (it must then get exactly the `tail` bench messages stored after it), the
   * others asking for a snapshot.
   */
  async storm(
    command: Omit<Extract<Command, { type: "storm" }>, "type" | "target">,
  ): Promise<StormReport> {
    const { count, tail, firstTailSeq } = command;
    const log = new DeliveryLog(count, tail, firstTailSeq);
    this.#log = log;
    this.#readyOnSeq = firstTailSeq + tail - 1;
    this.resetCounters();
    const started = performance.now();
    const liveMs = new Float64Array(count).fill(Number.NaN);
    const failures: Record<string, number> = {};
    let connected = 0;
    let lastLive = started;
    const opens: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = started + (i * command.spreadMs) / count;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const index = this.#streams.length;
      const address = command.sourceAddresses[index % command.sourceAddresses.length] as string;
      const resumed = i % 2 === 0;
      const attempt = performance.now();
      const http = resumed ? null : command.snapshotOverHttp;
      const open = async () => {
        if (!http)
          return this.#open(
            index,
            address,
            command.timeoutMs,
            resumed ? { "Last-Event-ID": command.lastEventId } : {},
          );
        // Counted as stream bytes: what a dashboard downloads to come back.
        this.#streams[index] = null;
        const fetched = await this.#fetchState(http.path, address, command.timeoutMs);
        if (fetched !== "ok") return fetched;
        this.#readyOnHead.add(index);
        return this.#open(index, address, command.timeoutMs, {
          "Last-Event-ID": http.currentEventId,
        });
      };
      opens.push(
        open().then((outcome) => {
          if (outcome !== "ok") {
            failures[outcome] = (failures[outcome] ?? 0) + 1;
            return;
          }
          connected++;
          const now = performance.now();
          liveMs[i] = now - attempt;
          lastLive = Math.max(lastLive, now);
        }),
      );
    }
    await Promise.all(opens);
    this.#log = null;
    this.#readyOnSeq = null;
    this.#readyOnHead.clear();
    const resumedStreams = Math.ceil(count / 2);
    return {
      connected,
      failures,
      allLiveMs: lastLive - started,
      liveMs: summarize(liveMs.filter((ms) => !Number.isNaN(ms))),
      snapshotStreams: count - resumedStreams,
      resumedStreams,
      resumed: {
        expected: resumedStreams * tail,
        delivered: log.delivered,
        duplicates: log.duplicates,
        outOfOrder: log.outOfOrder,
        foreign: log.foreign,
      },
      bytes: this.bytes,
    };
  }

  /** GET of the state, gzip accepted and read whole (not inflated: a browser does that). */
  #fetchState(path: string, localAddress: string, timeoutMs: number): Promise<string> {
    const target = this.#target;
    return new Promise((resolve) => {
      const req = request(
        {
          host: target.host,
          port: target.port,
          path,
          localAddress,
          agent: false,
          headers: { "Accept-Encoding": "gzip" },
        },
        (res) => {
          res.on("data", (chunk: Buffer) => {
            this.bytes += chunk.length;
          });
          res.once("end", () =>
            resolve(res.statusCode === 200 ? "ok" : `state-http-${res.statusCode}`),
          );
          res.once("error", () => resolve("state-error"));
        },
      );
      req.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "state-error"));
      req.setTimeout(timeoutMs, () =>
        req.destroy(Object.assign(new Error("timeout"), { code: "state-timeout" })),
      );
      req.end();
    });
  }

  #open(
    index: number,
    localAddress: string,
    timeoutMs: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<string> {
    const target = this.#target;
    const reader = new SseReader();
    const socket = connect({
      host: target.host,
      port: target.port,
      localAddress,
      onread: {
        buffer: READ_BUFFER,
        callback: (length: number, buffer: Uint8Array) => {
          this.bytes += length;
          this.reads++;
          this.#readAtUs = nowUs();
          const chunk = Buffer.from(buffer.buffer, buffer.byteOffset, length);
          if (!reader.feed(chunk, index, this)) socket.destroy();
          return true;
        },
      },
    });
    const stream: Stream = { socket, reader, ready: false };
    this.#streams[index] = stream;
    socket.setNoDelay(true);
    const headers = Object.entries({
      Host: `${target.host}:${target.port}`,
      ...target.headers,
      ...extraHeaders,
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("");
    socket.once("connect", () => socket.write(`GET ${target.path} HTTP/1.1\r\n${headers}\r\n`));
    socket.once("close", () => {
      if (stream.ready) this.dropped++;
      stream.ready = false;
      this.#streams[index] = null;
      this.#settle(index, "closed");
    });
    socket.on("error", (error: NodeJS.ErrnoException) =>
      this.#settle(index, error.code ?? "error"),
    );
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle(index, "timeout"), timeoutMs);
      this.#waiting.set(index, (outcome) => {
        clearTimeout(timer);
        if (outcome !== "ok") socket.destroy();
        resolve(outcome);
      });
    });
  }

  #settle(index: number, outcome: string): void {
    const waiter = this.#waiting.get(index);
    if (!waiter) return;
    this.#waiting.delete(index);
    const stream = this.#streams[index];
    if (outcome === "ok" && stream) stream.ready = true;
    waiter(outcome);
  }

  head(stream: number, status: number): void {
    if (status !== 200) this.#settle(stream, `http-${status}`);
    else if (this.#target.readyOn === "head" || this.#readyOnHead.has(stream))
      this.#settle(stream, "ok");
  }

  frame(stream: number, kind: FrameKind): void {
    if (kind === "snapshot") this.#settle(stream, "ok");
    else if (kind === "comment") this.comments++;
    else this.otherFrames++;
  }

  benchMessage(stream: number, seq: number, sentAtUs: number, order: number): void {
    this.#log?.record(stream, seq, order, (this.#readAtUs - sentAtUs) / 1000);
    if (seq === this.#readyOnSeq) this.#settle(stream, "ok");
  }

  closeAll(): void {
    for (const stream of this.#streams) stream?.socket.destroy();
    this.#streams.length = 0;
  }
}
