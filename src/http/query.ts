/** Shared pieces of the routes' query and body validation. */
import { z } from "zod";
import { RelayError } from "../errors.ts";
import type { FilterField } from "../hub/record-filter.ts";

/** Zod issues as one French line: "path : message ; …" (at most five, bodies can be huge). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join(".") : "corps"} : ${issue.message}`)
    .join(" ; ");
}

export function badQuery(error: z.ZodError): RelayError {
  return new RelayError("RELAY_ERR_BAD_QUERY", describeIssues(error));
}

const filterValue = z.string().max(1000).optional();

/** The record filters `/events` and `/api/*` accept: comma-separated values per field. */
export const FilterQuerySchema = z.object({
  departement: filterValue,
  statut: filterValue,
  priorite: filterValue,
  type: filterValue,
  agent: filterValue,
} satisfies Record<FilterField, z.ZodType>);
