#!/usr/bin/env node
/** `grist-realtime <command>`: serve (default), token, and the commands other modules add. */
import { runAlertCommand } from "./alert-command.ts";
import { runBackupCommand } from "./backup-command.ts";
import { runDemoCommand } from "./demo-command.ts";
import type { CommandIo } from "./io.ts";
import { runServeCommand } from "./serve-command.ts";
import { runSetupCommand } from "./setup-command.ts";
import { runSimulateCommand } from "./simulate-command.ts";
import { runTchapCommand } from "./tchap-command.ts";
import { runTokenCommand } from "./token-command.ts";

type Command = (argv: string[], io: CommandIo) => Promise<number>;

const serve = { run: runServeCommand, summary: "démarre le relais (commande par défaut)" };
const COMMANDS: Record<string, { run: Command; summary: string }> = {
  serve,
  setup: {
    run: runSetupCommand,
    summary: "prépare le document Grist (table, colonnes, webhooks) sans rien supprimer",
  },
  simulate: {
    run: runSimulateCommand,
    summary: "simule l'activité des agents de terrain (vers le relais ou vers Grist)",
  },
  demo: {
    run: runDemoCommand,
    summary: "relais en mémoire alimenté par la simulation (démonstration)",
  },
  alert: {
    run: runAlertCommand,
    summary: "alerte d'essai (alert test --destination <nom>), relance (alert retry <clé>)",
  },
  tchap: {
    run: runTchapCommand,
    summary: "connecte le bot Tchap (tchap login) et vérifie le salon (tchap check)",
  },
  backup: {
    run: runBackupCommand,
    summary: "copie cohérente de la base SQLite, relais en marche (backup --to <fichier>)",
  },
  token: {
    run: runTokenCommand,
    summary: "crée un jeton d'abonné (JWT) pour un rôle et des départements",
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(
    ([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`,
  );
  return `Usage : grist-realtime <commande> [options]\n\nCommandes :\n${lines.join("\n")}\n\n« grist-realtime <commande> --help » détaille les options.\n`;
}

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    io.stdout.write(usage());
    return 0;
  }
  if (first === undefined || first.startsWith("--")) return serve.run(argv, io);
  const command = COMMANDS[first];
  if (!command) {
    io.stderr.write(`Commande inconnue : ${first}\n\n${usage()}`);
    return 2;
  }
  return command.run(rest, io);
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
  if (code !== 0) process.exitCode = code;
}
