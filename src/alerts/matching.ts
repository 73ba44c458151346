/** Which alert rules an event satisfies. Pure functions over the stored event. */
import type { RelayEvent } from "../domain/events.ts";
import type { Intervention } from "../domain/intervention.ts";
import type { AlertRule, AlertTrigger, ChangeTrigger } from "./rules.ts";

/** `priorite` reads the normalized field, `fields.Equipe` the raw Grist column. */
export function fieldValue(record: Intervention, field: string): unknown {
  if (field.startsWith("fields.")) return record.fields[field.slice("fields.".length)];
  return record[field as keyof Intervention];
}

// "Bloqué" typed on macOS may arrive decomposed (e + U+0301) while Grist stores it composed:
// compare in NFC so the operator's file matches what Grist sends.
function sameText(value: unknown, expected: string): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.some((item) => sameText(item, expected));
  if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
    return false;
  }
  return String(value).normalize("NFC") === expected.normalize("NFC");
}

function oneOf(value: unknown, expected: string | readonly string[]): boolean {
  const list = typeof expected === "string" ? [expected] : expected;
  return list.some((candidate) => sameText(value, candidate));
}

function changeMatches(trigger: ChangeTrigger, event: RelayEvent): boolean {
  if (event.type !== "record.updated") return false;
  const change = event.changes?.[trigger.field];
  if (change) {
    if (trigger.from !== undefined && !oneOf(change.from, trigger.from)) return false;
    if (trigger.to !== undefined && !oneOf(change.to, trigger.to)) return false;
    return true;
  }
  // An update for a row the relay had never seen carries no changes: the previous value is
  // unknown. Missing an urgent alert is worse than one extra, so a `to` trigger then looks at
  // the current value.
  const previousUnknown = Object.keys(event.changes ?? {}).length === 0;
  return (
    previousUnknown &&
    trigger.from === undefined &&
    trigger.to !== undefined &&
    oneOf(fieldValue(event.record, trigger.field), trigger.to)
  );
}

export function triggerMatches(trigger: AlertTrigger, event: RelayEvent): boolean {
  if (trigger.on === "change") return changeMatches(trigger, event);
  if (event.type !== trigger.on) return false;
  return Object.entries(trigger.where ?? {}).every(([field, expected]) =>
    oneOf(fieldValue(event.record, field), expected),
  );
}

export function ruleMatches(rule: AlertRule, event: RelayEvent): boolean {
  if (!rule.sources.includes(event.source)) return false;
  if (rule.departements && !oneOf(event.record.departement, rule.departements)) return false;
  if (rule.types && !oneOf(event.record.type, rule.types)) return false;
  return rule.triggers.some((trigger) => triggerMatches(trigger, event));
}
