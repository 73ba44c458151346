/**
 * Cross-signs the bot's device by its own account, so Tchap shows its messages as coming from
 * a device its owner vouches for instead of "non vérifié" (spec "Cross-signing").
 *
 * Once per account: the private cross-signing keys then live in the crypto store, which is
 * sealed in DATA_DIR (store-snapshot.ts), never in a plain file. Later starts find them there
 * and only check the device's signature, so a restart never makes new keys.
 * - No identity on the server yet: new keys are made and published, the upload confirmed with
 *   the account's password (user-interactive auth, `m.login.password`).
 * - An identity already published (set up in Tchap, or by a device whose store is gone): its
 *   keys are read from the account's secret storage with the recovery key. Without that key
 *   nothing is replaced: a new identity would make every member see "identité modifiée".
 */
import type { MatrixClient } from "matrix-js-sdk";

export interface CrossSigningSecrets {
  /** The account's password (TCHAP_PASSWORD), to publish a new identity. */
  password?: string;
  /** The account's recovery key (TCHAP_RECOVERY_KEY), to read an existing identity. */
  recoveryKey?: string;
}

export type CrossSigningOutcome =
  /** The device was already signed by the identity whose private keys this store holds. */
  | { state: "signed"; masterKey: string }
  /** Keys made or imported now, and the device signed. */
  | { state: "bootstrapped"; masterKey: string; source: "password" | "recovery-key" }
  /** Nothing to do it with: the device stays unsigned. */
  | { state: "missing-secret"; needs: "password" | "recovery-key" }
  | { state: "failed"; reason: string };

type Crypto = NonNullable<ReturnType<MatrixClient["getCrypto"]>>;

/** The `auth` the device_signing upload asks for, with the session of the server's 401. */
function passwordAuth(userId: string, password: string, session: string | undefined) {
  return {
    type: "m.login.password",
    identifier: { type: "m.id.user", user: userId },
    password,
    ...(session ? { session } : {}),
  };
}

/**
 * Spec "User-interactive authentication": ask first without `auth`; a server that wants none
 * (a first upload, MSC3967) answers 200, otherwise 401 with a session to answer with.
 */
function uiaWithPassword(userId: string, password: string) {
  return async <T>(makeRequest: (auth: Record<string, unknown> | null) => Promise<T>) => {
    try {
      await makeRequest(null);
      return;
    } catch (error) {
      const data = (error as { httpStatus?: number; data?: Record<string, unknown> }) ?? {};
      if (data.httpStatus !== 401) throw error;
      const flows = (data.data?.flows ?? []) as { stages?: string[] }[];
      if (
        !flows.some((flow) => flow.stages?.length === 1 && flow.stages[0] === "m.login.password")
      ) {
        throw new Error("the server does not accept the password for this upload");
      }
      const session = typeof data.data?.session === "string" ? data.data.session : undefined;
      await makeRequest(passwordAuth(userId, password, session));
    }
  };
}

/** The master key the server publishes for the account (`ed25519:<key>` id), or null. */
async function publishedMasterKey(client: MatrixClient, userId: string): Promise<string | null> {
  // Asked of the server itself: the crypto machine also counts keys it made but never got
  // published (an upload refused for a wrong password), which would pass for an identity.
  const result = await client.downloadKeysForUsers([userId]);
  const keys = result.master_keys?.[userId]?.keys ?? {};
  return Object.values(keys)[0] ?? null;
}

async function signDeviceIfNeeded(crypto: Crypto, userId: string, deviceId: string) {
  const status = await crypto.getDeviceVerificationStatus(userId, deviceId);
  if (!status?.signedByOwner) await crypto.crossSignDevice(deviceId);
}

export async function ensureCrossSigned(
  client: MatrixClient,
  secrets: CrossSigningSecrets,
): Promise<CrossSigningOutcome> {
  const crypto = client.getCrypto();
  const userId = client.getSafeUserId();
  const deviceId = client.getDeviceId();
  if (!crypto || !deviceId) return { state: "failed", reason: "crypto not started" };
  try {
    const published = await publishedMasterKey(client, userId);
    // Non-null only when this store's private keys match the identity the crypto last saw.
    await crypto.userHasCrossSigningKeys(userId, true);
    const held = await crypto.getCrossSigningKeyId();
    if (published && held === published) {
      await signDeviceIfNeeded(crypto, userId, deviceId);
      return { state: "signed", masterKey: published };
    }
    if (published) {
      if (!secrets.recoveryKey) return { state: "missing-secret", needs: "recovery-key" };
      // Without the keys in secret storage the SDK would make new ones: refuse that here.
      if (!(await crypto.getCrossSigningStatus()).privateKeysInSecretStorage) {
        return {
          state: "failed",
          reason: "the account's secret storage holds no cross-signing keys",
        };
      }
      // Reads the three private keys from secret storage (the client's getSecretStorageKey
      // answers with the recovery key), caches them in the store and signs this device.
      await crypto.bootstrapCrossSigning({});
    } else {
      if (!secrets.password) return { state: "missing-secret", needs: "password" };
      // setupNewCrossSigning: keys left in the store by an attempt whose upload was refused
      // (wrong password) were never published; they are replaced, not kept unpublished.
      await crypto.bootstrapCrossSigning({
        setupNewCrossSigning: true,
        authUploadDeviceSigningKeys: uiaWithPassword(userId, secrets.password),
      });
    }
    await crypto.userHasCrossSigningKeys(userId, true);
    const masterKey = await crypto.getCrossSigningKeyId();
    if (!masterKey || masterKey !== (await publishedMasterKey(client, userId))) {
      return { state: "failed", reason: "keys not confirmed by the server" };
    }
    await signDeviceIfNeeded(crypto, userId, deviceId);
    return {
      state: "bootstrapped",
      masterKey,
      source: published ? "recovery-key" : "password",
    };
  } catch (error) {
    // The error of a refused password carries the server's message, never the password.
    return { state: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The log line for an outcome: level, fields and an English message, never a secret. */
export function crossSigningLogLine(outcome: CrossSigningOutcome | null): {
  level: "info" | "warn";
  fields: Record<string, string>;
  message: string;
} {
  if (!outcome) return { level: "warn", fields: {}, message: "cross-signing not checked" };
  switch (outcome.state) {
    case "signed":
      return {
        level: "info",
        fields: { masterKey: outcome.masterKey },
        message: "bot device cross-signed by its account",
      };
    case "bootstrapped":
      return {
        level: "info",
        fields: { masterKey: outcome.masterKey, source: outcome.source },
        message: "bot device cross-signed now",
      };
    case "missing-secret":
      return {
        level: "warn",
        fields: { needs: outcome.needs === "password" ? "TCHAP_PASSWORD" : "TCHAP_RECOVERY_KEY" },
        message: "bot device not cross-signed: Tchap shows it as unverified",
      };
    case "failed":
      return {
        level: "warn",
        fields: { reason: outcome.reason },
        message: "bot device cross-signing failed",
      };
  }
}
