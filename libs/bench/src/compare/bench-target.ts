import type { Sender } from '../load-generator';
import type { SystemName } from './compare-plan';

/** The load of one level: a closed-loop concurrency or an open-loop arrival rate. */
export type LevelLoad = { concurrency: number } | { rate: number };

/** One system under test, started and ready to take load. */
export interface BenchTarget {
  system: SystemName;
  /** Sender of the generate workload (prompts walked in order from the first call). */
  generate(): Sender;
  /** Sender of the embeddings workload, or undefined when the system cannot embed. */
  embed(): Sender | undefined;
  /** Things the report must say about this system (filled while it runs, e.g. TTFT not measured). */
  notes(): string[];
  /**
   * Called before each level (and before warm-up) with its load, for systems that size themselves
   * to it (llama.cpp creates a context with as many sequences as the concurrency).
   */
  prepareLevel?(load: LevelLoad): Promise<void>;
  stop(): Promise<void>;
}
