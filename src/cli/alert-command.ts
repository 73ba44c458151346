/**
 * `grist-realtime alert test --destination <nom> [--config fichier]`: sends a test message to
 * one configured destination and says precisely what failed (unknown room, bad token, rate
 * limit, network), in French, with what to do about it. `alert retry` is in its own file.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { DeliveryFailure, DeliveryOutcome } from "../alerts/delivery.ts";
import { matrixRoomEncrypted, matrixWhoAmI, sendMatrixMessage } from "../alerts/matrix-client.ts";
import { escapeHtml, toMatrixContent } from "../alerts/message.ts";
import { sendOutgoingWebhook } from "../alerts/outgoing-webhook.ts";
import {
  type AlertDestination,
  AlertsConfigError,
  alertsConfigFromSettings,
  type MatrixDestination,
  type WebhookDestination,
} from "../alerts/rules.ts";
import { ConfigError, loadConfig } from "../config/config.ts";
import { RETRY_HELP, runAlertRetryCommand } from "./alert-retry-command.ts";
import type { CommandIo } from "./io.ts";

const TEST_HELP = `Usage : grist-realtime alert test --destination <nom> [--config <fichier>]

Envoie un message d'essai à une destination d'alerte et explique un échec.
  --destination   nom de la destination (« tchap » avec les variables TCHAP_*) ;
                  facultatif s'il n'y en a qu'une
  --config        fichier de configuration des alertes (sinon ALERTS_CONFIG, ou les
                  variables TCHAP_HOMESERVER_URL, TCHAP_ACCESS_TOKEN, TCHAP_ROOM_ID)

Code de sortie : 0 envoyé, 1 envoi impossible, 2 configuration ou usage incorrects.
`;

const HELP = `${TEST_HELP}\n${RETRY_HELP}`;

const MATRIX_ADVICE: Record<DeliveryFailure["kind"], string> = {
  "bad-token":
    "Le serveur refuse le jeton d'accès : il a été révoqué (session du bot déconnectée) ou le compte a expiré (un compte Tchap expire après 13 mois sans renouvellement). Créez un nouveau jeton.",
  "unknown-room":
    "Vérifiez l'identifiant du salon (!…, pas l'alias #…), invitez le compte du bot dans le salon et acceptez l'invitation avec ce compte.",
  "rate-limited":
    "Le serveur limite les envois de ce compte : réessayez plus tard et gardez minIntervalMs à 1000 ou plus.",
  network:
    "Le serveur est injoignable : vérifiez l'URL, le DNS, le pare-feu et le proxy sortant de la machine du relais.",
  server: "Le serveur est en panne ou surchargé : réessayez plus tard.",
  rejected: "Le serveur refuse la requête : vérifiez l'URL configurée.",
  "bad-payload": "Le message d'essai a été refusé.",
};

/** A webhook receiver (n8n, a script…) has no token nor room: advice about its own side. */
const WEBHOOK_ADVICE: Record<DeliveryFailure["kind"], string> = {
  "bad-token":
    "Le destinataire refuse la signature : le secret de la destination (secret ou secretFile) doit être exactement celui qu'il vérifie (pour n8n : la variable GRIST_REALTIME_ALERT_SECRET), et les horloges des deux machines à l'heure (5 min de tolérance).",
  "unknown-room": "Le destinataire refuse la requête : vérifiez l'URL configurée.",
  "rate-limited":
    "Le destinataire limite les envois : le relais réessaiera ; augmentez minIntervalMs si cela se répète.",
  network:
    "Le destinataire est injoignable : vérifiez l'URL, le DNS, le pare-feu et le proxy sortant de la machine du relais.",
  server:
    "Le destinataire est en erreur, redémarre ou n'est pas prêt (pour n8n : workflow non publié, identifiant SMTP ou variable manquants ; voir ses exécutions). Les vraies alertes, elles, sont réessayées.",
  rejected:
    "Le destinataire refuse la requête : vérifiez l'URL configurée (adresse de production /webhook/…, pas /webhook-test/…).",
  "bad-payload": "Le destinataire a refusé le contenu du message d'essai.",
};

function nowInFrench(): string {
  return new Date().toLocaleString("fr-FR", { timeZone: "Europe/Paris" });
}

function testMessage(destination: string) {
  const title = "✅ Essai d'alerte grist-realtime";
  const sentence = `Message d'essai envoyé par « grist-realtime alert test » vers la destination « ${destination} », le ${nowInFrench()}.`;
  return {
    title,
    text: `${title}\n${sentence}`,
    html: `<p><strong>${escapeHtml(title)}</strong></p><p>${escapeHtml(sentence)}</p>`,
  };
}

function report(io: CommandIo, destination: AlertDestination, failure: DeliveryFailure): number {
  const advice = destination.kind === "matrix" ? MATRIX_ADVICE : WEBHOOK_ADVICE;
  const wait =
    failure.retryAfterMs !== null
      ? ` Délai demandé : ${Math.ceil(failure.retryAfterMs / 1000)} s.`
      : "";
  io.stderr.write(
    `Échec de l'envoi vers « ${destination.name} » : ${failure.message}\n→ ${advice[failure.kind]}${wait}\n`,
  );
  return 1;
}

async function testMatrix(io: CommandIo, destination: MatrixDestination): Promise<number> {
  const who = await matrixWhoAmI(destination);
  if (!who.ok) return report(io, destination, who);
  io.stdout.write(`Jeton accepté : compte du bot ${who.userId}\n`);
  const invite = (failure: DeliveryFailure): number => {
    if (failure.kind === "unknown-room") {
      io.stderr.write(`(le compte à inviter dans ${destination.roomId} est ${who.userId})\n`);
    }
    return report(io, destination, failure);
  };
  const room = await matrixRoomEncrypted(destination);
  if (!room.ok) return invite(room);
  if (room.encrypted) {
    // A plain PUT /send into an encrypted room would show the test in clear with an
    // "unencrypted" warning; and this command must not open the bot's crypto store, which the
    // running relay owns (two processes on one device store corrupt its one-time keys).
    io.stderr.write(
      `Le salon ${destination.roomId} est chiffré : aucun message en clair n'y est envoyé.\n→ Vérifiez la configuration avec « grist-realtime tchap check » ; les alertes réelles y sont chiffrées par le relais (TCHAP_STORE_KEY).\n`,
    );
    return 1;
  }
  const message = testMessage(destination.name);
  const outcome = await sendMatrixMessage(
    destination,
    `grt-test-${randomUUID()}`,
    toMatrixContent(message),
  );
  if (!outcome.ok) return invite(outcome);
  io.stdout.write(
    `Message d'essai envoyé dans le salon ${destination.roomId} (événement ${outcome.detail}).\n`,
  );
  return 0;
}

async function testWebhook(io: CommandIo, destination: WebhookDestination): Promise<number> {
  const message = testMessage(destination.name);
  const id = `test:${randomUUID()}`;
  const outcome: DeliveryOutcome = await sendOutgoingWebhook({
    url: destination.url,
    secret: destination.secret,
    deliveryKey: id,
    body: JSON.stringify({ type: "grist-realtime.test", id, ...message, link: null, event: null }),
  });
  if (!outcome.ok) return report(io, destination, outcome);
  io.stdout.write(`Webhook d'essai signé accepté par le destinataire (HTTP ${outcome.detail}).\n`);
  return 0;
}

function pickDestination(
  io: CommandIo,
  destinations: readonly AlertDestination[],
  name: string | undefined,
): AlertDestination | null {
  const names = destinations.map((d) => d.name).join(", ");
  if (name === undefined) {
    if (destinations.length === 1) return destinations[0] ?? null;
    io.stderr.write(`--destination est requis ; destinations configurées : ${names}\n`);
    return null;
  }
  const found = destinations.find((d) => d.name === name);
  if (!found)
    io.stderr.write(`Destination inconnue « ${name} » ; destinations configurées : ${names}\n`);
  return found ?? null;
}

const FLAGS = {
  destination: { type: "string" },
  config: { type: "string" },
  help: { type: "boolean" },
} as const;

function parseFlags(argv: string[]) {
  return parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
}

export async function runAlertCommand(argv: string[], io: CommandIo): Promise<number> {
  if (argv[0] === "retry") return runAlertRetryCommand(argv.slice(1), io);
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== "test") {
    io.stderr.write(HELP);
    return 2;
  }
  let destinations: readonly AlertDestination[];
  try {
    const settings = loadConfig({
      argv: values.config ? ["--alerts-config", values.config] : [],
      env: io.env,
    });
    const alerts = alertsConfigFromSettings(settings);
    if (!alerts) {
      io.stderr.write(
        "Aucune alerte configurée : donnez --config (ou ALERTS_CONFIG), ou TCHAP_HOMESERVER_URL, TCHAP_ACCESS_TOKEN et TCHAP_ROOM_ID.\n",
      );
      return 2;
    }
    destinations = alerts.destinations;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AlertsConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const destination = pickDestination(io, destinations, values.destination);
  if (!destination) return 2;
  return destination.kind === "matrix" ? testMatrix(io, destination) : testWebhook(io, destination);
}
