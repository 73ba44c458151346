/**
 * One node-redis connection with the relay's policy: fail fast while disconnected (no offline
 * queue, so a webhook gets a 503 and Grist retries later instead of hanging), reconnect forever
 * with capped exponential backoff once it has been up, give up at startup when the URL is wrong.
 *
 * A Redis that keeps its socket open but stops answering (SIGSTOP, a stuck host) is the case
 * the socket cannot see: every command has a timeout, a timed-out command marks the connection
 * hung (not ready) until a reply comes back, and a connection asked to do so sends a PING
 * whenever it is idle, so the hang is seen without traffic and recovery without a restart.
 */
import { createClient, ErrorReply } from "redis";
import { type Log, silentLog } from "../log/log.ts";
import { backoffDelayMs } from "../retry/backoff.ts";
import { StoreUnavailableError } from "./store-unavailable.ts";

/** The relay's one logger interface, under the name the Redis code knows it by. */
export type RedisLogger = Log;

export const silentLogger: RedisLogger = silentLog;

export interface RedisConnectionOptions {
  /** `redis://[[user]:password@]host[:port][/db]`; never logged, it may carry a password. */
  url: string;
  /** Role of this connection, for logs and `CLIENT LIST` (letters, digits, `-`). */
  role: string;
  logger?: RedisLogger;
  /** Connection attempts before startup gives up. Defaults to `5`. */
  initialAttempts?: number;
  /** Longest wait between reconnection attempts, in ms. Defaults to `3000`. */
  maxReconnectDelayMs?: number;
  /** Longest wait for a reply, in ms; blocking commands add their own wait. Defaults to `2000`. */
  commandTimeoutMs?: number;
  /** PING at this interval (ms) to notice a silent hang without traffic. Off when unset. */
  healthCheckMs?: number;
}

function openClient(
  options: RedisConnectionOptions,
  nextDelay: (retries: number) => number | Error,
) {
  return createClient({
    url: options.url,
    name: `grist-realtime-${options.role}`,
    // RESP2 keeps script and stream replies as plain arrays, which the store parses itself.
    RESP: 2,
    disableOfflineQueue: true,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries) => nextDelay(retries) },
  });
}

type Client = ReturnType<typeof openClient>;

export class RedisConnection {
  readonly #client: Client;
  readonly #logger: RedisLogger;
  readonly #role: string;
  readonly #readyListeners = new Set<() => void>();
  readonly #commandTimeoutMs: number;
  #everReady = false;
  #down = false;
  /** Since when a command has gone unanswered past its timeout; null when replies come. */
  #hungSince: number | null = null;
  #healthTimer: NodeJS.Timeout | null = null;
  #pinging = false;

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.#role = options.role;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 2000;
    const initialAttempts = options.initialAttempts ?? 5;
    const maxDelay = options.maxReconnectDelayMs ?? 3000;
    this.#client = openClient(options, (retries) => {
      if (!this.#everReady && retries >= initialAttempts) {
        return new Error("Redis injoignable au démarrage");
      }
      // Jitter spreads the reconnections of N relays after a Redis restart.
      return backoffDelayMs(retries + 1, { baseMs: 200, maxMs: maxDelay });
    });
    this.#client.on("error", (error: Error) => {
      // node-redis emits an error on every failed attempt: log the transition only.
      if (this.#down) return;
      this.#down = true;
      this.#logger.warn({ redis: this.#role, err: error.message }, "Redis connection lost");
    });
    this.#client.on("ready", () => {
      if (this.#down) this.#logger.info({ redis: this.#role }, "Redis connection restored");
      this.#everReady = true;
      this.#down = false;
      for (const listener of this.#readyListeners) listener();
    });
    if (options.healthCheckMs) {
      this.#healthTimer = setInterval(() => this.#ping(), options.healthCheckMs);
      this.#healthTimer.unref();
    }
  }

  async connect(): Promise<void> {
    await this.#client.connect();
  }

  /** Connected and answering: no command is stuck past its timeout. */
  get isReady(): boolean {
    return this.#client.isReady && this.#hungSince === null;
  }

  async #ping(): Promise<void> {
    if (this.#pinging || !this.#client.isReady) return;
    this.#pinging = true;
    try {
      await this.send(["PING"]);
    } catch {
      // Already recorded by send: the connection is marked hung or down.
    } finally {
      this.#pinging = false;
    }
  }

  #answered(): void {
    if (this.#hungSince === null) return;
    const hungMs = Date.now() - this.#hungSince;
    this.#hungSince = null;
    this.#logger.info({ redis: this.#role, hungMs }, "Redis answers again");
    for (const listener of this.#readyListeners) listener();
  }

  #timedOut(): void {
    if (this.#hungSince !== null) return;
    this.#hungSince = Date.now();
    // Once per incident: the next line about this connection is its recovery.
    this.#logger.error(
      { redis: this.#role, timeoutMs: this.#commandTimeoutMs },
      "Redis did not answer in time: store unavailable until it does",
    );
  }

  /** Calls `listener` each time the connection becomes usable again. */
  onReady(listener: () => void): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  /**
   * Sends one raw command. Connection failures and replies later than the timeout become
   * `StoreUnavailableError` (503, the caller should retry); Redis error replies stay as they
   * are: they are bugs, not outages. `extraWaitMs` is the server-side wait of a blocking command.
   */
  async send(args: readonly string[], extraWaitMs = 0): Promise<unknown> {
    // node-redis times out only commands not yet written; a frozen Redis takes the bytes and
    // never answers, so the wait is bounded here. The late reply, if any, is read and dropped.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#timedOut();
        reject(
          new StoreUnavailableError(`Redis did not answer within ${this.#commandTimeoutMs} ms`),
        );
      }, this.#commandTimeoutMs + extraWaitMs);
    });
    try {
      const reply = await Promise.race([this.#client.sendCommand(args), deadline]);
      this.#answered();
      return reply;
    } catch (error) {
      if (error instanceof ErrorReply) {
        this.#answered();
        throw error;
      }
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError("Redis unreachable", { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for pending replies when connected; otherwise drops the socket at once. */
  async close(): Promise<void> {
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    this.#readyListeners.clear();
    if (!this.#client.isOpen) return;
    if (!this.#client.isReady) {
      this.#client.destroy();
      return;
    }
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }

  /** Closes now, failing whatever is in flight (a blocked XREAD included). */
  destroy(): void {
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    this.#readyListeners.clear();
    if (this.#client.isOpen) this.#client.destroy();
  }
}
