/** Records of the double: REST reads and writes, and the webhook events each write triggers. */
import { type Doc, HttpError, type Row, recordsOf, type Table } from "./model.ts";
import { defaultValue } from "./tables.ts";

/** One action of a write, as Grist's Triggers.ts sees it in the action bundle. */
export interface TriggerAction {
  kind: "add" | "update";
  rowIds: number[];
  /** For updates: the columns whose value changed, per row. */
  changed: Map<number, Set<string>>;
}

/** Queues the webhook events of one write (one action bundle). */
export type Trigger = (doc: Doc, table: Table, actions: TriggerAction[]) => void;

export function getRecords(table: Table, query: URLSearchParams): unknown {
  const limit = Number(query.get("limit") ?? 0);
  const filter = query.get("filter") ? JSON.parse(query.get("filter") ?? "{}") : {};
  const hidden = query.get("hidden") === "true";
  let ids = [...table.rows.keys()].sort((a, b) => a - b);
  ids = ids.filter((id) => {
    const values = table.rows.get(id)?.values ?? {};
    return Object.entries(filter as Record<string, unknown[]>).every(([col, allowed]) => {
      if (!Array.isArray(allowed)) throw new HttpError(400, "filter values must be arrays");
      return allowed.includes(col === "id" ? id : values[col]);
    });
  });
  if (limit > 0) ids = ids.slice(0, limit);
  return {
    records: ids.map((id) => {
      const { id: _id, manualSort, ...fields } = payload(table, id);
      return { id, fields: hidden ? { manualSort, ...fields } : fields };
    }),
  };
}

function checkColumns(table: Table, fields: Row): void {
  for (const col of Object.keys(fields)) {
    if (!table.columns.some((c) => c.id === col)) {
      throw new HttpError(400, `Invalid column "${col}"`);
    }
  }
}

export function addRecords(trigger: Trigger, doc: Doc, table: Table, rows: Row[]): number[] {
  const ids = insertRows(table, rows);
  trigger(doc, table, [{ kind: "add", rowIds: ids, changed: new Map() }]);
  return ids;
}

function insertRows(table: Table, rows: Row[]): number[] {
  for (const fields of rows) checkColumns(table, fields);
  // As captured (add_multi.json): a column set in some records of the batch is null in the
  // others; a column set in none gets its type's default.
  const mentioned = new Set(rows.flatMap((r) => Object.keys(r)));
  return rows.map((fields) => {
    const id = table.nextRowId++;
    const values: Row = {};
    for (const c of table.columns) {
      values[c.id] =
        c.id in fields ? fields[c.id] : mentioned.has(c.id) ? null : defaultValue(c.type);
    }
    table.rows.set(id, { manualSort: id, values });
    // Trigger formulas apply to new records whatever recalcWhen says (0 and 2 alike).
    stampTriggers(table, values, new Set(Object.keys(fields)), [0, 2]);
    return id;
  });
}

/**
 * `PUT …/records` (Grist ≥ 1.7.13): the first row whose values match `require` is updated, else
 * a row is added with `require` and `fields`. One bundle, updates first: the add+update webhook
 * gets both rows in one batch (upsert_put_mixed.json). Only `onmany=first` is played.
 */
export function upsertRecords(trigger: Trigger, doc: Doc, table: Table, body: unknown): unknown {
  const records = recordsOf(body) as Array<{ require?: Row; fields?: Row }>;
  const updates: Array<{ id: number; fields: Row }> = [];
  const additions: Row[] = [];
  const found: Array<number | null> = records.map((r) => {
    const wanted = Object.entries(r.require ?? {});
    for (const [id, row] of table.rows) {
      if (wanted.every(([col, value]) => row.values[col] === value)) return id;
    }
    return null;
  });
  records.forEach((r, index) => {
    const id = found[index];
    if (id !== null && id !== undefined) updates.push({ id, fields: r.fields ?? {} });
    else additions.push({ ...r.require, ...r.fields });
  });
  const actions = updateRecords(table, updates);
  // Each added record is its own row: a column it does not set gets its type's default.
  const added = additions.flatMap((fields) => insertRows(table, [fields]));
  actions.push({ kind: "add", rowIds: added, changed: new Map() });
  trigger(doc, table, actions);
  let next = 0;
  return {
    recordIds: found.map((id) => [id ?? added[next++]]),
    addRecordIds: added,
    updateRecordIds: updates.map((u) => [u.id]),
  };
}

export function patchRecords(trigger: Trigger, doc: Doc, table: Table, body: unknown): unknown {
  const records = recordsOf(body);
  const shape = (r: { fields?: Row }) => JSON.stringify(Object.keys(r.fields ?? {}).sort());
  if (records.some((r) => shape(r) !== shape(records[0] ?? {}))) {
    throw new HttpError(400, "PATCH requires all records to have same fields");
  }
  const byId = records.map((r) => ({ id: Number(r.id), fields: r.fields ?? {} }));
  trigger(doc, table, updateRecords(table, byId));
  return null;
}

/** Applies updates and returns the action they make (no-op updates change nothing). */
export function updateRecords(
  table: Table,
  records: Array<{ id: number; fields: Row }>,
): TriggerAction[] {
  for (const r of records) {
    checkColumns(table, r.fields);
    // [double] message and status not captured from a real server.
    if (!table.rows.has(r.id)) throw new HttpError(400, `Invalid row id ${r.id}`);
  }
  const changed = new Map<number, Set<string>>();
  for (const r of records) {
    const row = table.rows.get(r.id);
    if (!row) continue;
    for (const [col, value] of Object.entries(r.fields)) {
      // Grist's data engine drops no-op updates, so they trigger nothing.
      if (JSON.stringify(row.values[col]) === JSON.stringify(value)) continue;
      row.values[col] = value;
      changed.set(r.id, (changed.get(r.id) ?? new Set()).add(col));
    }
  }
  for (const [id, columns] of changed) {
    const row = table.rows.get(id);
    if (row) stampTriggers(table, row.values, columns, [2]);
  }
  return [{ kind: "update", rowIds: [...changed.keys()], changed }];
}

/**
 * Grist's data engine restamps a trigger-formula data column (grist.md §9) when the row
 * changes, unless the change wrote that column itself (a value written by hand is kept).
 * [double] only the formula `NOW()` is evaluated: epoch seconds with a fraction.
 */
function stampTriggers(
  table: Table,
  values: Row,
  written: Set<string>,
  recalcWhen: readonly number[],
): void {
  for (const column of table.columns) {
    if (column.isFormula || column.formula.trim() !== "NOW()") continue;
    if (!recalcWhen.includes(column.recalcWhen) || written.has(column.id)) continue;
    values[column.id] = Date.now() / 1000;
    written.add(column.id);
  }
}

export function payload(table: Table, id: number): Row {
  const row = table.rows.get(id);
  if (!row) throw new Error(`no row ${id}`);
  return { id, manualSort: row.manualSort, ...row.values };
}
