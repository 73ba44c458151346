/**
 * The relay's handle on the encrypting Matrix session, which runs in a worker thread (see
 * worker-rpc.ts for why). Same operations as MatrixSession; `stop` saves the crypto store and
 * then terminates the worker.
 */
import type { DeliveryOutcome } from "../delivery.ts";
import type { MatrixMessageContent } from "../message.ts";
import type { CrossSigningOutcome } from "./cross-signing.ts";
import type { MatrixSessionOptions } from "./session.ts";
import { type RpcWorker, startRpcWorker } from "./worker-rpc.ts";

export type MatrixSessionHostOptions = Omit<MatrixSessionOptions, "fetch" | "onError">;

export interface EncryptingSession {
  readonly deviceId: string;
  /** Whether the device is cross-signed by its account, as the start found or made it. */
  readonly crossSigning: CrossSigningOutcome | null;
  isRoomEncrypted(roomId: string): Promise<boolean | null>;
  send(roomId: string, txnId: string, content: MatrixMessageContent): Promise<DeliveryOutcome>;
  stop(): Promise<void>;
}

export async function startMatrixSession(
  options: MatrixSessionHostOptions,
): Promise<EncryptingSession> {
  const worker: RpcWorker = startRpcWorker(new URL("./session-worker.ts", import.meta.url));
  let crossSigning: CrossSigningOutcome | null;
  try {
    crossSigning = await worker.call<CrossSigningOutcome | null>("start", options);
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  let stopped: Promise<void> | null = null;
  return {
    deviceId: options.deviceId,
    crossSigning,
    isRoomEncrypted: (roomId) => worker.call("isRoomEncrypted", roomId),
    send: (roomId, txnId, content) => worker.call("send", { roomId, txnId, content }),
    stop() {
      stopped ??= worker
        .call("stop")
        .catch(() => undefined)
        .then(() => worker.terminate());
      return stopped;
    },
  };
}
