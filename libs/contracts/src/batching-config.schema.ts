import { z } from 'zod';

/**
 * Micro-batching (`embed` on `onnx`, `embed` on `sim`): whole requests wait for company and run as
 * one forward.
 */
export const MicroBatchingSchema = z
  .strictObject({
    /** Items in one forward: texts for `onnx` embed (a job's texts may spread over batches), jobs for `sim` embed. */
    max_batch_size: z.int().min(1).max(1024).default(16),
    /** Longest wait of the first item of a partial batch while the model is busy (an idle model starts at once). */
    max_queue_delay_ms: z.number().min(0).max(10_000).default(5),
  })
  .prefault({});

/**
 * Continuous (iteration-level) batching (`generate` on `onnx` and `sim`): sequences join and leave
 * the running batch at token boundaries; prompts are prefilled between decode steps. Work-conserving
 * by construction (a newcomer joins at the next token boundary), so it has no queue delay.
 */
export const ContinuousBatchingSchema = z
  .strictObject({
    /** Sequences in a replica's running batch at once. */
    max_running_sequences: z.int().min(1).max(1024).default(16),
    /**
     * Prompt tokens prefilled per scheduler iteration. A longer prompt is prefilled in chunks of
     * this size with decode steps of the running sequences between chunks, so running streams wait
     * at most one chunk per token (lower = steadier inter-token latency, higher = faster time to
     * first token for long prompts).
     */
    prefill_chunk_tokens: z.int().min(1).max(65_536).default(512),
    /** Decode steps the running batch gets after a prefill forward before the next one may run. */
    decode_steps_per_prefill: z.int().min(1).max(64).default(1),
  })
  .prefault({});

const BatchingObjectSchema = z.strictObject({
  /** `false` = the naive design: one job (one sequence) per model call, on the same replicas. */
  enabled: z.boolean().default(true),
  /** Both schedulers: every this many ms of waiting counts as one priority class higher. */
  priority_aging_ms: z.int().min(1).max(3_600_000).default(1000),
  micro: MicroBatchingSchema,
  continuous: ContinuousBatchingSchema,
});

/**
 * The flat keys of the former `batching` section and where they live now. `max_batch_size` meant
 * jobs, texts or running sequences depending on the backend and task, so it sets both.
 */
export const DEPRECATED_BATCHING_KEYS: Readonly<Record<string, readonly string[]>> = {
  max_batch_size: ['micro.max_batch_size', 'continuous.max_running_sequences'],
  max_queue_delay_ms: ['micro.max_queue_delay_ms'],
  prefill_chunk_tokens: ['continuous.prefill_chunk_tokens'],
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Moves deprecated flat keys of a raw `batching` section to their new places; a new key given
 * explicitly wins over the old one. Anything that is not an object is left to the schema.
 */
export function upgradeBatchingSection(raw: unknown): unknown {
  if (!isRecord(raw) || !Object.keys(DEPRECATED_BATCHING_KEYS).some((k) => k in raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  for (const [old, targets] of Object.entries(DEPRECATED_BATCHING_KEYS)) {
    if (!(old in out)) continue;
    const value = out[old];
    delete out[old];
    for (const target of targets) {
      const [section, key] = target.split('.') as [string, string];
      const current = out[section];
      // A malformed section is left as is: the schema reports it with its path.
      if (current !== undefined && !isRecord(current)) continue;
      const sub = { ...(current ?? {}) };
      if (!(key in sub)) sub[key] = value;
      out[section] = sub;
    }
  }
  return out;
}

/**
 * The deprecated keys a raw cluster config uses (models' and variants' `batching` sections), each
 * once, with the models that use it: for one warning per key at start-up.
 */
export function deprecatedBatchingKeys(
  rawConfig: unknown,
): { key: string; replacement: string[]; models: string[] }[] {
  const found = new Map<string, Set<string>>();
  const visit = (batching: unknown, model: string): void => {
    if (!isRecord(batching)) return;
    for (const key of Object.keys(DEPRECATED_BATCHING_KEYS))
      if (key in batching) (found.get(key) ?? found.set(key, new Set()).get(key))?.add(model);
  };
  const models = isRecord(rawConfig) && Array.isArray(rawConfig['models']) ? rawConfig['models'] : [];
  for (const m of models) {
    if (!isRecord(m)) continue;
    const name = typeof m['name'] === 'string' ? m['name'] : '?';
    visit(m['batching'], name);
    for (const v of Array.isArray(m['variants']) ? m['variants'] : [])
      if (isRecord(v)) visit(v['batching'], `${name}@${typeof v['name'] === 'string' ? v['name'] : '?'}`);
  }
  return [...found].map(([key, names]) => ({
    key,
    replacement: [...(DEPRECATED_BATCHING_KEYS[key] ?? [])],
    models: [...names],
  }));
}

/** A model's `batching` section (deprecated flat keys accepted, see {@link DEPRECATED_BATCHING_KEYS}). */
export const BatchingSchema = z.preprocess(upgradeBatchingSection, BatchingObjectSchema.prefault({}));

/** A variant's `batching` section: left out = the parent's (a given section replaces the parent's whole). */
export const VariantBatchingSchema = z.preprocess(upgradeBatchingSection, BatchingObjectSchema.optional());
