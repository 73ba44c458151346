/**
 * Realistic field activity for demos and load: agents with French names, addresses with real
 * postcodes across mainland, Corsica (2A/2B) and overseas départements, the guide's types,
 * statuses moving En attente → En cours → Terminé / Bloqué, priorities and French comments.
 * Deterministic: the same seed and the same clock give the same events, as Grist rows.
 */
import type { MappedField } from "../domain/column-mapping.ts";

/** mulberry32: a tiny seeded PRNG, good enough for plausible data (not for security). */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Place {
  streets: readonly string[];
  postcode: string;
  city: string;
  lat: number;
  lon: number;
}

/** City centres with real postcodes; streets that exist there. */
export const PLACES: readonly Place[] = [
  {
    streets: ["rue de la République", "La Canebière", "boulevard Longchamp"],
    postcode: "13001",
    city: "Marseille",
    lat: 43.2965,
    lon: 5.3698,
  },
  {
    streets: ["cours Gambetta", "rue Garibaldi", "avenue Félix Faure"],
    postcode: "69003",
    city: "Lyon",
    lat: 45.7597,
    lon: 4.8506,
  },
  {
    streets: ["boulevard Voltaire", "rue Oberkampf", "avenue de la République"],
    postcode: "75011",
    city: "Paris",
    lat: 48.8589,
    lon: 2.3799,
  },
  {
    streets: ["cours de l'Intendance", "quai des Chartrons", "rue Sainte-Catherine"],
    postcode: "33000",
    city: "Bordeaux",
    lat: 44.8378,
    lon: -0.5792,
  },
  {
    streets: ["rue Nationale", "boulevard de la Liberté", "rue Esquermoise"],
    postcode: "59000",
    city: "Lille",
    lat: 50.6292,
    lon: 3.0573,
  },
  {
    streets: ["rue d'Alsace-Lorraine", "allées Jean-Jaurès", "rue de Metz"],
    postcode: "31000",
    city: "Toulouse",
    lat: 43.6047,
    lon: 1.4442,
  },
  {
    streets: ["quai de la Fosse", "cours des Cinquante-Otages", "rue Crébillon"],
    postcode: "44000",
    city: "Nantes",
    lat: 47.2184,
    lon: -1.5536,
  },
  {
    streets: ["place Kléber", "rue des Grandes-Arcades", "quai Saint-Nicolas"],
    postcode: "67000",
    city: "Strasbourg",
    lat: 48.5734,
    lon: 7.7521,
  },
  {
    streets: ["rue de Saint-Malo", "boulevard de la Liberté", "quai Lamartine"],
    postcode: "35000",
    city: "Rennes",
    lat: 48.1173,
    lon: -1.6778,
  },
  {
    streets: ["avenue Jean-Médecin", "promenade des Anglais", "boulevard Gambetta"],
    postcode: "06000",
    city: "Nice",
    lat: 43.7102,
    lon: 7.262,
  },
  {
    streets: ["rue de Siam", "rue Jean Jaurès", "quai de la Douane"],
    postcode: "29200",
    city: "Brest",
    lat: 48.3904,
    lon: -4.4861,
  },
  {
    streets: ["rue de la Liberté", "boulevard Carnot", "rue Chabot-Charny"],
    postcode: "21000",
    city: "Dijon",
    lat: 47.322,
    lon: 5.0415,
  },
  {
    streets: ["place de Jaude", "avenue des États-Unis", "boulevard Lafayette"],
    postcode: "63000",
    city: "Clermont-Ferrand",
    lat: 45.7772,
    lon: 3.087,
  },
  {
    streets: ["cours Napoléon", "boulevard Pascal Rossini", "avenue du Premier Consul"],
    postcode: "20000",
    city: "Ajaccio",
    lat: 41.9192,
    lon: 8.7386,
  },
  {
    streets: ["boulevard Paoli", "avenue Maréchal Sébastiani", "rue César Campinchi"],
    postcode: "20200",
    city: "Bastia",
    lat: 42.697,
    lon: 9.4503,
  },
  {
    streets: ["rue Frébault", "boulevard Légitimus", "rue Achille René-Boisneuf"],
    postcode: "97110",
    city: "Pointe-à-Pitre",
    lat: 16.2411,
    lon: -61.5331,
  },
  {
    streets: ["rue Victor Hugo", "boulevard Général de Gaulle", "rue de la République"],
    postcode: "97200",
    city: "Fort-de-France",
    lat: 14.6161,
    lon: -61.0588,
  },
  {
    streets: ["avenue du Général de Gaulle", "rue Lallouette", "boulevard Jubelin"],
    postcode: "97300",
    city: "Cayenne",
    lat: 4.9224,
    lon: -52.3135,
  },
  {
    streets: ["rue de Paris", "rue Jean Chatel", "boulevard Lancastel"],
    postcode: "97400",
    city: "Saint-Denis",
    lat: -20.8823,
    lon: 55.4504,
  },
];

export const AGENTS: readonly string[] = [
  "Marie Durand",
  "Jean Martin",
  "Sophie Bernard",
  "Karim Benali",
  "Lucie Petit",
  "Thomas Moreau",
  "Nadia Haddad",
  "Julien Lefèvre",
  "Camille Roux",
  "Antoine Girard",
  "Fatou Diallo",
  "Élodie Fournier",
  "Mathieu Lambert",
  "Inès Mercier",
  "Paul-Antoine Santoni",
  "Léa Hoarau",
  "Yannick Jean-Baptiste",
  "Chloé Bonnet",
  "Mehdi Saïdi",
  "Anne-Laure Le Gall",
];

export const TYPES = [
  "Voirie",
  "Signalisation",
  "Bâtiment",
  "Maintenance",
  "Réparation",
  "Inspection",
] as const;
export const STATUSES = ["En attente", "En cours", "Terminé", "Bloqué"] as const;
export const PRIORITIES = ["Basse", "Normale", "Haute", "Urgente"] as const;
type InterventionType = (typeof TYPES)[number];
type Status = (typeof STATUSES)[number];
type Priority = (typeof PRIORITIES)[number];

const REPORTED: Record<InterventionType, readonly string[]> = {
  Voirie: [
    "Nid-de-poule signalé",
    "Chaussée affaissée sur 2 m",
    "Bouche d'égout descellée",
    "Trottoir dégradé",
  ],
  Signalisation: [
    "Panneau stop renversé",
    "Feu tricolore en panne",
    "Marquage au sol effacé",
    "Panneau masqué par la végétation",
  ],
  Bâtiment: [
    "Fuite en toiture",
    "Porte d'accès bloquée",
    "Vitre brisée au rez-de-chaussée",
    "Infiltration en sous-sol",
  ],
  Maintenance: [
    "Éclairage public éteint",
    "Entretien de la pompe de relevage",
    "Remplacement des filtres de ventilation",
    "Graissage du portail automatique",
  ],
  Réparation: [
    "Garde-corps arraché",
    "Banc public cassé",
    "Borne incendie endommagée",
    "Grille d'arbre descellée",
  ],
  Inspection: [
    "Contrôle annuel du pont",
    "Visite de sécurité de l'école",
    "Vérification des jeux d'enfants",
    "Inspection des réseaux après orage",
  ],
};
const STARTED = [
  "Technicien sur place",
  "Équipe en route",
  "Zone balisée, travaux en cours",
  "Diagnostic en cours",
];
const PROGRESS = [
  "Travaux à mi-parcours",
  "Pièce commandée, pose demain matin",
  "Renfort demandé",
  "Intervention prolongée",
];
const DONE = [
  "Intervention terminée, zone sécurisée",
  "Réparé, rien à signaler",
  "Travaux réceptionnés",
  "Contrôle conforme",
];
const BLOCKED = [
  "En attente de pièces",
  "Accès impossible, riverain absent",
  "Intempéries, reprise à prévoir",
  "Autorisation de voirie nécessaire",
];
const UNBLOCKED = [
  "Pièces reçues, reprise des travaux",
  "Accès obtenu",
  "Reprise après intempéries",
];
const ESCALATED = [
  "Priorité relevée : risque pour les usagers",
  "Signalements multiples des riverains",
];

/** Grist column id for each field the simulator fills. */
export type SimulatorColumns = Record<MappedField, string>;

/** The guide's table as Grist names it (`ID` → `ID2`, grist.md §8). */
export const DEFAULT_SIMULATOR_COLUMNS: SimulatorColumns = {
  reference: "ID2",
  agent: "Agent",
  localisation: "Localisation",
  type: "Type",
  statut: "Statut",
  priorite: "Priorite",
  derniereMaj: "Derniere_MAJ",
  commentaire: "Commentaire",
  latitude: "Latitude",
  longitude: "Longitude",
};

export interface SimulatorOptions {
  seed: number;
  columns?: SimulatorColumns;
  /** Fill latitude/longitude near the address's city. Defaults to true. */
  withCoordinates?: boolean;
  /** Row id of the first intervention. Defaults to 1. */
  firstId?: number;
  /** Interventions open at once, at most. Defaults to 40. */
  maxOpen?: number;
}

export interface SimulatedEvent {
  kind: "add" | "update";
  /** A flat row as Grist posts it: `id`, `manualSort`, then every column by id. */
  row: Record<string, unknown>;
}

interface Intervention {
  id: number;
  reference: string;
  agent: string;
  localisation: string;
  type: InterventionType;
  statut: Status;
  priorite: Priority;
  commentaire: string;
  derniereMaj: number;
  latitude: number;
  longitude: number;
}

export class FieldSimulator {
  readonly #random: () => number;
  readonly #columns: SimulatorColumns;
  readonly #withCoordinates: boolean;
  readonly #maxOpen: number;
  readonly #all = new Map<number, Intervention>();
  readonly #open: number[] = [];
  #nextId: number;

  constructor(options: SimulatorOptions) {
    this.#random = createRandom(options.seed);
    this.#columns = options.columns ?? DEFAULT_SIMULATOR_COLUMNS;
    this.#withCoordinates = options.withCoordinates ?? true;
    this.#maxOpen = Math.max(1, options.maxOpen ?? 40);
    this.#nextId = options.firstId ?? 1;
  }

  /** The next change, stamped `nowSeconds` (Grist DateTime: epoch seconds). */
  next(nowSeconds: number): SimulatedEvent {
    const create =
      this.#open.length === 0 || (this.#open.length < this.#maxOpen && this.#random() < 0.35);
    if (create) return { kind: "add", row: this.#toRow(this.#create(nowSeconds)) };
    const index = Math.floor(this.#random() * this.#open.length);
    const intervention = this.#all.get(this.#open[index] as number) as Intervention;
    this.#advance(intervention, nowSeconds);
    if (intervention.statut === "Terminé") this.#open.splice(index, 1);
    return { kind: "update", row: this.#toRow(intervention) };
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }

  #create(nowSeconds: number): Intervention {
    const id = this.#nextId++;
    const place = this.#pick(PLACES);
    const type = this.#pick(TYPES);
    const roll = this.#random();
    const priorite: Priority =
      roll < 0.2 ? "Basse" : roll < 0.65 ? "Normale" : roll < 0.9 ? "Haute" : "Urgente";
    const year = new Date(nowSeconds * 1000).getUTCFullYear();
    // About ±1 km around the city centre.
    const jitter = () => (this.#random() - 0.5) * 0.02;
    const intervention: Intervention = {
      id,
      reference: `INT-${year}-${String(id).padStart(4, "0")}`,
      agent: this.#pick(AGENTS),
      localisation: `${1 + Math.floor(this.#random() * 120)} ${this.#pick(place.streets)}, ${place.postcode} ${place.city}`,
      type,
      statut: "En attente",
      priorite,
      commentaire: this.#pick(REPORTED[type]),
      derniereMaj: nowSeconds,
      latitude: round(place.lat + jitter()),
      longitude: round(place.lon + jitter()),
    };
    this.#all.set(id, intervention);
    this.#open.push(id);
    return intervention;
  }

  #advance(intervention: Intervention, nowSeconds: number): void {
    intervention.derniereMaj = nowSeconds;
    const roll = this.#random();
    if (roll < 0.1 && intervention.priorite !== "Urgente" && intervention.statut !== "Bloqué") {
      intervention.priorite = PRIORITIES[PRIORITIES.indexOf(intervention.priorite) + 1] as Priority;
      intervention.commentaire = this.#pick(ESCALATED);
      return;
    }
    switch (intervention.statut) {
      case "En attente":
        intervention.statut = "En cours";
        intervention.commentaire = this.#pick(STARTED);
        return;
      case "En cours":
        if (roll < 0.7) {
          intervention.statut = "Terminé";
          intervention.commentaire = this.#pick(DONE);
        } else if (roll < 0.85) {
          intervention.statut = "Bloqué";
          intervention.commentaire = this.#pick(BLOCKED);
        } else {
          intervention.commentaire = this.#pick(PROGRESS);
        }
        return;
      case "Bloqué":
        if (roll < 0.6) {
          intervention.statut = "En cours";
          intervention.commentaire = this.#pick(UNBLOCKED);
        } else {
          intervention.commentaire = this.#pick(BLOCKED);
        }
        return;
      case "Terminé":
        return;
    }
  }

  #toRow(intervention: Intervention): Record<string, unknown> {
    const c = this.#columns;
    const row: Record<string, unknown> = {
      id: intervention.id,
      manualSort: intervention.id,
      [c.reference]: intervention.reference,
      [c.agent]: intervention.agent,
      [c.localisation]: intervention.localisation,
      [c.type]: intervention.type,
      [c.statut]: intervention.statut,
      [c.priorite]: intervention.priorite,
      [c.derniereMaj]: intervention.derniereMaj,
      [c.commentaire]: intervention.commentaire,
    };
    if (this.#withCoordinates) {
      row[c.latitude] = intervention.latitude;
      row[c.longitude] = intervention.longitude;
    }
    return row;
  }
}

function round(value: number): number {
  return Math.round(value * 1e5) / 1e5;
}
