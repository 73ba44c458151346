/**
 * Hand-written checks of what the relay sends, on the fields the dashboard uses. A frame that
 * does not fit is dropped (and counted by the caller) instead of breaking the page.
 */
import {
  FIELD_SPECS,
  MAPPED_FIELDS,
  NUMERIC_DERIVED_FIELDS,
  POSITION_SOURCES,
  TRACKED_FIELDS,
} from "../../../src/domain/vocabulary.ts";
import type { FieldChange, Intervention, LiveEvent } from "./types.ts";

const EVENT_TYPES: ReadonlySet<string> = new Set([
  "record.added",
  "record.updated",
  "record.removed",
]);
/** Every field of the vocabulary: coordinates are numbers, the rest text (times are ISO text). */
const NUMBER_FIELDS: readonly string[] = [
  ...MAPPED_FIELDS.filter((field) => FIELD_SPECS[field].kind === "coordinate"),
  ...NUMERIC_DERIVED_FIELDS,
];
const SOURCES: readonly unknown[] = POSITION_SOURCES;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function textOrNull(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function isRecordId(value: unknown): value is string | number {
  return (
    (typeof value === "number" && Number.isFinite(value)) ||
    (typeof value === "string" && value !== "")
  );
}

/**
 * An intervention with every field present: missing text fields become null. An out-of-scope
 * `record.removed` carries only `id`, which this accepts.
 */
export function parseIntervention(value: unknown): Intervention | null {
  if (!isObject(value) || !isRecordId(value.id)) return null;
  const record: Record<string, unknown> = { id: value.id };
  for (const field of TRACKED_FIELDS) {
    record[field] = NUMBER_FIELDS.includes(field)
      ? numberOrNull(value[field])
      : textOrNull(value[field]);
  }
  // The map draws by this word: anything else is "no known origin".
  if (!SOURCES.includes(record.positionSource)) record.positionSource = null;
  record.fields = isObject(value.fields) ? value.fields : {};
  return record as Intervention;
}

function parseChanges(value: unknown): Record<string, FieldChange> | undefined {
  if (!isObject(value)) return undefined;
  const changes: Record<string, FieldChange> = {};
  for (const [field, change] of Object.entries(value)) {
    if (isObject(change)) changes[field] = { from: change.from, to: change.to };
  }
  return changes;
}

export function parseRelayEvent(value: unknown): LiveEvent | null {
  if (!isObject(value)) return null;
  const { id, type, time, source } = value;
  if (typeof id !== "string" || typeof type !== "string" || !EVENT_TYPES.has(type)) return null;
  const record = parseIntervention(value.record);
  if (!record) return null;
  const event: LiveEvent = {
    id,
    type: type as LiveEvent["type"],
    time: typeof time === "string" ? time : new Date().toISOString(),
    source:
      source === "sync" || source === "reconciliation" || source === "geocoding"
        ? source
        : "webhook",
    record,
  };
  const changes = parseChanges(value.changes);
  if (changes) event.changes = changes;
  if (typeof value.reason === "string") event.reason = value.reason;
  return event;
}

export interface Snapshot {
  records: Intervention[];
  lastEventId: string | null;
}

export function parseSnapshot(value: unknown): Snapshot | null {
  if (!isObject(value) || !Array.isArray(value.records)) return null;
  const records: Intervention[] = [];
  for (const item of value.records) {
    const record = parseIntervention(item);
    if (record) records.push(record);
  }
  const lastEventId =
    typeof value.lastEventId === "string" && value.lastEventId ? value.lastEventId : null;
  return { records, lastEventId };
}

export interface EventsPage {
  events: LiveEvent[];
  lastEventId: string | null;
}

export function parseEventsPage(value: unknown): EventsPage | null {
  if (!isObject(value) || !Array.isArray(value.events)) return null;
  const events: LiveEvent[] = [];
  for (const item of value.events) {
    const event = parseRelayEvent(item);
    if (event) events.push(event);
  }
  return { events, lastEventId: typeof value.lastEventId === "string" ? value.lastEventId : null };
}

/** `event: reset` → the reason given by the relay, for the toast. */
export function parseResetReason(value: unknown): string {
  return isObject(value) && typeof value.reason === "string" ? value.reason : "inconnue";
}

export interface AppConfig {
  tileUrl: string;
  tileAttribution: string;
  heartbeatMs: number;
  retryMs: number;
  title: string;
  gristUrl: string | null;
  /** Whether the relay requires a token; null when an older relay does not say. */
  authRequired: boolean | null;
}

export const DEFAULT_APP_CONFIG: Readonly<AppConfig> = Object.freeze({
  // Plan IGN v2 (IGN Géoplateforme), the relay's default MAP_TILE_URL.
  tileUrl:
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
  tileAttribution: "© IGN",
  heartbeatMs: 30_000,
  retryMs: 2_000,
  title: "Interventions en temps réel",
  gristUrl: null,
  authRequired: null,
});

/** Missing or odd values fall back to defaults: a half-configured relay still shows a page. */
export function parseAppConfig(value: unknown): AppConfig {
  const input = isObject(value) ? value : {};
  const positive = (v: unknown, fallback: number) =>
    typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;
  const text = (v: unknown, fallback: string) => (typeof v === "string" && v.trim() ? v : fallback);
  return {
    tileUrl: text(input.tileUrl, DEFAULT_APP_CONFIG.tileUrl),
    tileAttribution: text(input.tileAttribution, DEFAULT_APP_CONFIG.tileAttribution),
    heartbeatMs: positive(input.heartbeatMs, DEFAULT_APP_CONFIG.heartbeatMs),
    retryMs: positive(input.retryMs, DEFAULT_APP_CONFIG.retryMs),
    title: text(input.title, DEFAULT_APP_CONFIG.title),
    gristUrl: typeof input.gristUrl === "string" && input.gristUrl ? input.gristUrl : null,
    authRequired: typeof input.authRequired === "boolean" ? input.authRequired : null,
  };
}

export interface RelayStatus {
  version: string | null;
  startedAt: string | null;
  store: string | null;
  ready: boolean | null;
  subscribers: number | null;
  eventsLastHour: number | null;
  lastEventId: string | null;
  lastWebhookAt: string | null;
  lastReconciliation: {
    at: string | null;
    ok: boolean | null;
    added: number | null;
    updated: number | null;
    removed: number | null;
    error: string | null;
  } | null;
  alerts: { pending: number | null; sent: number | null; failed: number | null } | null;
}

export function parseRelayStatus(value: unknown): RelayStatus | null {
  if (!isObject(value)) return null;
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  const num = (v: unknown) => numberOrNull(v);
  const bool = (v: unknown) => (typeof v === "boolean" ? v : null);
  const rec = value.lastReconciliation;
  const alerts = value.alerts;
  return {
    version: str(value.version),
    startedAt: str(value.startedAt),
    store: str(value.store),
    ready: bool(value.ready),
    subscribers: num(value.subscribers),
    eventsLastHour: num(value.eventsLastHour),
    lastEventId: str(value.lastEventId),
    lastWebhookAt: str(value.lastWebhookAt),
    lastReconciliation: isObject(rec)
      ? {
          at: str(rec.at),
          ok: bool(rec.ok),
          added: num(rec.added),
          updated: num(rec.updated),
          removed: num(rec.removed),
          error: str(rec.error),
        }
      : null,
    alerts: isObject(alerts)
      ? { pending: num(alerts.pending), sent: num(alerts.sent), failed: num(alerts.failed) }
      : null,
  };
}
