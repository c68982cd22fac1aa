import type { SystemName } from './compare-plan';
import { COMPARE_SCHEMA, summarizeCompare, type CompareDocument, type CompareRow } from './compare-results';

// Fixtures of the bench compare unit tests (pure data, no I/O).

/** A generate row with derived latencies. */
export function compareRow(
  system: SystemName,
  load: { concurrency: number } | { rate: number },
  tokPerS: number,
  p50: number,
): CompareRow {
  return {
    system,
    workload: 'generate',
    mode: 'concurrency' in load ? 'closed' : 'open',
    concurrency: 'concurrency' in load ? load.concurrency : null,
    rate: 'rate' in load ? load.rate : null,
    throughput: tokPerS / 100,
    tokens_per_s: tokPerS,
    p50_ms: p50,
    p95_ms: p50 * 2,
    p99_ms: p50 * 3,
    ttft_p50_ms: p50 / 10,
    ttft_p99_ms: p50 / 5,
    requests: 10,
    errors: 0,
    elapsed_s: 1,
  };
}

/** A complete document around `rows`. */
export function sampleDocument(rows: CompareRow[]): CompareDocument {
  return {
    schema: COMPARE_SCHEMA,
    meta: {
      command: 'hotpath bench compare --quick',
      started_at: '2026-01-01T00:00:00.000Z',
      duration_s: 1,
      quick: true,
      model: { generate: 'small', embed: 'tiny-embed', generate_digest: null },
      machine: { cpus: 2, cpu_model: 'cpu', memory_gb: 24, platform: 'linux', node: 'v20' },
      systems: ['ort-direct', 'transformers.js', 'naive', 'hotpath'],
      workloads: ['generate'],
      prompt_set: { seed: 1, size: 64, max_tokens: [64, 128] },
      max_batch_size: 64,
    },
    results: rows,
    summary: summarizeCompare(rows),
    roofline: null,
    token_agreement_llama_cpp: null,
    notes: [],
  };
}

/** Four systems, closed and open levels. */
export const ROWS: CompareRow[] = [
  compareRow('ort-direct', { concurrency: 1 }, 150, 600),
  compareRow('ort-direct', { concurrency: 16 }, 1000, 1500),
  compareRow('ort-direct', { rate: 8 }, 900, 1400),
  compareRow('transformers.js', { concurrency: 1 }, 140, 650),
  compareRow('transformers.js', { concurrency: 4 }, 145, 2600),
  compareRow('naive', { concurrency: 1 }, 120, 700),
  compareRow('naive', { rate: 1 }, 125, 800),
  compareRow('hotpath', { concurrency: 1 }, 130, 652),
  compareRow('hotpath', { concurrency: 16 }, 700, 2000),
  compareRow('hotpath', { rate: 9 }, 850, 1800),
];
