/**
 * What the bench publishes: a Grist row as Grist posts it to the relay, and, for nchan, the JSON
 * the relay would stream for that row, so both servers carry messages of about the same size.
 * Each message carries its sequence number and its send time in the column `BenchSentAt`.
 */

/** Rows cycle over this many records, so after the first ones every webhook is an update. */
export const BENCH_RECORDS = 20;

/** µs on the monotonic clock shared by the publisher and the subscribers (one process). */
export function nowUs(): number {
  return Math.round(performance.now() * 1000);
}

export function benchStamp(seq: number, sentAtUs: number): string {
  return `b${seq}t${sentAtUs}`;
}

function columns(
  seq: number,
  stamp: string,
  recordId = (seq % BENCH_RECORDS) + 1,
): Record<string, unknown> {
  return {
    manualSort: recordId,
    ID2: `INT-${String(recordId).padStart(3, "0")}`,
    Agent: "Marie Durand",
    Localisation: "12 rue de la République, 13001 Marseille",
    Type: "Voirie",
    Statut: "En cours",
    Priorite: "Normale",
    // Constant: a later Derniere_MAJ than the stored one is not needed, and an earlier one
    // would be refused as stale.
    Derniere_MAJ: 1795478400,
    Commentaire: "Nid-de-poule signalé",
    BenchSentAt: stamp,
  };
}

/** Body of `POST /webhooks/grist`: one flat row, as Grist sends it. */
export function gristWebhookBody(seq: number, sentAtUs: number): string {
  const recordId = (seq % BENCH_RECORDS) + 1;
  return JSON.stringify([{ id: recordId, ...columns(seq, benchStamp(seq, sentAtUs)) }]);
}

/** One row for record `recordId` (the reconnection storm fills thousands of records). */
export function gristRowFor(
  recordId: number,
  seq: number,
  sentAtUs: number,
): Record<string, unknown> {
  return { id: recordId, ...columns(seq, benchStamp(seq, sentAtUs), recordId) };
}

/** Body published to nchan: shaped and sized like the relay's `record.updated` event. */
export function relayShapedEvent(seq: number, sentAtUs: number): string {
  const recordId = (seq % BENCH_RECORDS) + 1;
  const stamp = benchStamp(seq, sentAtUs);
  const fields = columns(seq, stamp);
  return JSON.stringify({
    id: String(seq + 1),
    type: "record.updated",
    time: new Date().toISOString(),
    source: "webhook",
    record: {
      id: recordId,
      reference: fields.ID2,
      agent: fields.Agent,
      localisation: fields.Localisation,
      type: fields.Type,
      statut: fields.Statut,
      priorite: fields.Priorite,
      derniereMaj: "2026-11-24T00:00:00.000Z",
      commentaire: fields.Commentaire,
      latitude: null,
      longitude: null,
      departement: "13",
      fields,
    },
    changes: { "fields.BenchSentAt": { from: benchStamp(seq - 1, sentAtUs), to: stamp } },
  });
}
