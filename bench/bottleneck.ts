/**
 * Whether the load generator, rather than the server under test, may have set a run's numbers.
 * The generator timestamps a delivery when its own loop reads it: when that loop is saturated,
 * the measured latency is partly the generator's.
 */
import { round } from "./stats.ts";

export interface GeneratorLoad {
  /** Generator CPU during publishing, % of one core (it is one process, one loop). */
  cpuPercent: number;
  /** Sends that left after their slot. */
  lateSends: number;
  eventLoopP99Ms: number;
  /** The latency p99 it measured. */
  latencyP99Ms: number;
}

/** Near a full core, the generator's loop has no slack left to read deliveries on time. */
export const GENERATOR_CPU_LIMIT_PERCENT = 90;

/** Reasons, in French (they go into the report); empty when none applies. */
export function bottleneckReasons(load: GeneratorLoad): string[] {
  const reasons: string[] = [];
  if (load.cpuPercent >= GENERATOR_CPU_LIMIT_PERCENT)
    reasons.push(
      `générateur à ${round(load.cpuPercent, 1)} % d'un cœur (seuil ${GENERATOR_CPU_LIMIT_PERCENT} %)`,
    );
  if (load.lateSends > 0)
    reasons.push(`${load.lateSends} envois partis en retard (plus de créneau libre)`);
  if (load.latencyP99Ms > 0 && load.eventLoopP99Ms >= load.latencyP99Ms / 2)
    reasons.push(
      `retard de la boucle du générateur p99 ${round(load.eventLoopP99Ms)} ms, au moins la moitié de la latence p99 mesurée (${round(load.latencyP99Ms)} ms)`,
    );
  return reasons;
}
