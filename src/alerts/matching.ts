/** Which alert rules an event satisfies. Pure functions over the stored event. */
import type { RelayEvent } from "../domain/events.ts";
import type { Intervention } from "../domain/intervention.ts";
import { enteringEvent, visibility } from "../domain/scope.ts";
import { alarmsRaisedBy, sameWord } from "../domain/vocabulary.ts";
import type { AlertRule, AlertTrigger, ChangeTrigger } from "./rules.ts";

/** `priorite` reads the normalized field, `fields.Equipe` the raw Grist column. */
export function fieldValue(record: Intervention, field: string): unknown {
  if (field.startsWith("fields.")) return record.fields[field.slice("fields.".length)];
  return record[field as keyof Intervention];
}

/**
 * The operator's word against the data, with the product's one comparison (case, accents and
 * spaces ignored): "Bloqué" in the file matches `Bloque`, `bloqué` and ` BLOQUÉ ` in Grist.
 */
function sameText(value: unknown, expected: string): boolean {
  if (value === null || value === undefined) return false;
  if (Array.isArray(value)) return value.some((item) => sameText(item, expected));
  return sameWord(value, expected);
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
  // The dashboard's own rule (toast and sound), so the room and the screen agree.
  if (trigger.on === "alarm") return alarmsRaisedBy(event).includes(trigger.kind);
  if (event.type !== trigger.on) return false;
  return Object.entries(trigger.where ?? {}).every(([field, expected]) =>
    oneOf(fieldValue(event.record, field), expected),
  );
}

/**
 * The event as a rule sees it, or null when the rule does not fire. A rule limited to
 * départements sees what a subscriber scoped to them would: a record moving into them is an
 * addition (its former, out-of-scope values never reach the room), a record leaving them is
 * nothing to alert about.
 */
export function eventForRule(rule: AlertRule, event: RelayEvent): RelayEvent | null {
  if (!rule.sources.includes(event.source)) return null;
  let seen = event;
  const departements = rule.departements;
  if (departements) {
    const inScope = (record: Intervention) => oneOf(record.departement, departements);
    const seenAs = visibility(event, inScope);
    if (seenAs === "hidden" || seenAs === "leaves") return null;
    if (seenAs === "enters") seen = enteringEvent(event);
  }
  if (rule.types && !oneOf(seen.record.type, rule.types)) return null;
  return rule.triggers.some((trigger) => triggerMatches(trigger, seen)) ? seen : null;
}

export function ruleMatches(rule: AlertRule, event: RelayEvent): boolean {
  return eventForRule(rule, event) !== null;
}
