/**
 * The bot's encrypting Matrix session: one matrix-js-sdk client with Rust crypto (WebAssembly)
 * whose sync loop tracks the room members' devices and receives keys; sends to an encrypted
 * room go through it, so the room key is shared with every member's device before the message
 * leaves. Its crypto store is copied, sealed, to a file after each change (see
 * store-snapshot.ts), so a restart keeps the same device and keys.
 */
// The Rust crypto store is IndexedDB; this installs an in-memory one on globalThis, which the
// relay's server code does not otherwise use.
import "fake-indexeddb/auto";
import { stat } from "node:fs/promises";
import type { MatrixClient } from "matrix-js-sdk";
import { type DeliveryOutcome, failure } from "../delivery.ts";
import type { MatrixMessageContent } from "../message.ts";
import {
  type CrossSigningOutcome,
  type CrossSigningSecrets,
  ensureCrossSigned,
} from "./cross-signing.ts";
import { sendErrorToFailure } from "./send-error.ts";
import {
  deleteDatabases,
  deriveKeys,
  dumpDatabases,
  readSnapshotFile,
  restoreDatabases,
  writeSnapshotFile,
} from "./store-snapshot.ts";

export interface MatrixSessionOptions {
  homeserverUrl: string;
  accessToken: string;
  userId: string;
  /** The device of the access token (from `tchap login`, or `whoami`). */
  deviceId: string;
  /** The sealed crypto store, e.g. DATA_DIR/tchap/<device>.crypto. */
  storeFile: string;
  /** Secret the store key is derived from (TCHAP_STORE_KEY). */
  storeSecret: string;
  /** Password or recovery key to cross-sign the device with, once (see cross-signing.ts). */
  crossSigning?: CrossSigningSecrets;
  fetch?: typeof fetch;
  /** Waits for the first sync at most this long; defaults to 30 000 ms. */
  startTimeoutMs?: number;
  /** Delay before copying the store after a change; defaults to 500 ms. */
  persistDelayMs?: number;
  onError?: (error: unknown, what: string) => void;
}

const SILENT = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild() {
    return SILENT;
  },
};

export class MatrixSession {
  readonly deviceId: string;
  private readonly options: MatrixSessionOptions;
  private readonly keys: ReturnType<typeof deriveKeys>;
  private readonly prefix: string;
  private client: MatrixClient | null = null;
  private persistTimer: NodeJS.Timeout | null = null;
  private persisting: Promise<void> = Promise.resolve();
  /** What the start found or did about cross-signing; null before `start`. */
  crossSigning: CrossSigningOutcome | null = null;

  constructor(options: MatrixSessionOptions) {
    this.options = options;
    this.deviceId = options.deviceId;
    this.keys = deriveKeys(options.storeSecret);
    // One database set per device: two sessions in one process never share a store.
    this.prefix = `grist-realtime:${options.userId}:${options.deviceId}`;
  }

  /** Restores the store, starts crypto and the sync loop, and waits for the first sync. */
  async start(): Promise<void> {
    const sdk = await import("matrix-js-sdk");
    // The SDK's root logger writes to the console by default; this worker is the relay's only
    // user of it, and the relay reports failures itself.
    const { logger } = await import("matrix-js-sdk/lib/logger.js");
    (logger as unknown as { setLevel(level: string): void }).setLevel("silent");
    await deleteDatabases(this.prefix);
    const saved = await readSnapshotFile(this.options.storeFile, this.keys.fileKey);
    if (saved) await restoreDatabases(saved);
    const recoveryKey = this.options.crossSigning?.recoveryKey;
    const { decodeRecoveryKey } = await import("matrix-js-sdk/lib/crypto-api/index.js");
    const client = sdk.createClient({
      baseUrl: this.options.homeserverUrl,
      accessToken: this.options.accessToken,
      userId: this.options.userId,
      deviceId: this.options.deviceId,
      logger: SILENT,
      // Secret storage asks for its key only when reading an identity published elsewhere.
      ...(recoveryKey
        ? {
            cryptoCallbacks: {
              getSecretStorageKey: async ({ keys }: { keys: Record<string, unknown> }) => {
                const keyId = Object.keys(keys)[0];
                return keyId
                  ? ([keyId, decodeRecoveryKey(recoveryKey)] as [string, Uint8Array<ArrayBuffer>])
                  : null;
              },
            },
          }
        : {}),
      ...(this.options.fetch ? { fetchFn: this.options.fetch } : {}),
    });
    this.client = client;
    await client.initRustCrypto({
      cryptoDatabasePrefix: this.prefix,
      storageKey: this.keys.storeKey,
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("first sync did not finish in time")),
        this.options.startTimeoutMs ?? 30_000,
      );
      client.on(sdk.ClientEvent.Sync, (state) => {
        if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) {
          clearTimeout(timer);
          resolve();
        }
        this.persistSoon();
      });
    });
    await client.startClient({
      initialSyncLimit: 0,
      lazyLoadMembers: false,
      pendingEventOrdering: sdk.PendingEventOrdering.Detached,
    });
    await ready;
    // Bounded like the first sync: a server that never answers must not hold alerts back; an
    // unsigned device still encrypts, and the next start tries again.
    let timer: NodeJS.Timeout | undefined;
    const limitMs = this.options.startTimeoutMs ?? 30_000;
    this.crossSigning = await Promise.race([
      ensureCrossSigned(client, this.options.crossSigning ?? {}),
      new Promise<CrossSigningOutcome>((resolve) => {
        timer = setTimeout(
          () => resolve({ state: "failed", reason: `no answer in ${limitMs} ms` }),
          limitMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    // Saved at once: new cross-signing keys exist only in this store until then.
    await this.persistNow();
  }

  /** Whether the room's state has `m.room.encryption`, as this client saw it in /sync. */
  async isRoomEncrypted(roomId: string): Promise<boolean | null> {
    const client = this.requireClient();
    if (!client.getRoom(roomId)) return null;
    return (await client.getCrypto()?.isEncryptionEnabledInRoom(roomId)) ?? false;
  }

  /**
   * Encrypts and sends. The txnId is the alert's: a retry after a lost answer is dropped by
   * the homeserver as a duplicate, whatever the new ciphertext.
   */
  async send(
    roomId: string,
    txnId: string,
    content: MatrixMessageContent,
  ): Promise<DeliveryOutcome> {
    const client = this.requireClient();
    const room = client.getRoom(roomId);
    if (!room) {
      return failure(
        "unknown-room",
        "salon inconnu ou bot non membre (absent de la synchronisation)",
      );
    }
    try {
      const response = await client.sendMessage(
        roomId,
        // A valid m.text with HTML; the SDK's content type is a union too wide to name here.
        content as unknown as Parameters<MatrixClient["sendMessage"]>[2],
        txnId,
      );
      this.persistSoon();
      return { ok: true, detail: response.event_id };
    } catch (error) {
      // Forget the failed local echo: the dispatcher's retry sends the same txnId afresh.
      for (const pending of room.getPendingEvents()) {
        if (pending.getTxnId() === txnId) {
          try {
            client.cancelPendingEvent(pending);
          } catch {
            // Already gone or being sent: nothing to cancel.
          }
        }
      }
      this.persistSoon();
      return sendErrorToFailure(error);
    }
  }

  /** Stops syncing, saves the store one last time and frees the in-memory copy. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = null;
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = null;
    client.stopClient();
    await this.persisting;
    await this.save();
    await deleteDatabases(this.prefix);
  }

  /** Size of the sealed store file, for `tchap check`. */
  async storeFileBytes(): Promise<number | null> {
    try {
      return (await stat(this.options.storeFile)).size;
    } catch {
      return null;
    }
  }

  private requireClient(): MatrixClient {
    if (!this.client) throw new Error("Matrix session not started");
    return this.client;
  }

  private persistSoon(): void {
    if (this.persistTimer || !this.client) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      void this.persistNow();
    }, this.options.persistDelayMs ?? 500);
    this.persistTimer.unref();
  }

  private persistNow(): Promise<void> {
    this.persisting = this.persisting.then(() =>
      this.save().catch((error) => this.options.onError?.(error, "crypto store not saved")),
    );
    return this.persisting;
  }

  private async save(): Promise<void> {
    const snapshot = await dumpDatabases(this.prefix);
    if (snapshot.length > 0) {
      await writeSnapshotFile(this.options.storeFile, snapshot, this.keys.fileKey);
    }
  }
}
