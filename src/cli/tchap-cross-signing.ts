/**
 * The cross-signing steps of `grist-realtime tchap`: `login` signs the new device with the
 * password it was given, `check` says whether the device is signed. French for the operator.
 */
import { join } from "node:path";
import type { CrossSigningOutcome } from "../alerts/matrix/cross-signing.ts";
import { deviceSigningStatus } from "../alerts/matrix/device-signing-status.ts";
import { startMatrixSession } from "../alerts/matrix/session-host.ts";
import { matrixPost } from "../alerts/matrix-client.ts";
import { storeFileFor } from "../alerts/matrix-sender.ts";
import type { loadConfig } from "../config/config.ts";
import type { CommandIo } from "./io.ts";

/**
 * The password is at hand once, here: the new device's encrypting session starts with it
 * and cross-signs the device, so the relay's configuration never needs the password. The keys
 * go to the sealed store the relay will open (same file, same TCHAP_STORE_KEY).
 */
export async function crossSignNewDevice(
  io: CommandIo,
  settings: ReturnType<typeof loadConfig>,
  login: {
    homeserver: string;
    password: string;
    userId: string;
    accessToken: string;
    deviceId: string;
  },
): Promise<void> {
  let outcome: CrossSigningOutcome | null;
  try {
    const session = await startMatrixSession({
      homeserverUrl: login.homeserver,
      accessToken: login.accessToken,
      userId: login.userId,
      deviceId: login.deviceId,
      storeFile: storeFileFor(join(settings.DATA_DIR, "tchap"), login.userId, login.deviceId),
      storeSecret: settings.TCHAP_STORE_KEY ?? "",
      crossSigning: {
        password: login.password,
        ...(settings.TCHAP_RECOVERY_KEY ? { recoveryKey: settings.TCHAP_RECOVERY_KEY } : {}),
      },
    });
    outcome = session.crossSigning;
    await session.stop();
  } catch (error) {
    outcome = { state: "failed", reason: error instanceof Error ? error.message : String(error) };
  }
  const later =
    "le relais réessaiera à son démarrage si TCHAP_PASSWORD_FILE ou TCHAP_RECOVERY_KEY_FILE est défini";
  if (outcome?.state === "signed" || outcome?.state === "bootstrapped") {
    io.stdout.write(
      `✔ Appareil ${login.deviceId} signé par le compte (signature croisée) ; clés dans le magasin chiffré de DATA_DIR/tchap.\n`,
    );
  } else if (outcome?.state === "missing-secret") {
    io.stdout.write(
      `⚠ L'identité du compte existe déjà (créée dans Tchap ou par un ancien appareil) : l'appareil n'est pas signé.\n→ Définissez TCHAP_RECOVERY_KEY_FILE (clé de récupération du compte) : ${later}.\n`,
    );
  } else {
    io.stdout.write(
      `⚠ Signature croisée non faite (${outcome?.reason ?? "inconnu"}) : ${later}.\n`,
    );
  }
}

/**
 * A warning, not a failure: an unsigned device still receives and sends encrypted alerts,
 * only Tchap shows it as "non vérifié".
 */
export async function reportCrossSigning(
  io: CommandIo,
  target: { homeserverUrl: string; accessToken: string },
  userId: string,
  deviceId: string,
): Promise<void> {
  // Only this device: the answer stays small whatever the account's other devices.
  const keys = await matrixPost(target, "/keys/query", { device_keys: { [userId]: [deviceId] } });
  if (!keys.ok) {
    io.stdout.write(`⚠ Signature croisée non vérifiée : ${keys.message}\n`);
    return;
  }
  const unsigned = `⚠ L'appareil ${deviceId} du bot n'est pas signé par son compte (signature croisée) : Tchap l'affiche « non vérifié ».\n`;
  switch (deviceSigningStatus(keys.body, userId, deviceId)) {
    case "signed":
      io.stdout.write(
        `✔ L'appareil ${deviceId} du bot est signé par son compte (signature croisée)\n`,
      );
      return;
    case "no-device-keys":
      io.stdout.write(
        `ℹ L'appareil ${deviceId} n'a pas encore publié ses clés : le relais le fera à son premier envoi dans ce salon, et le signera par son compte si TCHAP_PASSWORD_FILE ou TCHAP_RECOVERY_KEY_FILE est défini.\n`,
      );
      return;
    case "no-identity":
      io.stdout.write(
        `${unsigned}→ Définissez TCHAP_PASSWORD_FILE (mot de passe du compte du bot) le temps d'un démarrage du relais : il crée l'identité du compte et signe l'appareil, une seule fois.\n`,
      );
      return;
    case "not-signed":
      io.stdout.write(
        `${unsigned}→ L'identité du compte existe déjà (créée dans Tchap ou par un ancien appareil) : définissez TCHAP_RECOVERY_KEY_FILE (clé de récupération du compte) le temps d'un démarrage du relais.\n`,
      );
      return;
  }
}
