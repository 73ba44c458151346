/** Who is reading: a role and, optionally, the départements they may see. */
import { z } from "zod";
import { DEPARTEMENT_CODE } from "../domain/departement.ts";

export const ROLES = ["viewer", "supervisor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  subject: string | null;
  role: Role;
  /** null = every département. */
  departements: readonly string[] | null;
  /** Epoch ms when the credential stops being valid; null = never (no auth configured). */
  expiresAt: number | null;
}

/** Without auth configured the relay only listens on loopback: the local operator is admin. */
export const LOCAL_OPERATOR: Principal = Object.freeze({
  subject: null,
  role: "admin",
  departements: null,
  expiresAt: null,
});

export function hasRole(principal: Principal, minimum: Role): boolean {
  return ROLES.indexOf(principal.role) >= ROLES.indexOf(minimum);
}

const Departement = z.string().regex(DEPARTEMENT_CODE, "département inconnu");

/** The claims the relay reads; anything else in the token is ignored. */
export const RelayClaimsSchema = z.object({
  sub: z.string().max(256).optional(),
  role: z.enum(ROLES).default("viewer"),
  departements: z.array(Departement).max(200).optional(),
  exp: z.number().optional(),
});
