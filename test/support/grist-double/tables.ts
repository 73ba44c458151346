/** Tables and columns of the double: Grist's identifiers, defaults and column listing. */
import { type Column, columnsOf, type Doc, HttpError, type Table } from "./model.ts";

/** Grist's default cell value for a new row, by column type (§1.2). */
export function defaultValue(type: string): unknown {
  if (type === "Text" || type === "Choice") return "";
  if (type === "Numeric" || type === "Int" || type.startsWith("Ref:")) return 0;
  if (type === "Bool") return false;
  return null;
}

/** Grist-like identifier: accents dropped, other characters to `_`, unique case-insensitively. */
export function uniqueIdent(wanted: string, taken: readonly string[], capitalize: boolean): string {
  let base = wanted
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (!base) base = capitalize ? "Table" : "A";
  if (/^\d/.test(base)) base = `${capitalize ? "T" : "c"}${base}`;
  if (capitalize) base = base[0]?.toUpperCase() + base.slice(1);
  const lower = new Set(taken.map((t) => t.toLowerCase()));
  if (!lower.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) if (!lower.has(`${base}${n}`.toLowerCase())) return `${base}${n}`;
}

export function findTable(doc: Doc, tableId: string): Table {
  const table = doc.tables.get(tableId);
  if (!table) throw new HttpError(404, `Table not found "${tableId}"`);
  return table;
}

export function createTable(doc: Doc, wanted: string): Table {
  const id = uniqueIdent(wanted, [...doc.tables.keys()], true);
  const table: Table = {
    id,
    tableRef: doc.nextTableRef++,
    columns: [],
    rows: new Map(),
    nextRowId: 1,
  };
  doc.tables.set(id, table);
  return table;
}

export function addColumn(
  doc: Doc,
  table: Table,
  wantedId: string,
  fields: {
    label?: unknown;
    type?: unknown;
    widgetOptions?: unknown;
    formula?: unknown;
    isFormula?: unknown;
  },
): Column {
  if (fields.widgetOptions !== undefined && typeof fields.widgetOptions !== "string") {
    // [double] Grist stores widgetOptions as a JSON string; refuse objects so clients send
    // what a real server expects.
    throw new HttpError(400, "widgetOptions must be a JSON string");
  }
  const taken = ["id", "manualSort", ...table.columns.map((c) => c.id)];
  const column: Column = {
    id: uniqueIdent(wantedId, taken, false),
    colRef: doc.nextColRef++,
    label: typeof fields.label === "string" ? fields.label : wantedId,
    type: typeof fields.type === "string" ? fields.type : "Any",
    widgetOptions: fields.widgetOptions ?? "",
    isFormula: fields.isFormula === true,
    formula: typeof fields.formula === "string" ? fields.formula : "",
    // As observed (grist.md §9): recalcWhen given on creation is not applied; only a PATCH
    // of the column sets it. [double] assumed the same for columns added to a table.
    recalcWhen: 0,
  };
  table.columns.push(column);
  for (const row of table.rows.values()) row.values[column.id] = defaultValue(column.type);
  return column;
}

export function listTables(doc: Doc): unknown {
  return {
    tables: [...doc.tables.values()].map((t) => ({
      id: t.id,
      fields: { tableRef: t.tableRef, onDemand: false, primaryViewId: t.tableRef },
    })),
  };
}

export function addTables(doc: Doc, body: unknown): unknown {
  const tables = (body as { tables?: unknown })?.tables;
  if (!Array.isArray(tables) || tables.length === 0) throw new HttpError(400, "Invalid payload");
  const ids = tables.map((spec: { id?: string; columns?: unknown }) => {
    const table = createTable(doc, spec.id ?? "Table");
    for (const c of columnsOf(spec)) addColumn(doc, table, c.id, c.fields ?? {});
    return { id: table.id };
  });
  return { tables: ids };
}

export function listColumns(table: Table): unknown {
  return {
    columns: table.columns.map((c, index) => ({
      id: c.id,
      fields: {
        colRef: c.colRef,
        label: c.label,
        isFormula: c.isFormula,
        type: c.type,
        parentId: table.tableRef,
        parentPos: index + 1,
        widgetOptions: c.widgetOptions,
        formula: c.formula,
        description: "",
        untieColIdFromLabel: false,
        summarySourceCol: 0,
        displayCol: 0,
        visibleCol: 0,
        rules: null,
        reverseCol: 0,
        recalcWhen: c.recalcWhen,
        recalcDeps: null,
      },
    })),
  };
}

export function postColumns(doc: Doc, table: Table, body: unknown): unknown {
  const columns = columnsOf(body);
  if (columns.length === 0) throw new HttpError(400, "Invalid payload");
  return {
    columns: columns.map((c) => ({ id: addColumn(doc, table, c.id, c.fields ?? {}).id })),
  };
}

export function patchColumns(table: Table, body: unknown): unknown {
  for (const spec of columnsOf(body)) {
    const column = table.columns.find((c) => c.id === spec.id);
    if (!column) throw new HttpError(404, `Column not found "${spec.id}"`);
    const fields = spec.fields ?? {};
    if (fields.widgetOptions !== undefined && typeof fields.widgetOptions !== "string") {
      throw new HttpError(400, "widgetOptions must be a JSON string");
    }
    if (typeof fields.label === "string") column.label = fields.label;
    if (typeof fields.widgetOptions === "string") column.widgetOptions = fields.widgetOptions;
    // [double] a type change keeps the stored values as they are (Grist would convert them).
    if (typeof fields.type === "string") column.type = fields.type;
    if (typeof fields.formula === "string") column.formula = fields.formula;
    if (typeof fields.isFormula === "boolean") column.isFormula = fields.isFormula;
    if (typeof fields.recalcWhen === "number") column.recalcWhen = fields.recalcWhen;
  }
  return null;
}
