/**
 * What `/readyz` knows about the store beyond "connected": writes that fail. A failed write
 * (disk full, I/O error, Redis not answering) makes the relay not ready until a write succeeds
 * or `holdMs` passes without a new failure (Grist keeps retrying, so a lasting fault keeps
 * failing and readiness stays off; a passing one heals without restart). The cause is logged
 * once per incident, by name (ENOSPC rather than a stack trace per webhook).
 */
export interface StoreHealthOptions {
  logger: { error(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** How long one failed write keeps the store "not ready", in ms. Defaults to `10000`. */
  holdMs?: number;
  now?: () => number;
}

/** A short, stable name for why a write failed: `ENOSPC`, `EIO`, `SQLITE_BUSY`, … */
export function failureCause(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const { code, errcode, errstr } = current as Error & {
      code?: unknown;
      errcode?: unknown;
      errstr?: unknown;
    };
    // node:sqlite reports SQLite's result code; SQLITE_FULL (13) is how a full disk shows.
    if (errcode === 13) return "ENOSPC";
    if (errcode === 10) return "EIO";
    if (errcode === 5 || errcode === 6) return "SQLITE_BUSY";
    if (typeof code === "string" && code !== "ERR_SQLITE_ERROR") return code;
    if (typeof errstr === "string") return errstr;
    if (current.name === "StoreUnavailableError") return current.message;
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}

export class StoreHealth {
  readonly #options: StoreHealthOptions;
  #failedAt: number | null = null;
  #cause: string | null = null;

  constructor(options: StoreHealthOptions) {
    this.#options = options;
  }

  #now(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /** Why writes are failing now, or null. */
  get problem(): string | null {
    if (this.#failedAt === null) return null;
    if (this.#now() - this.#failedAt > (this.#options.holdMs ?? 10_000)) {
      this.#recovered();
      return null;
    }
    return this.#cause;
  }

  writeFailed(error: unknown): void {
    const cause = failureCause(error);
    const first = this.#failedAt === null;
    this.#failedAt = this.#now();
    this.#cause = cause;
    if (first) this.#options.logger.error({ cause, err: error }, "store write failed");
  }

  writeSucceeded(): void {
    if (this.#failedAt !== null) this.#recovered();
  }

  #recovered(): void {
    this.#options.logger.info({ cause: this.#cause }, "store writes succeed again");
    this.#failedAt = null;
    this.#cause = null;
  }
}
