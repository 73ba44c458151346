/**
 * Caps on open streams, in total and per client address, so one misbehaving client (or a
 * reconnect storm) cannot take every file descriptor of the relay.
 */
import { RelayError } from "../errors.ts";

export class StreamLimits {
  readonly #maxTotal: number;
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  #total = 0;

  constructor(maxTotal: number, maxPerAddress: number) {
    this.#maxTotal = maxTotal;
    this.#maxPerAddress = maxPerAddress;
  }

  /** Counts a new stream or throws the 503/429 to answer; call the returned function on close. */
  acquire(address: string): () => void {
    if (this.#total >= this.#maxTotal) {
      throw new RelayError("RELAY_ERR_CAPACITY", "le relais a atteint son nombre maximal de flux", {
        retryAfterSeconds: 10,
      });
    }
    const mine = this.#perAddress.get(address) ?? 0;
    if (mine >= this.#maxPerAddress) {
      throw new RelayError("RELAY_ERR_TOO_MANY_STREAMS", `trop de flux ouverts depuis ${address}`, {
        retryAfterSeconds: 30,
      });
    }
    this.#total++;
    this.#perAddress.set(address, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total--;
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#perAddress.delete(address);
      else this.#perAddress.set(address, left);
    };
  }

  get total(): number {
    return this.#total;
  }
}
