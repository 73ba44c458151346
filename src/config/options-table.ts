/**
 * The README's settings table, rendered from `OPTIONS` so the two cannot drift: a test compares
 * them, and `npm run docs:config` rewrites the table in place after a setting is added.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { OPTIONS } from "./options.ts";

const HEADER = "| Variable | Option | Défaut | Rôle |\n|---|---|---|---|";

export function renderOptionsTable(): string {
  const rows = OPTIONS.map((option) => {
    const fallback = option.default ? `\`${option.default}\`` : "—";
    const secret = option.secret ? ` (secret ; accepte aussi \`${option.env}_FILE\`)` : "";
    return `| \`${option.env}\` | \`--${option.flag}\` | ${fallback} | ${option.description}${secret} |`;
  });
  return `${HEADER}\n${rows.join("\n")}`;
}

/** The table as it stands in a Markdown text: from its header to the first non-table line. */
export function findOptionsTable(markdown: string): { start: number; end: number } | null {
  const start = markdown.indexOf(HEADER);
  if (start < 0) return null;
  let end = start;
  for (const line of markdown.slice(start).split("\n")) {
    if (!line.startsWith("|")) break;
    end += line.length + 1;
  }
  return { start, end: end - 1 };
}

if (import.meta.main) {
  const file = process.argv[2] ?? "README.md";
  const markdown = readFileSync(file, "utf8");
  const found = findOptionsTable(markdown);
  if (!found) {
    process.stderr.write(`${file} : tableau des réglages introuvable\n`);
    process.exit(1);
  }
  const updated = `${markdown.slice(0, found.start)}${renderOptionsTable()}${markdown.slice(found.end)}`;
  writeFileSync(file, updated);
  process.stdout.write(`${file} : ${OPTIONS.length} réglages\n`);
}
