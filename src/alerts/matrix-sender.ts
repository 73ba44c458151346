/**
 * The sender of one Matrix destination. It reads the room's `m.room.encryption` state once:
 * an unencrypted room (a Tchap forum, or a private room created unencrypted) keeps the direct
 * `PUT /send`; an encrypted room goes through the encrypting session, started on the first
 * alert (so only the instance holding the alert lease ever runs it) and kept until `close`.
 */
import { join } from "node:path";
import { type DeliveryOutcome, failure } from "./delivery.ts";
import type { CrossSigningOutcome, CrossSigningSecrets } from "./matrix/cross-signing.ts";
import { type EncryptingSession, startMatrixSession } from "./matrix/session-host.ts";
import { matrixRoomEncrypted, matrixWhoAmI, sendMatrixMessage } from "./matrix-client.ts";
import { toMatrixContent } from "./message.ts";
import type { AlertPayload } from "./payload.ts";
import type { MatrixDestination } from "./rules.ts";

export interface MatrixCryptoSettings {
  /** Where each bot device's sealed crypto store is kept (DATA_DIR/tchap). */
  storeDir: string;
  /** TCHAP_STORE_KEY: the store's key is derived from it. */
  storeSecret: string;
  /** TCHAP_PASSWORD / TCHAP_RECOVERY_KEY: to cross-sign the bot's device, once. */
  crossSigning?: CrossSigningSecrets;
  /** Told what each session start found or did about cross-signing (for the logs). */
  onCrossSigning?: (outcome: CrossSigningOutcome | null) => void;
}

export interface MatrixSenderOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  now?: () => number;
  /** Without it an encrypted room is refused rather than written to in clear. */
  crypto?: MatrixCryptoSettings;
}

export interface MatrixSender {
  readonly minIntervalMs: number;
  send(key: string, payload: AlertPayload): Promise<DeliveryOutcome>;
  /** Stops the encrypting session, if one runs; the next send starts it again. */
  close(): Promise<void>;
}

/** One file per account and device: a new login is a new device with a new store. */
export function storeFileFor(storeDir: string, userId: string, deviceId: string): string {
  const safe = `${userId}-${deviceId}`.replace(/[^A-Za-z0-9._-]/g, "_");
  return join(storeDir, `${safe}.crypto`);
}

export function createMatrixSender(
  destination: MatrixDestination,
  options: MatrixSenderOptions = {},
): MatrixSender {
  let encrypted: boolean | null = null;
  let session: Promise<EncryptingSession> | null = null;

  async function startSession(crypto: MatrixCryptoSettings): Promise<EncryptingSession> {
    const who = await matrixWhoAmI(destination, options);
    if (!who.ok) throw new Error(who.message);
    if (!who.deviceId) throw new Error("le serveur ne donne pas l'appareil du jeton (whoami)");
    const started = await startMatrixSession({
      homeserverUrl: destination.homeserverUrl,
      accessToken: destination.accessToken,
      userId: who.userId,
      deviceId: who.deviceId,
      storeFile: storeFileFor(crypto.storeDir, who.userId, who.deviceId),
      storeSecret: crypto.storeSecret,
      ...(crypto.crossSigning ? { crossSigning: crypto.crossSigning } : {}),
    });
    crypto.onCrossSigning?.(started.crossSigning);
    return started;
  }

  return {
    minIntervalMs: destination.minIntervalMs,
    async send(_key, payload) {
      const content = toMatrixContent(payload.message);
      if (encrypted === null) {
        const state = await matrixRoomEncrypted(destination, options);
        if (!state.ok) return state;
        encrypted = state.encrypted;
      }
      if (!encrypted) return sendMatrixMessage(destination, payload.txnId, content, options);
      const crypto = options.crypto;
      if (!crypto) {
        // Never fall back to clear text in an encrypted room: field data would leave in clear.
        return failure(
          "rejected",
          "salon chiffré : définissez TCHAP_STORE_KEY (ou TCHAP_STORE_KEY_FILE) pour que le relais chiffre les alertes",
        );
      }
      session ??= startSession(crypto);
      let running: EncryptingSession;
      try {
        running = await session;
      } catch (error) {
        session = null;
        const reason = error instanceof Error ? error.message : String(error);
        return failure("server", `session chiffrée indisponible : ${reason}`, { retryable: true });
      }
      return running.send(destination.roomId, payload.txnId, content);
    },
    async close() {
      const current = session;
      session = null;
      if (current) await current.then((s) => s.stop()).catch(() => undefined);
    },
  };
}
