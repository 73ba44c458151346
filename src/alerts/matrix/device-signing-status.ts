/**
 * Whether a device is cross-signed by its account, read from a `/keys/query` answer: the
 * device keys carry a signature by the account's self-signing key, which itself carries one
 * by the master key. For `tchap check`: it says what the server publishes, it does not verify
 * the signatures (the supervisors' clients do that, and show the result).
 */

export type DeviceSigningStatus =
  /** The device never uploaded keys: no encrypting session has run with this token yet. */
  | "no-device-keys"
  /** The account has no cross-signing identity. */
  | "no-identity"
  /** The account has one, but it does not sign this device. */
  | "not-signed"
  | "signed";

type Json = Record<string, unknown>;

const asObject = (value: unknown): Json =>
  typeof value === "object" && value !== null ? (value as Json) : {};

/** The `ed25519:<key>` ids of a cross-signing key object (`{ keys: { id: key } }`). */
function keyIds(key: unknown): string[] {
  return Object.keys(asObject(asObject(key).keys)).filter((id) => id.startsWith("ed25519:"));
}

function signedBy(signed: unknown, userId: string, ids: string[]): boolean {
  const byUser = asObject(asObject(asObject(signed).signatures)[userId]);
  return ids.some((id) => typeof byUser[id] === "string");
}

export function deviceSigningStatus(
  keysQuery: Json,
  userId: string,
  deviceId: string,
): DeviceSigningStatus {
  const device = asObject(asObject(keysQuery.device_keys)[userId])[deviceId];
  if (device === undefined) return "no-device-keys";
  const master = asObject(keysQuery.master_keys)[userId];
  const selfSigning = asObject(keysQuery.self_signing_keys)[userId];
  if (master === undefined || selfSigning === undefined) return "no-identity";
  const signs =
    signedBy(selfSigning, userId, keyIds(master)) && signedBy(device, userId, keyIds(selfSigning));
  return signs ? "signed" : "not-signed";
}
