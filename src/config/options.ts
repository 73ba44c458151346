/**
 * Every setting of the relay, once: its environment variable, its flag, its schema and its
 * French description (printed by `--help` and copied in the README). `config.ts` reads them.
 */
import { availableParallelism } from "node:os";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((value) => value === "true" || value === "1" || value === "yes");
const csv = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== ""),
);
const httpUrl = z.url({ protocol: /^https?$/ });
const optionalText = z.string().min(1).optional();

export interface OptionDefinition<E extends string = string, S extends z.ZodType = z.ZodType> {
  env: E;
  flag: string;
  schema: S;
  default?: string;
  /** Secrets are never printed nor logged; `<ENV>_FILE` may point at a file holding them. */
  secret?: boolean;
  /** A flag that takes no value (`--trust-proxy`). */
  boolean?: boolean;
  description: string;
}

function option<E extends string, S extends z.ZodType>(
  env: E,
  schema: S,
  description: string,
  extra: { default?: string; secret?: boolean } = {},
): OptionDefinition<E, S> {
  const flag = env.toLowerCase().replaceAll("_", "-");
  return { env, flag, schema, description, boolean: schema === (bool as z.ZodType), ...extra };
}

export const OPTIONS = [
  option("HOST", z.string().min(1), "Adresse d'écoute", { default: "127.0.0.1" }),
  option("PORT", port, "Port d'écoute (0 = choisi par le système)", { default: "8080" }),
  option(
    "DATA_DIR",
    z.string().min(1),
    "Dossier des données (base SQLite, correspondance des colonnes)",
    { default: "./data" },
  ),
  option(
    "STORE",
    z.enum(["sqlite", "memory", "redis"]),
    "Stockage des événements : sqlite, memory ou redis",
    { default: "sqlite" },
  ),
  option(
    "SQLITE_SYNCHRONOUS",
    z.enum(["FULL", "NORMAL"]),
    "FULL : chaque webhook acquitté survit à une coupure de courant ; NORMAL : à un arrêt brutal du processus seulement",
    { default: "FULL" },
  ),
  option(
    "WORKERS",
    z.union([z.literal("auto").transform(() => availableParallelism()), positiveInt(1, 256)]),
    "Processus relais partageant le port (auto = un par cœur) ; plus d'un exige STORE=redis",
    { default: "1" },
  ),
  option("REDIS_URL", z.url({ protocol: /^rediss?$/ }), "URL Redis (STORE=redis)", {
    default: "redis://127.0.0.1:6379",
    secret: true,
  }),
  option("REDIS_KEY_PREFIX", z.string().min(1).max(100), "Préfixe des clés Redis", {
    default: "grist-realtime:",
  }),
  option(
    "REDIS_COMMAND_TIMEOUT_MS",
    positiveInt(100, 60_000),
    "Délai maximal d'une commande Redis : au-delà, le stockage est déclaré indisponible (503) (ms)",
    { default: "2000" },
  ),
  option(
    "LEASE_TTL_MS",
    positiveInt(1000, 300_000),
    "Durée d'un bail Redis (réconciliation, alertes) : délai de reprise par une autre instance quand la titulaire meurt (ms)",
    { default: "15000" },
  ),
  option(
    "WEBHOOK_SECRET",
    z.string().min(16, "au moins 16 caractères").max(512).optional(),
    "Secret attendu dans « Authorization: Bearer … » (ou ?secret=) des webhooks Grist",
    { secret: true },
  ),
  option(
    "AUTH_JWT_SECRET",
    z.string().min(32, "au moins 32 caractères pour HS256").optional(),
    "Secret HS256 des jetons des abonnés (active l'authentification)",
    { secret: true },
  ),
  option(
    "AUTH_JWKS_URL",
    httpUrl.optional(),
    "URL JWKS d'un fournisseur d'identité (RS256/ES256/EdDSA ; active l'authentification)",
  ),
  option("AUTH_JWT_ISSUER", optionalText, "Émetteur (iss) exigé dans les jetons"),
  option("AUTH_JWT_AUDIENCE", optionalText, "Audience (aud) exigée dans les jetons"),
  option(
    "ALLOW_UNAUTHENTICATED_PUBLIC",
    bool,
    "Autorise l'écoute sur une adresse non locale sans authentification (déconseillé)",
    { default: "false" },
  ),
  option(
    "ALLOW_UNAUTHENTICATED_WEBHOOKS",
    bool,
    "Autorise les webhooks sans WEBHOOK_SECRET sur une adresse non locale alors que les abonnés s'authentifient (déconseillé)",
    { default: "false" },
  ),
  option(
    "HEARTBEAT_MS",
    positiveInt(1000, 30_000),
    "Intervalle des commentaires de maintien du flux SSE (ms)",
    { default: "30000" },
  ),
  option(
    "RETRY_MS",
    positiveInt(100, 60_000),
    "Délai de reconnexion conseillé aux clients SSE (ms)",
    { default: "3000" },
  ),
  option(
    "LOG_LEVEL",
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
    "Niveau des journaux",
    { default: "info" },
  ),
  option("MAX_STREAMS", positiveInt(1, 1_000_000), "Nombre maximal de flux SSE ouverts", {
    default: "20000",
  }),
  option(
    "MAX_STREAMS_PER_IP",
    positiveInt(1, 1_000_000),
    "Nombre maximal de flux SSE par adresse cliente",
    { default: "200" },
  ),
  option(
    "SUBSCRIBER_QUEUE_BYTES",
    positiveInt(16_384, 64 * 1024 * 1024),
    "Octets en attente d'écriture au-delà desquels un abonné trop lent est déconnecté",
    { default: "1048576" },
  ),
  option(
    "SUBSCRIBER_STALL_MS",
    positiveInt(1000, 600_000),
    "Durée pendant laquelle un abonné peut ne rien lire de ce qui l'attend avant d'être déconnecté (ms)",
    { default: "30000" },
  ),
  option(
    "REQUEST_TIMEOUT_MS",
    positiveInt(1000, 600_000),
    "Délai maximal pour recevoir une requête entière, en-têtes et corps (ms)",
    { default: "30000" },
  ),
  option(
    "WEBHOOK_BODY_LIMIT_BYTES",
    positiveInt(1024, 100 * 1024 * 1024),
    "Taille maximale d'un corps de webhook",
    { default: "5242880" },
  ),
  option(
    "CORS_ORIGINS",
    csv,
    "Origines autorisées à lire le flux et l'API depuis un autre site (séparées par des virgules)",
    { default: "" },
  ),
  option("TRUST_PROXY", bool, "Faire confiance à X-Forwarded-For (relais derrière nginx)", {
    default: "false",
  }),
  option(
    "RETENTION_MAX_EVENTS",
    positiveInt(100, 100_000_000),
    "Nombre d'événements conservés pour la reprise et la chronologie",
    { default: "100000" },
  ),
  option(
    "RETENTION_MAX_AGE_HOURS",
    positiveInt(1, 24 * 3650),
    "Âge maximal des événements conservés (heures)",
    { default: "168" },
  ),
  option(
    "COLUMN_MAPPING_FILE",
    optionalText,
    "Fichier JSON de correspondance des colonnes (écrit par « setup » ; défaut : DATA_DIR/column-mapping.json s'il existe)",
  ),
  option(
    "SHUTDOWN_DRAIN_MS",
    positiveInt(0, 120_000),
    "À l'arrêt, durée pendant laquelle /readyz, les webhooks et les nouveaux flux répondent 503 avant la fermeture du port (ms)",
    { default: "5000" },
  ),
  option("SHUTDOWN_TIMEOUT_MS", positiveInt(100, 120_000), "Délai maximal d'arrêt propre (ms)", {
    default: "10000",
  }),
  option(
    "RELAY_PUBLIC_URL",
    httpUrl.optional(),
    "Adresse publique du relais (webhooks Grist, liens des alertes)",
  ),
  option(
    "GRIST_URL",
    httpUrl.optional(),
    "URL du serveur Grist (synchronisation, réconciliation, connexion du widget)",
  ),
  option(
    "GRIST_DOC_ID",
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, "identifiant de document Grist")
      .optional(),
    "Identifiant du document Grist",
  ),
  option("GRIST_API_KEY", optionalText, "Clé d'API Grist (lecture de la table)", { secret: true }),
  option(
    "GRIST_TABLE",
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, "identifiant de table Grist"),
    "Table suivie",
    { default: "Interventions" },
  ),
  option(
    "RECONCILE_INTERVAL_MS",
    positiveInt(0, 86_400_000),
    "Intervalle de réconciliation avec Grist (ms, 0 = désactivée)",
    { default: "60000" },
  ),
  option("ALERTS_CONFIG", optionalText, "Fichier JSON des règles et destinations d'alerte"),
  option("TCHAP_HOMESERVER_URL", httpUrl.optional(), "Serveur Tchap/Matrix du bot d'alerte"),
  option("TCHAP_ACCESS_TOKEN", optionalText, "Jeton d'accès du bot Tchap", { secret: true }),
  option(
    "TCHAP_STORE_KEY",
    optionalText,
    "Secret qui chiffre le magasin de clés du bot (salons Tchap chiffrés), dans DATA_DIR/tchap",
    { secret: true },
  ),
  option(
    "TCHAP_PASSWORD",
    optionalText,
    "Mot de passe du compte du bot : signe une fois son appareil (signature croisée), puis peut être retiré",
    { secret: true },
  ),
  option(
    "TCHAP_RECOVERY_KEY",
    optionalText,
    "Clé de récupération du compte du bot, si son identité a été créée ailleurs (Tchap) : signe son appareil",
    { secret: true },
  ),
  option(
    "TCHAP_ROOM_ID",
    z
      .string()
      .regex(/^![^\s/]{1,255}$/, "identifiant de salon Matrix (!abc:serveur)")
      .optional(),
    "Salon Tchap des alertes",
  ),
  option(
    "GEOCODER",
    z.enum(["geoplateforme", "off"]),
    "Géocodage des adresses sans coordonnées : geoplateforme (IGN, BAN) ou off",
    { default: "geoplateforme" },
  ),
  option("GEOCODER_URL", httpUrl, "Service de géocodage (le relais appelle <url>/search)", {
    default: "https://data.geopf.fr/geocodage",
  }),
  option(
    "GEOCODER_MIN_SCORE",
    z.coerce.number().min(0).max(1),
    "Score minimal d'une adresse géocodée ; en dessous, position du département",
    { default: "0.5" },
  ),
  option(
    "GEOCODER_RATE_PER_SECOND",
    positiveInt(1, 49),
    "Requêtes de géocodage par seconde au plus (le service en accepte 50)",
    { default: "40" },
  ),
  option(
    "GEOCODER_TIMEOUT_MS",
    positiveInt(100, 60_000),
    "Délai maximal d'une requête de géocodage (ms)",
    { default: "5000" },
  ),
  option(
    "GEOCODE_WRITE_BACK",
    bool,
    "Écrire la position géocodée dans les colonnes Latitude/Longitude vides du document Grist",
    { default: "false" },
  ),
  option("MAP_TILE_URL", z.string().min(1), "Modèle d'URL des tuiles de la carte", {
    // Plan IGN v2 from the IGN Géoplateforme: open licence, no key, meant for public services.
    default:
      "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}",
  }),
  option("MAP_TILE_ATTRIBUTION", z.string(), "Attribution des tuiles", {
    default: "© IGN",
  }),
  option("DASHBOARD_TITLE", z.string().min(1).max(120), "Titre du tableau de bord", {
    default: "Interventions en temps réel",
  }),
] as const satisfies readonly OptionDefinition[];
