/**
 * Decodes Grist's "normal" cell encoding (grist.md §1.2) into plain JSON values.
 * Webhook bodies and REST `/records` share this encoding.
 */

/** A cell that holds a formula error: Grist sends `["E", name, message, …]`. */
export interface CellError {
  error: string;
  message: string | null;
}

export function isCellError(value: unknown): value is CellError {
  return typeof value === "object" && value !== null && "error" in value && !Array.isArray(value);
}

/** Epoch seconds (Grist Date/DateTime) → ISO 8601; anything else → null. */
export function epochSecondsToIso(value: unknown): string | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  const ms = value * 1000;
  // Outside ±100 000 days a Date is invalid; refuse rather than throw.
  if (Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
}

const MAX_DEPTH = 8;

/**
 * Decodes one cell. `isDate` marks columns known to hold epoch seconds (Grist does not say
 * which columns are dates in a webhook body, so the column mapping tells us).
 */
export function decodeCell(value: unknown, isDate = false, depth = 0): unknown {
  if (depth > MAX_DEPTH) return null;
  if (isDate && typeof value === "number") return epochSecondsToIso(value);
  if (!Array.isArray(value)) return value;
  const [code, ...rest] = value as unknown[];
  switch (code) {
    case "L": // ChoiceList, RefList, Attachments
      return rest.map((item) => decodeCell(item, false, depth + 1));
    case "E": // formula error
      return {
        error: typeof rest[0] === "string" ? rest[0] : "Error",
        message: typeof rest[1] === "string" ? rest[1] : null,
      } satisfies CellError;
    case "d": // typed Date in an Any column
    case "D": // typed DateTime in an Any column
      return epochSecondsToIso(rest[0]);
    case "R": // ["R", table, rowId]
      return typeof rest[1] === "number" ? rest[1] : null;
    case "r": // ["r", table, [rowIds]]
      return Array.isArray(rest[1]) ? rest[1] : [];
    case "O": // dictionary
      return rest[0] ?? null;
    case "P": // pending value, not yet computed
    case "C": // censored by access rules
    case "U": // unmarshallable
    case "S": // skip
      return null;
    default:
      // A plain JSON array in an Any column: keep it, decoding its items.
      return value.map((item) => decodeCell(item, false, depth + 1));
  }
}

/** Columns Grist adds to every row that carry no user data. */
export function isHiddenColumn(colId: string): boolean {
  return colId === "manualSort" || colId.startsWith("gristHelper_");
}

/** Decodes every visible column of a flat Grist row (without `id`). */
export function decodeRow(
  row: Record<string, unknown>,
  dateColumns: ReadonlySet<string>,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [colId, value] of Object.entries(row)) {
    if (colId === "id" || isHiddenColumn(colId)) continue;
    fields[colId] = decodeCell(value, dateColumns.has(colId));
  }
  return fields;
}
