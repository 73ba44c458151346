/** `grist-realtime setup`: prepares the Grist document and says what the operator must still do. */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_TABLE_ID } from "../grist/expected-schema.ts";
import { GristApiError, GristClient } from "../grist/rest-client.ts";
import { allowedDomainAdvice, runSetup, type SetupReport, WEBHOOK_NAMES } from "../grist/setup.ts";
import type { CommandIo } from "./io.ts";

const HELP = `Usage : grist-realtime setup [options]

Prépare le document Grist pour le relais, sans jamais supprimer de données :
  - vérifie la table (colonnes du guide, choix, DateTime:Europe/Paris), crée ce qui manque ;
  - écrit la correspondance des colonnes (ID → ID2…) lue par le relais ;
  - enregistre les deux webhooks (ajouts, modifications) avec le secret, ou les met à jour.
Relancer la commande ne change rien si tout est déjà en place.

Options (ou variable d'environnement) :
  --grist-url <url>         GRIST_URL         adresse du serveur Grist (https://grist.exemple.fr)
  --doc <id>                GRIST_DOC_ID      identifiant du document (Paramètres du document)
  --api-key <clé>           GRIST_API_KEY     clé API d'un propriétaire du document
  --table <id>              GRIST_TABLE       table suivie (défaut : ${DEFAULT_TABLE_ID})
  --relay-url <url>         RELAY_PUBLIC_URL  adresse du relais telle que Grist doit l'appeler
  --webhook-secret <texte>  WEBHOOK_SECRET    secret des webhooks (16 caractères au moins)
  --mapping-file <chemin>   COLUMN_MAPPING_FILE  défaut : DATA_DIR/column-mapping.json (./data)
  --coordonnees             ajoute aussi les colonnes Latitude et Longitude (géocodage écrit
                            dans Grist avec GEOCODE_WRITE_BACK=true)
  --dry-run                 affiche ce qui serait fait, sans rien modifier
  --migrate                 convertit une colonne Derniere_MAJ existante en formule déclenchée
                            (NOW() à chaque modification de la ligne ; valeurs conservées)
  --help                    affiche cette aide

Préférez les variables d'environnement pour la clé et le secret : les options de la ligne de
commande sont visibles des autres utilisateurs de la machine (ps).
`;

const OPTIONS = {
  "grist-url": { type: "string" },
  doc: { type: "string" },
  "api-key": { type: "string" },
  table: { type: "string" },
  "relay-url": { type: "string" },
  "webhook-secret": { type: "string" },
  "mapping-file": { type: "string" },
  "dry-run": { type: "boolean" },
  migrate: { type: "boolean" },
  coordonnees: { type: "boolean" },
  help: { type: "boolean" },
} as const;

interface SetupArguments {
  gristUrl: string;
  docId: string;
  apiKey: string;
  tableId: string;
  relayUrl: string;
  webhookSecret: string;
  mappingPath: string;
  dryRun: boolean;
  migrate: boolean;
  coordinates: boolean;
}

export async function runSetupCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.stderr.write(
      `${describeArgumentError(error)}\n\n« grist-realtime setup --help » liste les options.\n`,
    );
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const parsed = readArguments(values, io.env);
  if ("problems" in parsed) {
    io.stderr.write(
      `Impossible de lancer la préparation :\n${parsed.problems.map((p) => `  - ${p}`).join("\n")}\n`,
    );
    return 2;
  }
  const args = parsed.args;
  const client = new GristClient({
    url: args.gristUrl,
    docId: args.docId,
    auth: { kind: "apiKey", apiKey: args.apiKey },
  });
  try {
    const report = await runSetup({
      client,
      tableId: args.tableId,
      relayUrl: args.relayUrl,
      webhookSecret: args.webhookSecret,
      mappingPath: args.mappingPath,
      dryRun: args.dryRun,
      migrate: args.migrate,
      coordinates: args.coordinates,
    });
    io.stdout.write(formatReport(report, args));
    return 0;
  } catch (error) {
    if (error instanceof GristApiError) {
      // The message names document, table and column, never the key (rest-client.ts).
      io.stderr.write(`Échec : ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

/** parseArgs says "Unknown option '--x'"; operators get the flag named in French. */
function describeArgumentError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Option inconnue : ${unknown[1]}`;
  const missingValue = /Option '([^']+?)(?: <value>)?' argument missing/.exec(message);
  if (missingValue) return `L'option ${missingValue[1]} attend une valeur`;
  return `Arguments invalides : ${message}`;
}

function readArguments(
  values: Record<string, string | boolean | undefined>,
  env: CommandIo["env"],
): { args: SetupArguments } | { problems: string[] } {
  const pick = (flag: string, name: string) => {
    const value = values[flag];
    return typeof value === "string" && value !== "" ? value : env[name] || undefined;
  };
  const problems: string[] = [];
  const required = (flag: string, name: string) => {
    const value = pick(flag, name);
    if (!value) problems.push(`--${flag} (ou ${name}) est requis`);
    return value ?? "";
  };
  const gristUrl = required("grist-url", "GRIST_URL");
  const docId = required("doc", "GRIST_DOC_ID");
  const apiKey = required("api-key", "GRIST_API_KEY");
  const relayUrl = required("relay-url", "RELAY_PUBLIC_URL");
  const webhookSecret = required("webhook-secret", "WEBHOOK_SECRET");
  const tableId = pick("table", "GRIST_TABLE") ?? DEFAULT_TABLE_ID;
  for (const [flag, url] of [
    ["grist-url", gristUrl],
    ["relay-url", relayUrl],
  ] as const) {
    if (url && !isHttpUrl(url))
      problems.push(`--${flag} : adresse http(s) attendue, reçu « ${url} »`);
  }
  if (docId && !/^[A-Za-z0-9_-]{1,100}$/.test(docId))
    problems.push("--doc : identifiant de document invalide");
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(tableId))
    problems.push(`--table : identifiant de table invalide « ${tableId} »`);
  // The secret becomes an HTTP header value: visible ASCII only, so it cannot inject headers.
  if (webhookSecret && !/^[\x21-\x7e]{16,512}$/.test(webhookSecret)) {
    problems.push("--webhook-secret : 16 à 512 caractères ASCII visibles, sans espace");
  }
  if (problems.length > 0) return { problems };
  const mappingPath =
    pick("mapping-file", "COLUMN_MAPPING_FILE") ??
    join(env.DATA_DIR || "./data", "column-mapping.json");
  return {
    args: {
      gristUrl,
      docId,
      apiKey,
      tableId,
      relayUrl,
      webhookSecret,
      mappingPath,
      dryRun: values["dry-run"] === true,
      migrate: values.migrate === true,
      coordinates: values.coordonnees === true,
    },
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

function formatReport(report: SetupReport, args: SetupArguments): string {
  const lines: string[] = [];
  const will = (done: string, planned: string) => (report.dryRun ? planned : done);
  lines.push(
    `Document « ${report.docId} », table « ${report.tableId} »${report.dryRun ? " (simulation : rien n'est modifié)" : ""}`,
    "",
  );
  if (report.tableCreated) {
    lines.push(
      `✓ Table ${will("créée", "à créer")} avec les colonnes : ${report.columnsAdded.join(", ")}.`,
    );
  } else {
    lines.push("✓ Table trouvée.");
    if (report.columnsAdded.length > 0) {
      lines.push(
        `✓ Colonnes ${will("ajoutées", "à ajouter")} : ${report.columnsAdded.join(", ")}.`,
      );
    }
  }
  for (const { column, choices } of report.choicesAdded) {
    lines.push(`✓ Choix ${will("ajoutés", "à ajouter")} à « ${column} » : ${choices.join(", ")}.`);
  }
  lines.push(...lastUpdateLines(report, will));
  for (const notice of report.notices) lines.push(`! ${notice}`);
  const renamed = Object.entries(report.mapping)
    .filter(([field, id]) => typeof id === "string" && field === "reference")
    .map(([, id]) => `ID → ${id}`);
  lines.push(
    report.mappingWritten
      ? `✓ Correspondance des colonnes écrite dans ${args.mappingPath}${renamed.length ? ` (${renamed.join(", ")})` : ""}.`
      : `✓ Correspondance des colonnes ${report.dryRun ? "non écrite (simulation)" : `inchangée (${args.mappingPath})`}.`,
  );
  for (const hook of report.webhooks) {
    const name = `« ${WEBHOOK_NAMES[hook.event]} »`;
    if (hook.action === "created") lines.push(`✓ Webhook ${name} ${will("créé", "à créer")}.`);
    else if (hook.action === "updated") {
      lines.push(
        `✓ Webhook ${name} ${will("mis à jour", "à mettre à jour")} (${hook.changed.join(", ")}).`,
      );
    } else lines.push(`✓ Webhook ${name} déjà à jour.`);
  }
  const changedSomething =
    report.tableCreated ||
    report.columnsAdded.length > 0 ||
    report.choicesAdded.length > 0 ||
    report.mappingWritten ||
    report.lastUpdate?.action === "created" ||
    report.lastUpdate?.action === "converted" ||
    report.webhooks.some((h) => h.action !== "unchanged");
  if (!changedSomething && !report.dryRun)
    lines.push("", "Rien n'a changé : le document était déjà prêt.");
  lines.push("", ...nextSteps(args, report.tableId));
  return `${lines.join("\n")}\n`;
}

/** What became of `Derniere_MAJ`, said so an operator knows what Grist now does with it. */
function lastUpdateLines(
  report: SetupReport,
  will: (done: string, planned: string) => string,
): string[] {
  const outcome = report.lastUpdate;
  if (!outcome) return [];
  const name = `« ${outcome.column} »`;
  switch (outcome.action) {
    case "created":
      return [
        `✓ Colonne ${name} ${will("réglée", "à régler")} en formule déclenchée NOW() : Grist y inscrit l'heure de chaque modification de la ligne.`,
      ];
    case "converted":
      return [
        `✓ Colonne ${name} ${will("convertie", "à convertir")} en formule déclenchée NOW() (appliquée à chaque modification d'un champ). Les dates déjà saisies sont conservées ; Grist datera désormais lui-même chaque modification de la ligne.`,
      ];
    case "unchanged":
      return [`✓ Colonne ${name} : formule déclenchée déjà en place.`];
    case "needs-migrate":
      return [
        `! La colonne ${name} est une colonne de données ordinaire : Grist ne la met pas à jour quand une ligne change, le relais ne peut pas s'y fier pour dater les modifications.`,
        "  Pour la convertir en formule déclenchée NOW() (les dates déjà saisies sont conservées), relancez la même commande avec --migrate.",
      ];
    case "formula":
      return [];
  }
}

function nextSteps(args: SetupArguments, tableId: string): string[] {
  const relay = args.relayUrl.replace(/\/+$/, "");
  const advice = allowedDomainAdvice(args.relayUrl);
  const steps = [
    "Il vous reste à faire :",
    "1. Widget : dans Grist, ajoutez à la page une vue « Personnalisée » et collez cette URL :",
    `     ${relay}/widget/`,
    "2. Grist auto-hébergé : autoriser le relais comme destination des webhooks, dans l'environnement",
    `   du serveur Grist : ALLOWED_WEBHOOK_DOMAINS=${advice.host}`,
    "   (l'hôte avec son port ; ajoutez-le aux valeurs existantes, séparées par des virgules).",
  ];
  if (advice.plainHttpRefused) {
    steps.push(
      `   Attention : Grist refuse http:// sauf pour « localhost ». Servez le relais en https, ou`,
      "   utilisez ALLOWED_WEBHOOK_DOMAINS=* (déconseillé sans GRIST_PROXY_FOR_UNTRUSTED_URLS).",
    );
  }
  if (new URL(args.relayUrl).hostname === "localhost") {
    steps.push(
      "   « localhost » désigne la machine (ou le conteneur) où tourne Grist, pas forcément le relais.",
    );
  }
  steps.push(
    "3. Pour une livraison en moins d'une seconde : GRIST_TRIGGER_WAIT_DELAY=100 dans l'environnement",
    "   de Grist (par défaut Grist n'envoie qu'une fois par seconde environ).",
    "4. Relais : démarrez-le avec le même WEBHOOK_SECRET, et GRIST_URL, GRIST_DOC_ID, GRIST_API_KEY,",
    `   GRIST_TABLE=${tableId} pour la synchronisation initiale et la réconciliation.`,
  );
  return steps;
}
