/**
 * `/metrics` with WORKERS > 1: whichever worker the scrape lands on asks the primary, which
 * collects every worker's registry (prom-client's AggregatorRegistry: counters and histograms
 * summed, gauges by their aggregator) and answers with one text. A scrape therefore never
 * depends on which worker the kernel handed the connection to.
 */
import cluster from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";

const REQUEST = "grist-realtime:metrics-request";
const ANSWER = "grist-realtime:metrics-answer";

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

interface MetricsAnswer {
  type: typeof ANSWER;
  id: number;
  text?: string;
  error?: string;
}

/** In the primary: answers the workers' requests. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker, message: Partial<MetricsRequest>) => {
    if (message?.type !== REQUEST || typeof message.id !== "number") return;
    const id = message.id;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id, text } satisfies MetricsAnswer),
      (error: Error) => worker.send({ type: ANSWER, id, error: error.message }),
    );
  });
}

/**
 * In a worker: registers `registry` as what this worker reports, and returns the function the
 * `/metrics` route calls instead of reading the registry alone.
 */
export function clusterMetricsText(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing it installs the worker's answering listener (prom-client does it once).
  new AggregatorRegistry();
  let nextId = 1;
  const waiting = new Map<number, (answer: MetricsAnswer) => void>();
  process.on("message", (message: Partial<MetricsAnswer>) => {
    if (message?.type !== ANSWER || typeof message.id !== "number") return;
    waiting.get(message.id)?.(message as MetricsAnswer);
    waiting.delete(message.id);
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error("metrics: no answer from the primary process"));
      }, timeoutMs);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        if (answer.text !== undefined) resolve(answer.text);
        else reject(new Error(`metrics: ${answer.error ?? "no text"}`));
      });
      process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
    });
}
