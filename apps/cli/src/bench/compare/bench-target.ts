import type { Sender } from '../load-generator';
import type { SystemName } from './compare-plan';

/** One system under test, started and ready to take load. */
export interface BenchTarget {
  system: SystemName;
  /** Sender of the generate workload (prompts walked in order from the first call). */
  generate(): Sender;
  /** Sender of the embeddings workload, or undefined when the system cannot embed. */
  embed(): Sender | undefined;
  /** Things the report must say about this system (filled while it runs, e.g. TTFT not measured). */
  notes(): string[];
  stop(): Promise<void>;
}
