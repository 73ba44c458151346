/** `grist-realtime token`: mints an HS256 subscriber token with AUTH_JWT_SECRET. */
import { parseArgs } from "node:util";
import { mintToken } from "../auth/jwt.ts";
import { ROLES, type Role } from "../auth/principal.ts";
import { ConfigError, loadConfig } from "../config/config.ts";
import { DEPARTEMENT_CODE } from "../domain/departement.ts";
import type { CommandIo } from "./io.ts";

const HELP = `Usage : grist-realtime token --role <viewer|supervisor|admin> [--departements 13,2A] [--ttl 8h] [--subject nom]

Crée un jeton signé avec AUTH_JWT_SECRET (variable d'environnement ou --auth-jwt-secret).
  --role           rôle : viewer (lecture), supervisor, admin (état du relais, alertes)
  --departements   restreint ce que le jeton reçoit (codes séparés par des virgules)
  --ttl            durée de validité : 30m, 8h, 7d (défaut : 8h)
  --subject        nom de l'abonné (revendication sub)
`;

function parseTtl(value: string): number | null {
  const match = /^(\d{1,6})([smhd])$/.exec(value);
  if (!match) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "s" | "m" | "h" | "d"];
  return Number(match[1]) * unit;
}

export async function runTokenCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        role: { type: "string" },
        departements: { type: "string" },
        ttl: { type: "string", default: "8h" },
        subject: { type: "string" },
        "auth-jwt-secret": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }).values;
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const problems: string[] = [];
  const role = values.role as string | undefined;
  if (!role || !ROLES.includes(role as Role)) problems.push(`--role : attendu ${ROLES.join(", ")}`);
  const ttl = parseTtl(String(values.ttl));
  if (ttl === null) problems.push("--ttl : attendu un nombre suivi de s, m, h ou d (ex. 8h)");
  const departements =
    typeof values.departements === "string"
      ? values.departements
          .split(",")
          .map((d) => d.trim().toUpperCase())
          .filter(Boolean)
      : undefined;
  if (departements?.some((d) => !DEPARTEMENT_CODE.test(d)))
    problems.push("--departements : codes de département invalides");
  let secret: string | undefined;
  try {
    const argvForConfig =
      typeof values["auth-jwt-secret"] === "string"
        ? ["--auth-jwt-secret", values["auth-jwt-secret"]]
        : [];
    const config = loadConfig({ argv: argvForConfig, env: io.env });
    secret = config.AUTH_JWT_SECRET;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (!secret && problems.length === 0)
    problems.push("AUTH_JWT_SECRET (--auth-jwt-secret) : requis pour signer un jeton");
  if (problems.length > 0) {
    io.stderr.write(`${problems.map((p) => `- ${p}`).join("\n")}\n`);
    return 2;
  }
  const token = await mintToken({
    secret: secret as string,
    role: role as Role,
    departements,
    subject: typeof values.subject === "string" ? values.subject : undefined,
    ttlSeconds: ttl as number,
  });
  io.stdout.write(`${token}\n`);
  return 0;
}
