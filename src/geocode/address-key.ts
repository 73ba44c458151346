/**
 * The cache key of an address: people type the same place with other cases, accents,
 * commas and spaces ("12 Avenue du Prado, 13008 MARSEILLE" / "12 avenue du prado 13008
 * Marseille"); the geocoder answers them the same, so they share one entry.
 */
import { fold } from "../domain/vocabulary.ts";

/** Longest address sent to the service (the Géoplateforme refuses more than 200 characters). */
export const MAX_ADDRESS_LENGTH = 200;

export function addressKey(address: string): string {
  return fold(address.slice(0, MAX_ADDRESS_LENGTH))
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}
