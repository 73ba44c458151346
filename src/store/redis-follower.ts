/**
 * Follows the event stream on a connection of its own (XREAD BLOCK holds the connection, so it
 * cannot share one with commits). Delivers every entry after the last one it delivered, in id
 * order, whichever instance appended it. After an outage it asks again from that id: Redis
 * keeps the entries, so nothing is delivered twice. Entries trimmed before they were read (a
 * long outage, retention catching up with a slow follower) cannot be delivered: XREAD would
 * silently start after them, so the follower reports the gap (`onGap`) instead.
 */
import { type RedisConnection, type RedisLogger, silentLogger } from "./redis-connection.ts";
import { compareStreamIds } from "./redis-ids.ts";

export interface StreamFollowerOptions {
  /** Dedicated connection; the follower destroys it on stop to cut a pending XREAD short. */
  connection: RedisConnection;
  streamKey: string;
  /** Entries strictly after this id are delivered. */
  afterId: string;
  /** Receives raw RESP2 entries `[id, [field, value, ...]]`, oldest first. */
  deliver: (entries: unknown[]) => void;
  /**
   * Key holding the newest id trimmed from the stream: when it passes the last delivered id,
   * entries were lost to this follower. Without it, gaps go unnoticed.
   */
  prunedThroughKey?: string;
  /** Called before delivering the entries that follow a gap. */
  onGap?: (lastDeliveredId: string, prunedThrough: string) => void;
  logger?: RedisLogger;
  /** How long one XREAD waits for new entries, in ms. Defaults to `5000`. */
  blockMs?: number;
  /** Most entries read at once. Defaults to `500`. */
  batchSize?: number;
}

export class StreamFollower {
  readonly #options: StreamFollowerOptions;
  readonly #logger: RedisLogger;
  #lastId: string;
  #stopped = false;
  #running: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;

  constructor(options: StreamFollowerOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#lastId = options.afterId;
  }

  /** Id of the newest entry handed to `deliver` (or the starting id). */
  get lastDeliveredId(): string {
    return this.#lastId;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeUp?.();
    this.#options.connection.destroy();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { connection, streamKey } = this.#options;
    const blockMs = String(this.#options.blockMs ?? 5000);
    const count = String(this.#options.batchSize ?? 500);
    let failures = 0;
    while (!this.#stopped) {
      let reply: unknown;
      try {
        reply = await connection.send(
          ["XREAD", "COUNT", count, "BLOCK", blockMs, "STREAMS", streamKey, this.#lastId],
          Number(blockMs),
        );
        failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        if (failures++ === 0) {
          this.#logger.warn(
            { err: (error as Error).message, lastId: this.#lastId },
            "lecture du flux Redis interrompue, reprise à la reconnexion",
          );
        }
        await this.#pause(Math.min(100 * 2 ** failures, 2000));
        continue;
      }
      const entries = StreamFollower.#entriesOf(reply);
      const last = entries.at(-1) as [string, unknown] | undefined;
      if (!last) continue;
      const before = this.#lastId;
      const gap = await this.#trimmedSince(before);
      // Advance before delivering: a throwing consumer must not make the same entries loop.
      this.#lastId = last[0];
      if (gap !== null) {
        this.#logger.warn(
          { lastDeliveredId: before, prunedThrough: gap },
          "Redis stream trimmed past this follower: subscribers get a reset",
        );
        this.#options.onGap?.(before, gap);
      }
      this.#options.deliver(entries);
    }
  }

  /**
   * The newest trimmed id when it is past `afterId`, else null. Read after XREAD: trimming
   * removes the oldest entries first, so a trimmed id past `afterId` means entries after it
   * were removed, before this read (lost) or just after it (then retention is at the reader's
   * heels and a reset is the honest answer anyway). Unreadable: assume no gap, as before.
   */
  async #trimmedSince(afterId: string): Promise<string | null> {
    const key = this.#options.prunedThroughKey;
    if (!key) return null;
    try {
      const pruned = await this.#options.connection.send(["GET", key]);
      if (typeof pruned !== "string" || pruned === "") return null;
      return compareStreamIds(pruned, afterId) > 0 ? pruned : null;
    } catch {
      return null;
    }
  }

  /** XREAD answers [[stream, [entry, ...]]] or null on timeout. */
  static #entriesOf(reply: unknown): unknown[] {
    if (!Array.isArray(reply)) return [];
    const stream = reply[0] as unknown[] | undefined;
    return Array.isArray(stream?.[1]) ? (stream[1] as unknown[]) : [];
  }

  /** Waits `ms`, or less if the connection comes back or the follower stops. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopListening();
        this.#wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      const stopListening = this.#options.connection.onReady(done);
      this.#wakeUp = done;
    });
  }
}
