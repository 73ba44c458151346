/**
 * The end-to-end encryption endpoints of the fake homeserver (spec "End-to-end encryption",
 * "Cross-signing"): device and one-time keys, key queries and claims, to-device messages, and
 * the cross-signing uploads, the first behind user-interactive auth with the account password.
 */
import { randomBytes } from "node:crypto";
import { type Caller, error, ok, type Reply } from "./fake-homeserver.ts";
import type { HomeserverState } from "./fake-homeserver-state.ts";

const CLIENT = "/_matrix/client/v3";
const TO_DEVICE = /^\/_matrix\/client\/v3\/sendToDevice\/([^/]+)\/([^/]+)$/;

type Json = Record<string, unknown>;

export interface CryptoOptions {
  /** user id → account password, for the user-interactive auth of cross-signing uploads. */
  passwords: Record<string, string>;
  /** Accept a user's first cross-signing upload without auth, as MSC3967 servers do. */
  firstUploadWithoutAuth?: boolean;
}

function parse(body: Buffer | null): Json | null {
  if (body === null) return null;
  try {
    const value = JSON.parse(body.toString("utf8") || "{}");
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}

export async function handleCrypto(
  state: HomeserverState,
  caller: Caller,
  method: string,
  path: string,
  readBody: () => Promise<Buffer | null>,
  options: CryptoOptions = { passwords: {} },
): Promise<Reply | null> {
  const isPost = method === "POST";
  if (isPost && path === `${CLIENT}/keys/upload`) {
    const body = parse(await readBody());
    if (!body) return error(400, "M_NOT_JSON", "Content not JSON.");
    const count = state.uploadKeys(caller.userId, caller.deviceId, body);
    return ok({ one_time_key_counts: { signed_curve25519: count } });
  }
  if (isPost && path === `${CLIENT}/keys/query`) {
    const body = parse(await readBody());
    const wanted = Object.keys((body?.device_keys as object) ?? {});
    const pick = (name: string) =>
      Object.fromEntries(
        wanted.flatMap((userId) => {
          const key = state.crossSigning.get(userId)?.[name];
          return key ? [[userId, key]] : [];
        }),
      );
    const devicesWanted = (body?.device_keys ?? {}) as Record<string, string[]>;
    return ok({
      // Spec: an empty list asks for all the user's devices, a non-empty one for those only.
      device_keys: Object.fromEntries(
        wanted.map((userId) => {
          const only = devicesWanted[userId] ?? [];
          const all = [...(state.deviceKeys.get(userId) ?? [])];
          return [
            userId,
            Object.fromEntries(only.length ? all.filter(([id]) => only.includes(id)) : all),
          ];
        }),
      ),
      master_keys: pick("master_key"),
      self_signing_keys: pick("self_signing_key"),
      // A user-signing key is only ever shown to its owner.
      user_signing_keys: Object.fromEntries(
        Object.entries(pick("user_signing_key")).filter(([userId]) => userId === caller.userId),
      ),
      failures: {},
    });
  }
  if (isPost && path === `${CLIENT}/keys/claim`) {
    const body = parse(await readBody());
    const claimed: Record<string, Record<string, unknown>> = {};
    const wanted = (body?.one_time_keys ?? {}) as Record<string, Record<string, string>>;
    for (const [userId, devices] of Object.entries(wanted)) {
      for (const [deviceId, algorithm] of Object.entries(devices)) {
        const key = state.claimKey(userId, deviceId, algorithm);
        if (key) claimed[userId] = { ...claimed[userId], [deviceId]: key };
      }
    }
    return ok({ one_time_keys: claimed, failures: {} });
  }
  const toDevice = TO_DEVICE.exec(path);
  if (toDevice && method === "PUT") {
    const body = parse(await readBody());
    const messages = (body?.messages ?? {}) as Record<string, Record<string, object>>;
    state.sendToDevice(caller.userId, decodeURIComponent(toDevice[1] ?? ""), messages);
    return ok({});
  }
  if (isPost && path === `${CLIENT}/keys/device_signing/upload`) {
    const body = parse(await readBody());
    if (!body) return error(400, "M_NOT_JSON", "Content not JSON.");
    const firstTime = !state.crossSigning.has(caller.userId);
    // Spec v1.11+ (MSC3967): a first upload may go without auth; replacing keys never does.
    if (firstTime && options.firstUploadWithoutAuth) {
      state.uploadCrossSigning(caller.userId, body);
      return ok({});
    }
    const auth = (body.auth ?? {}) as Json;
    const identifier = (auth.identifier ?? {}) as Json;
    const password = options.passwords[caller.userId];
    // Spec "User-interactive authentication API": a stage answers the session the 401 gave.
    const knownSession = typeof auth.session === "string" && state.uiaSessions.has(auth.session);
    const authenticated =
      knownSession &&
      auth.type === "m.login.password" &&
      (identifier.user === caller.userId || auth.user === caller.userId) &&
      password !== undefined &&
      auth.password === password;
    if (!authenticated) {
      const session = knownSession ? String(auth.session) : `uia${randomBytes(8).toString("hex")}`;
      state.uiaSessions.add(session);
      return {
        status: 401,
        body: {
          flows: [{ stages: ["m.login.password"] }],
          params: {},
          session,
          ...(auth.type ? { errcode: "M_FORBIDDEN", error: "Invalid password" } : {}),
        },
      };
    }
    state.uiaSessions.delete(String(auth.session));
    state.uploadCrossSigning(caller.userId, body);
    return ok({});
  }
  if (isPost && path === `${CLIENT}/keys/signatures/upload`) {
    const body = parse(await readBody());
    state.uploadSignatures((body ?? {}) as Record<string, Record<string, Json>>);
    return ok({ failures: {} });
  }
  return null;
}
