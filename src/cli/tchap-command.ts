/**
 * `grist-realtime tchap login|check`. `login` trades the bot account's password (read from a
 * file, never a flag: flags end up in shell history and `ps`) for an access token and a device
 * id, saved as secret files for TCHAP_ACCESS_TOKEN_FILE; the token is never printed. `check`
 * says, in French, whether the token works, the bot is in the room, the room is encrypted and
 * the relay is ready for it, and whether the bot may write there.
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { DeliveryFailure } from "../alerts/delivery.ts";
import {
  matrixGet,
  matrixPasswordLogin,
  matrixRoomEncrypted,
  matrixWhoAmI,
} from "../alerts/matrix-client.ts";
import { ConfigError, loadConfig } from "../config/config.ts";
import type { CommandIo } from "./io.ts";
import { crossSignNewDevice, reportCrossSigning } from "./tchap-cross-signing.ts";

const HELP = `Usage :
  grist-realtime tchap login --homeserver <url> --user <adresse e-mail ou @compte:serveur>
                             --password-file <fichier> [--out-dir <dossier>]
  grist-realtime tchap check   (lit TCHAP_HOMESERVER_URL, TCHAP_ACCESS_TOKEN[_FILE],
                                TCHAP_ROOM_ID et TCHAP_STORE_KEY[_FILE])

login : se connecte une fois avec le mot de passe du compte du bot et enregistre le jeton
        d'accès et l'identifiant d'appareil dans <dossier>/tchap-access-token et
        <dossier>/tchap-device-id (défaut : DATA_DIR, droits 600). Le jeton n'est jamais affiché.
        Avec TCHAP_STORE_KEY, signe aussi le nouvel appareil par le compte (signature croisée),
        avec ce mot de passe ou TCHAP_RECOVERY_KEY si l'identité du compte existe déjà.
check : vérifie le jeton, l'appartenance du bot au salon, le chiffrement du salon et le droit
        d'y écrire, et dit quoi corriger ; pour un salon chiffré, dit aussi si l'appareil du bot
        est signé par son compte (signature croisée), sans en faire un échec.

Codes de sortie : 0 tout va bien ; 1 jeton refusé ; 2 usage ou configuration incorrects ;
3 salon inconnu ou bot non membre ; 4 salon chiffré sans TCHAP_STORE_KEY ; 5 le bot n'a pas
le droit d'écrire ; 6 serveur injoignable ou en erreur.
`;

export const TCHAP_EXIT = {
  ok: 0,
  badToken: 1,
  usage: 2,
  room: 3,
  storeKey: 4,
  cannotSend: 5,
  unreachable: 6,
} as const;

const FLAGS = {
  homeserver: { type: "string" },
  user: { type: "string" },
  "password-file": { type: "string" },
  "out-dir": { type: "string" },
  help: { type: "boolean" },
} as const;

function fail(io: CommandIo, what: string, advice: string, code: number): number {
  io.stderr.write(`✘ ${what}\n→ ${advice}\n`);
  return code;
}

function failureCode(failure: DeliveryFailure): number {
  if (failure.kind === "bad-token") return TCHAP_EXIT.badToken;
  if (failure.kind === "unknown-room") return TCHAP_EXIT.room;
  return TCHAP_EXIT.unreachable;
}

async function login(io: CommandIo, values: Record<string, string | boolean | undefined>) {
  const homeserver = values.homeserver;
  const user = values.user;
  const passwordFile = values["password-file"];
  if (
    typeof homeserver !== "string" ||
    typeof user !== "string" ||
    typeof passwordFile !== "string"
  ) {
    io.stderr.write(`--homeserver, --user et --password-file sont obligatoires.\n\n${HELP}`);
    return TCHAP_EXIT.usage;
  }
  let password: string;
  try {
    password = (await readFile(passwordFile, "utf8")).trim();
  } catch (error) {
    io.stderr.write(
      `Lecture impossible de ${passwordFile} (${(error as NodeJS.ErrnoException).code ?? "erreur"})\n`,
    );
    return TCHAP_EXIT.usage;
  }
  // Before the first login the TCHAP_* settings are often incomplete (no token yet): with
  // --out-dir that is no reason to refuse; only the cross-signing step then waits.
  let settings: ReturnType<typeof loadConfig> | null = null;
  let configProblem = "";
  try {
    settings = loadConfig({ env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    configProblem = error.message;
  }
  const outDir = typeof values["out-dir"] === "string" ? values["out-dir"] : settings?.DATA_DIR;
  if (outDir === undefined) {
    io.stderr.write(`${configProblem}\n`);
    return TCHAP_EXIT.usage;
  }
  const result = await matrixPasswordLogin(homeserver, {
    user,
    password,
    deviceName: "grist-realtime (relais d'alertes)",
  });
  if (!result.ok) {
    const advice =
      result.kind === "bad-token"
        ? "Vérifiez l'adresse e-mail du compte du bot et le mot de passe du fichier."
        : "Vérifiez l'URL du serveur (https://matrix.<serveur>) et l'accès réseau.";
    return fail(io, `Connexion refusée : ${result.message}`, advice, failureCode(result));
  }
  await mkdir(outDir, { recursive: true });
  const tokenFile = resolve(join(outDir, "tchap-access-token"));
  const deviceFile = resolve(join(outDir, "tchap-device-id"));
  // Written 0600 from the start: the token is the account.
  await writeFile(tokenFile, `${result.accessToken}\n`, { mode: 0o600 });
  await chmod(tokenFile, 0o600);
  await writeFile(deviceFile, `${result.deviceId}\n`, { mode: 0o600 });
  io.stdout.write(
    `Connecté : compte ${result.userId}, appareil ${result.deviceId}.\n` +
      `Jeton enregistré dans ${tokenFile} (non affiché).\n` +
      `Définissez TCHAP_ACCESS_TOKEN_FILE=${tokenFile}, puis lancez « grist-realtime tchap check ».\n` +
      "Ne relancez pas « tchap login » à chaque démarrage : chaque connexion crée un nouvel appareil.\n",
  );
  if (settings?.TCHAP_STORE_KEY) {
    await crossSignNewDevice(io, settings, { homeserver, password, ...result });
  } else {
    io.stdout.write(
      "ℹ Sans TCHAP_STORE_KEY, l'appareil n'est pas encore signé par le compte (signature croisée) : le relais le fera pour un salon chiffré (voir docs/alertes.md).\n",
    );
  }
  return TCHAP_EXIT.ok;
}

function powerOf(levels: Record<string, unknown>, userId: string): { has: number; needs: number } {
  const num = (value: unknown, fallback: number) =>
    typeof value === "number" && Number.isFinite(value) ? value : fallback;
  const users = (levels.users ?? {}) as Record<string, unknown>;
  const events = (levels.events ?? {}) as Record<string, unknown>;
  return {
    has: num(users[userId], num(levels.users_default, 0)),
    needs: num(events["m.room.message"], num(levels.events_default, 0)),
  };
}

async function check(io: CommandIo): Promise<number> {
  let settings: ReturnType<typeof loadConfig>;
  try {
    settings = loadConfig({ env: io.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr.write(`${error.message}\n`);
    return TCHAP_EXIT.usage;
  }
  const { TCHAP_HOMESERVER_URL: homeserverUrl, TCHAP_ACCESS_TOKEN: accessToken } = settings;
  const roomId = settings.TCHAP_ROOM_ID;
  if (!homeserverUrl || !accessToken || !roomId) {
    io.stderr.write(
      "Définissez TCHAP_HOMESERVER_URL, TCHAP_ACCESS_TOKEN (ou TCHAP_ACCESS_TOKEN_FILE) et TCHAP_ROOM_ID.\n",
    );
    return TCHAP_EXIT.usage;
  }
  const target = { homeserverUrl, accessToken, roomId };
  const who = await matrixWhoAmI(target);
  if (!who.ok) {
    const advice =
      who.kind === "bad-token"
        ? "Le jeton est révoqué ou le compte a expiré : relancez « grist-realtime tchap login »."
        : "Vérifiez TCHAP_HOMESERVER_URL (https://matrix.<serveur>) et l'accès réseau du relais.";
    return fail(io, `Jeton : ${who.message}`, advice, failureCode(who));
  }
  io.stdout.write(`✔ Jeton valide : compte ${who.userId}, appareil ${who.deviceId ?? "inconnu"}\n`);
  const room = encodeURIComponent(roomId);
  const members = await matrixGet(target, `/rooms/${room}/joined_members`);
  if (!members.ok) {
    return fail(
      io,
      `Salon ${roomId} : ${members.message}`,
      "Vérifiez l'identifiant du salon (!…, pas l'alias #…), invitez le compte du bot et acceptez l'invitation avec ce compte.",
      failureCode(members),
    );
  }
  const joined = Object.keys((members.body.joined ?? {}) as object);
  if (!joined.includes(who.userId)) {
    return fail(
      io,
      `Le bot n'est pas membre du salon ${roomId}.`,
      "Invitez le compte du bot dans le salon et acceptez l'invitation avec ce compte.",
      TCHAP_EXIT.room,
    );
  }
  io.stdout.write(`✔ Le bot est membre du salon ${roomId} (${joined.length} membres)\n`);
  const encryption = await matrixRoomEncrypted(target);
  if (!encryption.ok) {
    return fail(
      io,
      `Chiffrement : ${encryption.message}`,
      "Réessayez plus tard.",
      failureCode(encryption),
    );
  }
  if (encryption.encrypted && !settings.TCHAP_STORE_KEY) {
    return fail(
      io,
      "Salon chiffré de bout en bout, mais TCHAP_STORE_KEY n'est pas défini : le relais refusera d'y envoyer en clair.",
      "Créez un secret (par exemple « openssl rand -base64 32 > tchap-store-key ») et définissez TCHAP_STORE_KEY_FILE.",
      TCHAP_EXIT.storeKey,
    );
  }
  io.stdout.write(
    encryption.encrypted
      ? "✔ Salon chiffré de bout en bout : le relais chiffrera les alertes (magasin de clés dans DATA_DIR/tchap)\n"
      : "ℹ Salon non chiffré : les alertes y sont lisibles par les serveurs Tchap (forum ou salon privé non chiffré)\n",
  );
  if (encryption.encrypted && who.deviceId) {
    await reportCrossSigning(io, target, who.userId, who.deviceId);
  }
  const levels = await matrixGet(target, `/rooms/${room}/state/m.room.power_levels/`);
  // No power levels event: everyone may send (spec defaults, events_default 0).
  const power = levels.ok ? powerOf(levels.body, who.userId) : { has: 0, needs: 0 };
  if (!levels.ok && levels.status !== 404) {
    return fail(io, `Droits : ${levels.message}`, "Réessayez plus tard.", failureCode(levels));
  }
  if (power.has < power.needs) {
    return fail(
      io,
      `Le bot ne peut pas écrire dans ce salon (niveau ${power.has}, ${power.needs} requis).`,
      "Un administrateur du salon doit donner au bot le droit d'envoyer des messages.",
      TCHAP_EXIT.cannotSend,
    );
  }
  io.stdout.write("✔ Le bot peut écrire dans le salon\n");
  return TCHAP_EXIT.ok;
}

export async function runTchapCommand(argv: string[], io: CommandIo): Promise<number> {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof FLAGS; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return TCHAP_EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return TCHAP_EXIT.ok;
  }
  if (positionals.length === 1 && positionals[0] === "login") return login(io, values);
  if (positionals.length === 1 && positionals[0] === "check") return check(io);
  io.stderr.write(HELP);
  return TCHAP_EXIT.usage;
}
