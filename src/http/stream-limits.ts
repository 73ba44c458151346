/**
 * Caps on open streams, in total and per client address, so one misbehaving client (or a
 * reconnect storm) cannot take every file descriptor of the relay. With several relays on
 * Redis, the per-address cap is also checked against the slots every relay shares.
 */
import { RelayError } from "../errors.ts";

/** Per-address slots shared across relays (`RedisStreamSlots`). */
export interface SharedAddressSlots {
  acquire(address: string): Promise<(() => void) | null>;
}

function tooMany(address: string): RelayError {
  return new RelayError("RELAY_ERR_TOO_MANY_STREAMS", `trop de flux ouverts depuis ${address}`, {
    retryAfterSeconds: 30,
  });
}

export class StreamLimits {
  readonly #maxTotal: number;
  readonly #maxPerAddress: number;
  readonly #shared: SharedAddressSlots | null;
  readonly #onSharedError: (error: unknown) => void;
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(
    maxTotal: number,
    maxPerAddress: number,
    shared: { slots: SharedAddressSlots; onError: (error: unknown) => void } | null = null,
  ) {
    this.#maxTotal = maxTotal;
    this.#maxPerAddress = maxPerAddress;
    this.#shared = shared?.slots ?? null;
    this.#onSharedError = shared?.onError ?? (() => {});
  }

  /** Counts a new stream or throws the 503/429 to answer; call the returned function on close. */
  async acquire(address: string): Promise<() => void> {
    if (this.#total >= this.#maxTotal) {
      throw new RelayError("RELAY_ERR_CAPACITY", "le relais a atteint son nombre maximal de flux", {
        retryAfterSeconds: 10,
      });
    }
    const mine = this.#perAddress.get(address) ?? 0;
    if (mine >= this.#maxPerAddress) throw tooMany(address);
    // Counted here before the shared check, so concurrent requests cannot overshoot locally.
    this.#total++;
    this.#perAddress.set(address, mine + 1);
    const releaseLocal = () => {
      this.#total--;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    };
    let releaseShared: (() => void) | null = null;
    if (this.#shared) {
      try {
        releaseShared = await this.#shared.acquire(address);
        if (!releaseShared) {
          releaseLocal();
          throw tooMany(address);
        }
      } catch (error) {
        if (error instanceof RelayError && error.code === "RELAY_ERR_TOO_MANY_STREAMS") throw error;
        // Redis unreachable: the stream is not refused for it; this relay's own cap still holds.
        this.#onSharedError(error);
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseLocal();
      releaseShared?.();
    };
  }

  get total(): number {
    return this.#total;
  }
}
