/**
 * The product's vocabulary as the dashboard uses it: the words, the one text comparison and
 * the alarm rule come from the module the relay uses too (src/domain/vocabulary.ts); the
 * glyphs that go with them are the dashboard's own.
 */
import type { PriorityKind, StatusKind } from "../../../src/domain/vocabulary.ts";

export {
  type AlarmKind,
  alarmRaisedBy,
  alarmsRaisedBy,
  FIELD_LABELS,
  fold,
  isAlarming,
  isClosed,
  PRIORITY_KINDS,
  type PriorityKind,
  priorityKind,
  priorityRank,
  STATUS_KINDS,
  type StatusKind,
  sameWord,
  statusKind,
} from "../../../src/domain/vocabulary.ts";

/**
 * A glyph shown beside each statut and priorité label so the information never rests on colour
 * alone (WCAG 1.4.1); the text label is always shown too. Plain Unicode symbols present in
 * common system fonts (DejaVu, Segoe UI Symbol), not emoji, which many kiosks cannot draw.
 */
export const STATUS_GLYPH: Readonly<Record<StatusKind, string>> = {
  "en-cours": "▶",
  "en-attente": "◷",
  bloque: "⊘",
  termine: "✓",
  annule: "✕",
  autre: "•",
};

export const PRIORITY_GLYPH: Readonly<Record<PriorityKind, string>> = {
  urgente: "‼",
  haute: "▲",
  normale: "■",
  basse: "▼",
  inconnue: "?",
};
