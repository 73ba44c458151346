/**
 * A supervisor's Matrix client for tests: a real matrix-js-sdk client with Rust crypto, synced
 * against the fake homeserver, that decrypts what arrives in its rooms. A test proves an alert
 * is readable by checking what this client decrypted, not what the bot thinks it sent.
 * It runs in a worker thread (matrix-supervisor-worker.ts), for the reason in worker-rpc.ts.
 */
import { once } from "node:events";
import {
  ClientEvent,
  createClient,
  type MatrixClient,
  type MatrixEvent,
  RoomEvent,
  SyncState,
} from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import { startRpcWorker } from "../../../src/alerts/matrix/worker-rpc.ts";

export interface DecryptedMessage {
  eventId: string;
  sender: string;
  /** Curve25519 identity key of the device that encrypted it. */
  senderKey: string | null;
  /** 0 none, 1 grey, 2 red: the shield Element would draw next to the message. */
  shield: number | null;
  wasEncrypted: boolean;
  content: Record<string, unknown>;
  /**
   * Whether the supervisor's push rules (the spec's defaults, which matrix-js-sdk adds to the
   * server's empty set) say "notify" for this event: what makes a phone ring.
   */
  notify: boolean;
}

export interface SupervisorClient {
  client: MatrixClient;
  messages: DecryptedMessage[];
  /** Waits until `count` messages were received and decrypted (or failed to decrypt). */
  waitForMessages(count: number, timeoutMs?: number): Promise<DecryptedMessage[]>;
  /**
   * What a person does in Tchap for this account: creates its cross-signing identity (the
   * password confirms the upload) and keeps its keys in secret storage behind a new recovery
   * key, returned encoded as Tchap shows it.
   */
  createIdentityWithRecoveryKey(password: string): Promise<string>;
  stop(): void;
}

const SILENT = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  getChild: () => SILENT,
};

export async function startSupervisorClient(options: {
  homeserverUrl: string;
  accessToken: string;
  userId: string;
  deviceId: string;
}): Promise<SupervisorClient> {
  (logger as unknown as { setLevel(level: string): void }).setLevel("silent");
  const secretKeys = new Map<string, Uint8Array<ArrayBuffer>>();
  const client = createClient({
    baseUrl: options.homeserverUrl,
    accessToken: options.accessToken,
    userId: options.userId,
    deviceId: options.deviceId,
    logger: SILENT,
    // Secret storage keys this client created, given back when secret storage asks for them.
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => {
        const keyId = Object.keys(keys).find((id) => secretKeys.has(id));
        const key = keyId ? secretKeys.get(keyId) : undefined;
        return keyId && key ? [keyId, key] : null;
      },
      cacheSecretStorageKey: (keyId, _info, key) => {
        secretKeys.set(keyId, key);
      },
    },
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const messages: DecryptedMessage[] = [];
  const seen = new Set<string>();
  const changed = new EventTarget();
  const record = async (event: MatrixEvent) => {
    const id = event.getId() ?? "";
    if (seen.has(id) || event.getSender() === options.userId) return;
    if (event.getType() !== "m.room.message" && event.getType() !== "m.room.encrypted") return;
    seen.add(id);
    await client.decryptEventIfNeeded(event);
    const info = event.isEncrypted()
      ? await client.getCrypto()?.getEncryptionInfoForEvent(event)
      : null;
    messages.push({
      eventId: id,
      sender: event.getSender() ?? "",
      senderKey: event.getSenderKey(),
      shield: info?.shieldColour ?? null,
      wasEncrypted: event.isEncrypted(),
      content: event.getContent(),
      notify: client.getPushActionsForEvent(event, true)?.notify ?? false,
    });
    changed.dispatchEvent(new Event("message"));
  };
  client.on(RoomEvent.Timeline, (event) => {
    void record(event);
  });
  const ready = new Promise<void>((resolve) => {
    client.on(ClientEvent.Sync, (state) => {
      if (state === SyncState.Prepared) resolve();
    });
  });
  await client.startClient({ initialSyncLimit: 0, lazyLoadMembers: false });
  await ready;
  return {
    client,
    messages,
    async waitForMessages(count, timeoutMs = 20_000) {
      const signal = AbortSignal.timeout(timeoutMs);
      while (messages.length < count) {
        await once(changed, "message", { signal });
      }
      return messages;
    },
    async createIdentityWithRecoveryKey(password) {
      const crypto = client.getCrypto();
      if (!crypto) throw new Error("no crypto");
      await crypto.bootstrapCrossSigning({
        setupNewCrossSigning: true,
        authUploadDeviceSigningKeys: async (makeRequest) => {
          try {
            await makeRequest(null);
          } catch (error) {
            const session = (error as { data?: { session?: string } }).data?.session;
            await makeRequest({
              type: "m.login.password",
              identifier: { type: "m.id.user", user: options.userId },
              password,
              session,
            });
          }
        },
      });
      const recoveryKey = await crypto.createRecoveryKeyFromPassphrase();
      await crypto.bootstrapSecretStorage({
        createSecretStorageKey: async () => recoveryKey,
        setupNewSecretStorage: true,
      });
      if (!recoveryKey.encodedPrivateKey) throw new Error("no encoded recovery key");
      return recoveryKey.encodedPrivateKey;
    },
    stop: () => client.stopClient(),
  };
}

export interface Supervisor {
  /** Waits until `count` messages were received and decrypted (or failed to decrypt). */
  waitForMessages(count: number, timeoutMs?: number): Promise<DecryptedMessage[]>;
  /** The devices the supervisor's crypto knows for a user: device id → curve25519 key. */
  devicesOf(userId: string): Promise<Record<string, string>>;
  /** Waits until the supervisor's crypto sees the device signed by its owner's identity. */
  waitForCrossSigned(userId: string, deviceId: string, timeoutMs?: number): Promise<void>;
  /** Whether the supervisor's crypto sees the device signed by its owner (no waiting). */
  crossSignedByOwner(userId: string, deviceId: string): Promise<boolean>;
  /** See SupervisorClient.createIdentityWithRecoveryKey. */
  createIdentityWithRecoveryKey(password: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startSupervisor(options: {
  homeserverUrl: string;
  accessToken: string;
  userId: string;
  deviceId: string;
}): Promise<Supervisor> {
  const worker = startRpcWorker(new URL("./matrix-supervisor-worker.ts", import.meta.url));
  await worker.call("start", options);
  return {
    async waitForMessages(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const messages = await worker.call<DecryptedMessage[]>("messages");
        if (messages.length >= count) return messages;
        if (Date.now() > deadline) {
          throw new Error(`${messages.length} message(s) after ${timeoutMs} ms, ${count} expected`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    devicesOf: (userId) => worker.call("devicesOf", userId),
    createIdentityWithRecoveryKey: (password) =>
      worker.call("createIdentityWithRecoveryKey", password),
    crossSignedByOwner: (userId, deviceId) =>
      worker.call("crossSignedByOwner", { userId, deviceId }),
    async waitForCrossSigned(userId, deviceId, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await worker.call<boolean>("crossSignedByOwner", { userId, deviceId }))) {
        if (Date.now() > deadline) {
          throw new Error(`${deviceId} not cross-signed by ${userId} after ${timeoutMs} ms`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      await worker.call("stop").catch(() => undefined);
      await worker.terminate();
    },
  };
}
