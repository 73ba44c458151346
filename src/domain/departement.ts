/**
 * Derives the French département from a postcode found in free-text addresses, so supervisors
 * can filter by territory without a dedicated Grist column.
 */

/** A département code as people write it: 01–95, 2A, 2B, 971–976. */
export const DEPARTEMENT_CODE = /^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])$/i;

// Five digits not glued to other digits; the last one in an address is the postcode
// ("12 rue X, 13001 Marseille"), street numbers rarely have five digits.
const POSTCODE = /(?<!\d)(\d{5})(?!\d)/g;

/** "13001" → "13", "20090" → "2A", "20200" → "2B", "97411" → "974"; invalid → null. */
export function departementFromPostcode(postcode: string): string | null {
  if (!/^\d{5}$/.test(postcode)) return null;
  const two = postcode.slice(0, 2);
  if (two === "20") {
    // Corsica kept the 20 prefix: 200xx–201xx are Corse-du-Sud, the rest Haute-Corse.
    return postcode[2] === "0" || postcode[2] === "1" ? "2A" : "2B";
  }
  if (two === "97") {
    const three = postcode.slice(0, 3);
    // 971 Guadeloupe (with Saint-Barthélemy, Saint-Martin), 972, 973, 974, 975 (SPM), 976.
    return ["971", "972", "973", "974", "975", "976"].includes(three) ? three : null;
  }
  const n = Number(two);
  if (n >= 1 && n <= 95) return two;
  return null;
}

/** The département of the last valid postcode in `text`, or null. */
export function departementFromAddress(text: string | null): string | null {
  if (!text) return null;
  let found: string | null = null;
  for (const match of text.matchAll(POSTCODE)) {
    const departement = departementFromPostcode(match[1] ?? "");
    if (departement) found = departement;
  }
  return found;
}
