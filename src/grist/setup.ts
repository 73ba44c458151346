/**
 * `grist-realtime setup`: brings a Grist document to what the relay needs, and only adds.
 * Checks access first (key, document, owner) so a refused key changes nothing; then the table
 * and its columns, the column mapping file, and the two webhooks. Running it again on a
 * document already set up makes no write at all. `Derniere_MAJ` is made a trigger formula
 * (expected-schema.ts); an existing plain column is converted only when asked (`migrate`).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  buildMappingFile,
  type ColumnMappingFile,
  columnSpec,
  compareColumn,
  EXPECTED_COLUMNS,
  isTriggerColumn,
  LAST_UPDATE_TRIGGER,
  matchColumns,
  widgetOptionsWithChoices,
} from "./expected-schema.ts";
import type { GristClient, GristColumn, GristWebhook, WebhookFields } from "./rest-client.ts";

export type WebhookEvent = "add" | "update";

export interface SetupOptions {
  client: GristClient;
  tableId: string;
  /** Public address of the relay, as Grist must call it (may include a path prefix). */
  relayUrl: string;
  /** Sent by Grist as `Authorization: Bearer <secret>`. */
  webhookSecret: string;
  /** Where the column mapping JSON goes. */
  mappingPath: string;
  /** Reports what would change without writing anything. */
  dryRun?: boolean;
  /** Converts an existing plain `Derniere_MAJ` column into the trigger formula. */
  migrate?: boolean;
  /** Also adds the optional Latitude/Longitude columns (GEOCODE_WRITE_BACK fills them). */
  coordinates?: boolean;
}

/**
 * What became of the `Derniere_MAJ` trigger formula: set on a column this run created,
 * `converted` from an existing column (with `migrate`), already in place, left as it is
 * because converting needs `migrate`, or a formula column that is never converted.
 */
export interface TriggerOutcome {
  column: string;
  action: "created" | "converted" | "unchanged" | "needs-migrate" | "formula";
}

export interface WebhookOutcome {
  event: WebhookEvent;
  action: "created" | "updated" | "unchanged";
  id: string | null;
  /** Fields that differed and were (or would be) patched. */
  changed: string[];
}

export interface SetupReport {
  docId: string;
  tableId: string;
  dryRun: boolean;
  tableCreated: boolean;
  columnsAdded: string[];
  choicesAdded: Array<{ column: string; choices: string[] }>;
  /** Differences left as they are, in French. */
  notices: string[];
  mapping: ColumnMappingFile;
  mappingWritten: boolean;
  webhooks: WebhookOutcome[];
  /** Null when the table has no `Derniere_MAJ` column (dry run of a new table included). */
  lastUpdate: TriggerOutcome | null;
}

export const WEBHOOK_NAMES: Record<WebhookEvent, string> = {
  add: "grist-realtime (ajouts)",
  update: "grist-realtime (modifications)",
};

const WEBHOOK_MEMO = "Relais temps réel. Géré par « grist-realtime setup ».";

/** The URL Grist must call for one event type; the query tells add from update (§1.4). */
export function webhookUrl(relayUrl: string, event: WebhookEvent): string {
  return `${relayUrl.replace(/\/+$/, "")}/webhooks/grist?event=${event}`;
}

export async function runSetup(options: SetupOptions): Promise<SetupReport> {
  const { client } = options;
  const dryRun = options.dryRun ?? false;
  // Both calls fail fast on a wrong key, a missing document or a non-owner key, before any write.
  const tables = await client.listTables();
  const existingHooks = await client.listWebhooks();

  const report: SetupReport = {
    docId: client.docId,
    tableId: options.tableId,
    dryRun,
    tableCreated: false,
    columnsAdded: [],
    choicesAdded: [],
    notices: [],
    mapping: {},
    mappingWritten: false,
    webhooks: [],
    lastUpdate: null,
  };

  const existing =
    tables.find((t) => t.id === options.tableId) ??
    tables.find((t) => t.id.toLowerCase() === options.tableId.toLowerCase());
  let columns: GristColumn[];
  if (!existing) {
    report.tableCreated = true;
    columns = EXPECTED_COLUMNS.map(columnSpec);
    if (!dryRun) {
      const [createdId] = await client.addTables([{ id: options.tableId, columns }]);
      report.tableId = createdId ?? options.tableId;
      columns = await client.listColumns(report.tableId);
    }
    report.columnsAdded = columns.map((c) => c.id);
  } else {
    if (existing.id !== options.tableId) {
      report.notices.push(`La table s'appelle « ${existing.id} » dans Grist ; ce nom est utilisé.`);
    }
    report.tableId = existing.id;
    columns = await completeColumns(
      client,
      report,
      await client.listColumns(existing.id),
      dryRun,
      options.coordinates === true,
    );
  }

  report.lastUpdate = await ensureLastUpdateTrigger(client, report, columns, options);
  report.mapping = buildMappingFile(matchColumns(columns), columns);
  report.mappingWritten = dryRun
    ? false
    : await writeIfChanged(options.mappingPath, report.mapping);

  report.webhooks = await ensureWebhooks(client, existingHooks, report.tableId, options, dryRun);
  for (const hook of existingHooks) {
    if (hook.fields.isReadyColumn && isOurs(hook, options.relayUrl)) {
      report.notices.push(
        `Le webhook « ${hook.fields.name ?? hook.id} » a une colonne « prêt » (${hook.fields.isReadyColumn}) : seules les lignes prêtes seront envoyées.`,
      );
    }
  }
  return report;
}

/** Adds missing required columns and missing choices; returns the columns as they now are. */
async function completeColumns(
  client: GristClient,
  report: SetupReport,
  columns: GristColumn[],
  dryRun: boolean,
  addOptional: boolean,
): Promise<GristColumn[]> {
  const matches = matchColumns(columns);
  const toAdd: GristColumn[] = [];
  const toPatch: GristColumn[] = [];
  for (const expected of EXPECTED_COLUMNS) {
    const actual = matches.get(expected.field);
    if (!actual) {
      if (expected.optional && !addOptional) {
        report.notices.push(
          `Colonne facultative « ${expected.label} » absente, non ajoutée : créez-la dans Grist (type Numérique) ou relancez setup avec --coordonnees pour placer les interventions sur la carte.`,
        );
      } else {
        toAdd.push(columnSpec(expected));
      }
      continue;
    }
    const comparison = compareColumn(expected, actual);
    report.notices.push(...comparison.notices);
    if (comparison.missingChoices.length === 0) continue;
    const widgetOptions = widgetOptionsWithChoices(
      actual.fields.widgetOptions,
      comparison.missingChoices,
    );
    if (widgetOptions === null) continue;
    toPatch.push({ id: actual.id, fields: { widgetOptions } });
    report.choicesAdded.push({ column: actual.id, choices: comparison.missingChoices });
  }
  if (dryRun) {
    report.columnsAdded = toAdd.map((c) => c.id);
    return [...columns, ...toAdd];
  }
  if (toAdd.length > 0) report.columnsAdded = await client.addColumns(report.tableId, toAdd);
  if (toPatch.length > 0) await client.updateColumns(report.tableId, toPatch);
  return toAdd.length > 0 || toPatch.length > 0 ? client.listColumns(report.tableId) : columns;
}

/**
 * Makes `Derniere_MAJ` the trigger formula. A column created by this run is set at once;
 * an existing one holds the users' dates, so it is converted only with `migrate` (the values
 * stay, Grist restamps a row at its next change). A formula column is the user's own: left.
 */
async function ensureLastUpdateTrigger(
  client: GristClient,
  report: SetupReport,
  columns: readonly GristColumn[],
  options: SetupOptions,
): Promise<TriggerOutcome | null> {
  const column = matchColumns(columns).get("derniereMaj");
  if (!column) return null;
  if (isTriggerColumn(column, LAST_UPDATE_TRIGGER))
    return { column: column.id, action: "unchanged" };
  if (column.fields.isFormula === true) {
    report.notices.push(
      `La colonne « ${column.id} » est une formule : le relais s'en sert telle quelle ; elle n'est pas convertie en formule déclenchée.`,
    );
    return { column: column.id, action: "formula" };
  }
  const createdNow = report.tableCreated || report.columnsAdded.includes(column.id);
  if (!createdNow && !options.migrate) return { column: column.id, action: "needs-migrate" };
  if (!options.dryRun) {
    await client.updateColumns(report.tableId, [
      { id: column.id, fields: { isFormula: false, ...LAST_UPDATE_TRIGGER } },
    ]);
  }
  return { column: column.id, action: createdNow ? "created" : "converted" };
}

function isOurs(hook: GristWebhook, relayUrl: string): boolean {
  return (["add", "update"] as const).some(
    (event) =>
      hook.fields.name === WEBHOOK_NAMES[event] || hook.fields.url === webhookUrl(relayUrl, event),
  );
}

/** Finds our webhook for `event`: by name first, then by the relay URL for that event. */
function findWebhook(hooks: readonly GristWebhook[], event: WebhookEvent, relayUrl: string) {
  return (
    hooks.find((h) => h.fields.name === WEBHOOK_NAMES[event]) ??
    hooks.find((h) => h.fields.url === webhookUrl(relayUrl, event))
  );
}

async function ensureWebhooks(
  client: GristClient,
  hooks: readonly GristWebhook[],
  tableId: string,
  options: SetupOptions,
  dryRun: boolean,
): Promise<WebhookOutcome[]> {
  const outcomes: WebhookOutcome[] = [];
  const toCreate: Array<{ event: WebhookEvent; fields: WebhookFields }> = [];
  for (const event of ["add", "update"] as const) {
    const wanted: WebhookFields = {
      url: webhookUrl(options.relayUrl, event),
      eventTypes: [event],
      tableId,
      enabled: true,
      name: WEBHOOK_NAMES[event],
      // Grist sends this string verbatim as the Authorization header (§1.1).
      authorization: `Bearer ${options.webhookSecret}`,
    };
    const current = findWebhook(hooks, event, options.relayUrl);
    if (!current) {
      toCreate.push({ event, fields: { ...wanted, memo: WEBHOOK_MEMO } });
      continue;
    }
    const patch = differences(current.fields, wanted);
    const changed = Object.keys(patch);
    if (changed.length > 0 && !dryRun) await client.updateWebhook(current.id, patch);
    outcomes.push({
      event,
      action: changed.length > 0 ? "updated" : "unchanged",
      id: current.id,
      changed,
    });
  }
  if (toCreate.length > 0) {
    const ids = dryRun ? [] : await client.addWebhooks(toCreate.map((c) => c.fields));
    toCreate.forEach(({ event }, index) => {
      outcomes.push({ event, action: "created", id: ids[index] ?? null, changed: [] });
    });
  }
  return outcomes.sort((a, b) => a.event.localeCompare(b.event));
}

function differences(current: WebhookFields, wanted: WebhookFields): Partial<WebhookFields> {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted) as Array<[keyof WebhookFields, unknown]>) {
    if (JSON.stringify(current[key] ?? null) !== JSON.stringify(value)) patch[key] = value;
  }
  return patch as Partial<WebhookFields>;
}

/** Writes the mapping only when its content changes, atomically; true when written. */
async function writeIfChanged(path: string, mapping: ColumnMappingFile): Promise<boolean> {
  const text = `${JSON.stringify(mapping, null, 2)}\n`;
  const previous = await readFile(path, "utf8").catch(() => null);
  if (previous !== null) {
    try {
      if (JSON.stringify(JSON.parse(previous)) === JSON.stringify(mapping)) return false;
    } catch {
      // An unreadable file is replaced by a good one.
    }
  }
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text, "utf8");
  await rename(temporary, path);
  return true;
}

/** The host Grist's ALLOWED_WEBHOOK_DOMAINS must list for this relay, and what may go wrong. */
export function allowedDomainAdvice(relayUrl: string): { host: string; plainHttpRefused: boolean } {
  const url = new URL(relayUrl);
  return {
    host: url.host,
    plainHttpRefused: url.protocol === "http:" && url.hostname !== "localhost",
  };
}
