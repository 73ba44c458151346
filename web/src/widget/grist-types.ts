/**
 * The part of Grist's widget API (the global `grist` defined by /grist-plugin-api.js) this
 * widget uses, typed from grist-core `app/plugin/` (grist.md §4): no current typings package
 * exists on npm.
 */

export type AccessLevel = "none" | "read table" | "full";

export interface ColumnToMap {
  name: string;
  title?: string;
  description?: string;
  type?: string;
  optional?: boolean;
}

/** Widget column name → Grist column id (null when not mapped). */
export type WidgetColumnMap = Record<string, string | string[] | null>;

export interface InteractionOptions {
  /** The key really is `accessLevel` (the help page's `access_level` does not exist). */
  accessLevel?: AccessLevel;
  theme?: { appearance?: "light" | "dark"; colors?: Record<string, string> };
}

export interface AccessTokenResult {
  token: string;
  /** `https://<host>/api/docs/<docId>` */
  baseUrl: string;
  ttlMsecs: number;
}

export type GristRow = Record<string, unknown> & { id: number };

export interface GristWidgetApi {
  ready(settings: {
    requiredAccess: AccessLevel;
    columns: ColumnToMap[];
    onEditOptions?: () => void;
  }): void;
  onRecords(callback: (rows: GristRow[], mappings: WidgetColumnMap | null) => unknown): void;
  onOptions(
    callback: (options: Record<string, unknown> | null, interaction: InteractionOptions) => unknown,
  ): void;
  /** Up to Grist 1.7.17: null when a required column is unmapped (newer: field left out). */
  mapColumnNames(rows: GristRow[]): Record<string, unknown>[] | null;
  setOptions(options: Record<string, unknown>): Promise<void>;
  getAccessToken(options?: { readOnly?: boolean }): Promise<AccessTokenResult>;
}
