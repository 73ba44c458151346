/**
 * What the "?" help panel explains, derived from the vocabulary: one entry per statut kind,
 * priorité kind, position origin and connection state, in the vocabulary's order. The texts are keyed by kind
 * (a `Record` over the kind), so a kind added to the vocabulary without an explanation fails
 * the type check, and the panel iterates the kinds themselves, never a list of its own.
 */
import { POSITION_SOURCES, type PositionSource } from "../../../src/domain/vocabulary.ts";
import { CONNECTION_KINDS, type ConnectionKind, OFFLINE_AFTER_MS } from "./connection-status.ts";
import {
  PRIORITY_GLYPH,
  PRIORITY_KINDS,
  type PriorityKind,
  STATUS_GLYPH,
  STATUS_KINDS,
  type StatusKind,
} from "./vocabulary.ts";

export interface LegendEntry<K extends string> {
  kind: K;
  /**
   * A cell value that the dashboard shows as this kind (null: an empty cell). The panel draws
   * the badge from it with the same function as the cards, so colour and glyph cannot differ.
   */
  sample: string | null;
  glyph: string;
  meaning: string;
}

export interface ConnectionLegendEntry {
  kind: ConnectionKind;
  /** The first words of the indicator's label in this state. */
  label: string;
  meaning: string;
  /** What the supervisor should do. */
  action: string;
}

const STATUS_TEXT: Readonly<Record<StatusKind, { sample: string | null; meaning: string }>> = {
  "en-cours": { sample: "En cours", meaning: "Un agent travaille sur l'intervention." },
  "en-attente": {
    sample: "En attente",
    meaning: "L'intervention attend quelque chose (matériel, accès, rendez-vous).",
  },
  bloque: {
    sample: "Bloqué",
    meaning: "L'agent ne peut pas avancer sans aide. Devenir « Bloqué » déclenche une alarme.",
  },
  termine: {
    sample: "Terminé",
    meaning: "Travail fini : l'intervention quitte la liste et compte dans « Terminées ».",
  },
  annule: {
    sample: "Annulé",
    meaning: "Personne n'est plus attendu sur place : l'intervention quitte la liste.",
  },
  autre: {
    sample: null,
    meaning: "Statut vide ou mot non reconnu, affiché tel quel en gris : à corriger dans Grist.",
  },
};

const PRIORITY_TEXT: Readonly<Record<PriorityKind, { sample: string | null; meaning: string }>> = {
  urgente: {
    sample: "Urgente",
    meaning:
      "À traiter en premier : en tête de liste, bord rouge. Devenir « Urgente » déclenche une alarme.",
  },
  haute: { sample: "Haute", meaning: "À traiter rapidement (bord orange)." },
  normale: { sample: "Normale", meaning: "Priorité ordinaire (bord bleu)." },
  basse: { sample: "Basse", meaning: "Peut attendre (bord gris)." },
  inconnue: {
    sample: null,
    meaning: "Priorité vide ou mot non reconnu : classée en dernier, à corriger dans Grist.",
  },
};

const OFFLINE_AFTER_S = Math.round(OFFLINE_AFTER_MS / 1000);

const CONNECTION_TEXT: Readonly<Record<ConnectionKind, Omit<ConnectionLegendEntry, "kind">>> = {
  live: {
    label: "En direct",
    meaning: "Le relais parle à la page en ce moment : l'écran montre l'état réel.",
    action: "Rien à faire.",
  },
  connecting: {
    label: "Connexion…",
    meaning: "La page vient de s'ouvrir et contacte le relais.",
    action: "Attendez quelques secondes.",
  },
  reconnecting: {
    label: "Reconnexion…",
    meaning:
      "Le lien avec le relais s'est coupé ou s'est tu. La page se reconnecte seule et rattrapera les changements manqués.",
    action: "Attendez ; l'écran peut avoir quelques secondes de retard.",
  },
  offline: {
    label: "Hors ligne",
    meaning: `Aucun lien avec le relais depuis ${OFFLINE_AFTER_S} s au moins, ou accès refusé. Les données restent affichées, grisées et datées (« données au … ») : elles ont pu changer depuis.`,
    action:
      "Cliquez sur « Réessayer maintenant » et vérifiez le réseau de ce poste. Si le message parle de jeton ou d'accès refusé, demandez un nouveau lien à l'administrateur ; sinon, prévenez-le.",
  },
};

export const STATUS_LEGEND: readonly LegendEntry<StatusKind>[] = STATUS_KINDS.map((kind) => ({
  kind,
  glyph: STATUS_GLYPH[kind],
  ...STATUS_TEXT[kind],
}));

export const PRIORITY_LEGEND: readonly LegendEntry<PriorityKind>[] = PRIORITY_KINDS.map((kind) => ({
  kind,
  glyph: PRIORITY_GLYPH[kind],
  ...PRIORITY_TEXT[kind],
}));

export const CONNECTION_LEGEND: readonly ConnectionLegendEntry[] = CONNECTION_KINDS.map((kind) => ({
  kind,
  ...CONNECTION_TEXT[kind],
}));

export interface PositionLegendEntry {
  /** null: no position at all (listed beside the map). */
  source: PositionSource | null;
  /** How the pin looks: "●" solid, "○" hollow, "—" none. */
  mark: string;
  meaning: string;
}

const POSITION_TEXT: Readonly<Record<PositionSource, Omit<PositionLegendEntry, "source">>> = {
  grist: {
    mark: "●",
    meaning: "Épingle pleine : position saisie dans Grist (Latitude, Longitude).",
  },
  adresse: { mark: "●", meaning: "Épingle pleine : position trouvée d'après l'adresse." },
  departement: {
    mark: "○",
    meaning:
      "Épingle creuse : position approximative, au centre du département (adresse non trouvée). L'intervention est dans le département, pas à cet endroit.",
  },
};

export const POSITION_LEGEND: readonly PositionLegendEntry[] = [
  ...POSITION_SOURCES.map((source) => ({ source, ...POSITION_TEXT[source] })),
  {
    source: null,
    mark: "—",
    meaning: "Sans position (ni coordonnées ni code postal reconnu) : listée à côté de la carte.",
  },
];
