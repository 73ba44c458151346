/**
 * Decides, inside the store's commit, which new events become alerts: one outbox entry per
 * (event, destination), keyed `<eventId>:<destination>` so a replayed commit adds nothing.
 * Plugged in as `CommitOptions.outbox`.
 */
import type { RelayEvent } from "../domain/events.ts";
import type { OutboxEntry } from "../store/event-store.ts";
import { eventForRule } from "./matching.ts";
import { isHttpUrl, renderAlert } from "./message.ts";
import { type AlertPayload, alertTxnId } from "./payload.ts";
import type { AlertsConfig } from "./rules.ts";

export interface AlertPlannerOptions {
  /** Base URL of the dashboard; alerts link to `<dashboardUrl>/?q=<reference>`. */
  dashboardUrl?: string;
  /** Told about an event that could not be turned into alerts (it is skipped). */
  onError?: (error: unknown, event: RelayEvent) => void;
}

export type AlertPlanner = (events: readonly RelayEvent[]) => OutboxEntry[];

export function createAlertPlanner(
  config: AlertsConfig,
  options: AlertPlannerOptions = {},
): AlertPlanner {
  if (options.dashboardUrl !== undefined && !isHttpUrl(options.dashboardUrl)) {
    throw new Error("dashboardUrl doit être une URL http:// ou https://");
  }
  const kinds = new Map(config.destinations.map((d) => [d.name, d.kind]));

  function plan(stored: RelayEvent, entries: OutboxEntry[], seen: Set<string>): void {
    for (const rule of config.rules) {
      // As the rule sees it: limited to départements, it never carries a value from outside.
      const event = eventForRule(rule, stored);
      if (!event) continue;
      const message = renderAlert(event, rule.title, options);
      for (const destination of rule.destinations) {
        const key = `${event.id}:${destination}`;
        // Two rules may send the same event to one destination: the first rule wins.
        if (seen.has(key) || !kinds.has(destination)) continue;
        seen.add(key);
        const payload: AlertPayload = {
          v: 1,
          rule: rule.name,
          eventId: event.id,
          reference: event.record.reference,
          txnId: alertTxnId(key, event.time),
          message,
          ...(kinds.get(destination) === "webhook" ? { event } : {}),
        };
        entries.push({ key, destination, payload });
      }
    }
  }

  return function planAlerts(events) {
    const entries: OutboxEntry[] = [];
    const seen = new Set<string>();
    for (const event of events) {
      // This runs inside the store's transaction: a throw would roll back the events and make
      // Grist retry the same batch forever. A broken alert must never block ingestion.
      try {
        plan(event, entries, seen);
      } catch (error) {
        options.onError?.(error, event);
      }
    }
    return entries;
  };
}
