/**
 * What the widget tells the person who set it up: each concern (column mapping, access level,
 * token exchange) keeps its own message, so fixing one does not hide another.
 */
import type { AccessLevel } from "./grist-types.ts";

export type NoticeKey = "columns" | "access" | "exchange";

export interface Notices {
  set(key: NoticeKey, message: string | null): void;
}

export function createNotices(show: (message: string | null) => void): Notices {
  const messages = new Map<NoticeKey, string>();
  const order: readonly NoticeKey[] = ["access", "exchange", "columns"];
  return {
    set(key, message) {
      if (message === null) messages.delete(key);
      else messages.set(key, message);
      const text = order.flatMap((k) => messages.get(k) ?? []).join(" ");
      show(text || null);
    },
  };
}

const LEVEL_NAMES: Readonly<Record<AccessLevel, string>> = {
  none: "Aucun accès au document",
  "read table": "Lire la table sélectionnée",
  full: "Accès complet au document",
};

/** The relay requires tokens and Grist granted less than full access: what to change, and why. */
export function accessNotice(level: AccessLevel | undefined): string {
  const current = level ? ` (actuellement « ${LEVEL_NAMES[level]} »)` : "";
  return (
    `Ce relais exige une authentification et le widget n'a pas l'accès nécessaire${current}. ` +
    "Dans Grist, ouvrez le panneau de droite du widget (« Widget personnalisé »), choisissez " +
    "l'accès « Accès complet au document » (Full document access) puis acceptez. Le widget en a " +
    "besoin pour obtenir de Grist un jeton d'identité, qu'il échange contre un jeton du relais ; " +
    "il n'écrit jamais dans le document."
  );
}

/** The relay refused Grist's token. */
export function exchangeNotice(status: number | null): string {
  if (status === 401 || status === 403) {
    return (
      `Le relais a refusé le jeton fourni par Grist (${status}) : votre compte doit pouvoir lire ` +
      "ce document, et le relais doit être configuré pour lui (GRIST_URL, GRIST_DOC_ID). " +
      "L'administrateur du relais trouvera le détail dans ses journaux."
    );
  }
  return (
    `Le relais n'a pas pu échanger le jeton fourni par Grist${status ? ` (${status})` : ""} : ` +
    "il n'a peut-être pas pu joindre Grist. Nouvelle tentative automatique."
  );
}

/** Shown by the connection indicator while the access level blocks the stream. */
export const BLOCKED_LABEL = "Hors ligne — accès complet au document requis (voir le message)";
