/**
 * The one lease interface: work done once per deployment (reconciliation, alert sending) runs
 * only on the instance that holds the lease. RedisLease is the implementation across
 * instances; with a single instance no lease is passed and the work always runs.
 */
export interface Lease {
  /**
   * Runs `fn` if this instance holds the lease and returns its result; undefined otherwise.
   * `signal` aborts when the lease is lost meanwhile: start no new work after that.
   */
  runExclusive<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined>;
}
