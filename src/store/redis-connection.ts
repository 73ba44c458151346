/**
 * One node-redis connection with the relay's policy: fail fast while disconnected (no offline
 * queue, so a webhook gets a 503 and Grist retries later instead of hanging), reconnect forever
 * with capped exponential backoff once it has been up, give up at startup when the URL is wrong.
 */
import { createClient, ErrorReply } from "redis";
import { RelayError } from "../errors.ts";
import { backoffDelayMs } from "../retry/backoff.ts";

/** The subset of pino the Redis code uses. */
export interface RedisLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: RedisLogger = { info() {}, warn() {}, error() {} };

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
  #everReady = false;
  #down = false;

  constructor(options: RedisConnectionOptions) {
    this.#logger = options.logger ?? silentLogger;
    this.#role = options.role;
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
      this.#logger.warn({ redis: this.#role, err: error.message }, "connexion Redis perdue");
    });
    this.#client.on("ready", () => {
      if (this.#down) this.#logger.info({ redis: this.#role }, "connexion Redis rétablie");
      this.#everReady = true;
      this.#down = false;
      for (const listener of this.#readyListeners) listener();
    });
  }

  async connect(): Promise<void> {
    await this.#client.connect();
  }

  get isReady(): boolean {
    return this.#client.isReady;
  }

  /** Calls `listener` each time the connection becomes usable again. */
  onReady(listener: () => void): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  /**
   * Sends one raw command. Connection failures become `RELAY_ERR_STORE_UNAVAILABLE` (503, the
   * caller should retry); Redis error replies stay as they are: they are bugs, not outages.
   */
  async send(args: readonly string[]): Promise<unknown> {
    try {
      return await this.#client.sendCommand(args);
    } catch (error) {
      if (error instanceof ErrorReply) throw error;
      throw new RelayError("RELAY_ERR_STORE_UNAVAILABLE", "Le stockage Redis est injoignable.", {
        retryAfterSeconds: 5,
        cause: error,
      });
    }
  }

  /** Waits for pending replies when connected; otherwise drops the socket at once. */
  async close(): Promise<void> {
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
    this.#readyListeners.clear();
    if (this.#client.isOpen) this.#client.destroy();
  }
}
