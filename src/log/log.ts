/**
 * The one logger interface of the relay: what every module may call. pino's logger (see
 * logger.ts) satisfies it; `silentLog` is the no-op for tests and tools. Messages are in
 * English (operators' logs); what users read is in French.
 */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export const silentLog: Log = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
