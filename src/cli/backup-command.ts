/**
 * `grist-realtime backup --to <file>`: a consistent copy of the SQLite store, taken while the
 * relay runs. A plain `cp` of the file is not one: in WAL mode the newest pages live in
 * `grist-realtime.db-wal`, and a copy of the main file alone can lack whole tables.
 */
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/config.ts";
import type { CommandIo } from "./io.ts";

const HELP = `Usage : grist-realtime backup --to <fichier> [--data-dir <dossier>]

Copie cohérente de la base SQLite du relais (STORE=sqlite), prise pendant qu'il tourne.
  --to         fichier à écrire (ne doit pas exister)
  --data-dir   dossier des données du relais (défaut : DATA_DIR, sinon ./data)
Restauration : relais arrêté, copiez ce fichier en <DATA_DIR>/grist-realtime.db (en supprimant
grist-realtime.db-wal et grist-realtime.db-shm s'ils existent), puis redémarrez le relais.
Avec STORE=redis, sauvegardez Redis lui-même (AOF ou BGSAVE, voir docs/exploitation.md).
`;

/** The relay's database inside DATA_DIR (src/relay.ts opens the same name). */
export const SQLITE_FILE_NAME = "grist-realtime.db";

export async function runBackupCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: { to?: string | undefined; "data-dir"?: string | undefined; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      options: {
        to: { type: "string" },
        "data-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (!values.to) {
    io.stderr.write(`--to est obligatoire.\n\n${HELP}`);
    return 2;
  }
  let dataDir: string;
  try {
    const config = loadConfig({
      argv: values["data-dir"] ? ["--data-dir", values["data-dir"]] : [],
      env: io.env,
    });
    if (config.STORE !== "sqlite") {
      io.stderr.write(
        `STORE=${config.STORE} : rien à sauvegarder ici. Avec Redis, sauvegardez Redis (AOF ou BGSAVE) ; le stockage memory ne garde rien.\n`,
      );
      return 2;
    }
    dataDir = config.DATA_DIR;
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const source = join(dataDir, SQLITE_FILE_NAME);
  const target = resolve(values.to);
  if (!existsSync(source)) {
    io.stderr.write(`Base introuvable : ${source}\n`);
    return 1;
  }
  if (existsSync(target)) {
    io.stderr.write(`Le fichier ${target} existe déjà : choisissez un autre nom.\n`);
    return 1;
  }
  // Written beside the target then renamed: a reader never sees half a backup.
  const partial = join(dirname(target), `.${basename(target)}.partial`);
  rmSync(partial, { force: true });
  try {
    const db = new DatabaseSync(source);
    try {
      // The relay may be writing: wait for its lock instead of failing at once.
      db.exec("PRAGMA busy_timeout = 10000");
      // VACUUM INTO reads the whole database, WAL included, in one read transaction: the copy
      // holds exactly the events committed (so acknowledged) when it began, and the relay
      // keeps writing meanwhile. The backup API would restart on every write of the relay.
      db.prepare("VACUUM INTO ?").run(partial);
    } finally {
      db.close();
    }
    const copy = new DatabaseSync(partial, { readOnly: true });
    let events: number;
    try {
      const check = copy.prepare("PRAGMA integrity_check").get() as { integrity_check: string };
      if (check.integrity_check !== "ok")
        throw new Error(`copie invalide : ${check.integrity_check}`);
      events = Number((copy.prepare("SELECT count(*) AS n FROM events").get() as { n: number }).n);
    } finally {
      copy.close();
    }
    renameSync(partial, target);
    io.stdout.write(
      `Sauvegarde écrite : ${target} (${events} événements, ${statSync(target).size} octets)\n`,
    );
    return 0;
  } catch (error) {
    rmSync(partial, { force: true });
    io.stderr.write(`Sauvegarde impossible : ${(error as Error).message}\n`);
    return 1;
  }
}
