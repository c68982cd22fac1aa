import { kvData, type KvCache, type KvElementType } from '../batching/kv-block';
import type { LoadedModel } from '../model/model-loader';
import type { LlamaConfig } from '../model/model-config';
import { fromFloat16 } from '../session/float16';
import type { OrtSession, RuntimeTensor } from '../session/ort-session';

/** One forward call's inputs: `batch` rows of `seq` new tokens over `past` cached positions. */
export interface ForwardInput {
  batch: number;
  seq: number;
  /** `[batch, seq]` row-major. */
  inputIds: readonly number[] | BigInt64Array;
  /** `[batch, past + seq]` row-major (1 = real token, 0 = padding). */
  attentionMask: readonly number[] | BigInt64Array;
  /** `[batch, seq]` row-major. */
  positionIds: readonly number[] | BigInt64Array;
  /** Null for the first call (an empty cache). */
  past: KvCache | null;
}

/** One forward call's outputs. */
export interface ForwardOutput {
  /** `[batch, seq, vocab]` row-major, float32 (a float16 graph's logits are widened exactly). */
  logits: Float32Array;
  present: KvCache;
}

/**
 * A decoder session with its config: one forward step with the KV cache. The cache keeps the
 * element type the graph declares for `past_key_values.*` (float16 caches stay 2-byte bits end to
 * end); logits come back as float32 whatever the graph returns.
 */
export class CausalLm {
  readonly config: LlamaConfig;
  /** Element type of the graph's `past_key_values.*` inputs (the loader admits float32 and float16). */
  readonly kvType: KvElementType;
  private readonly hasPositionIds: boolean;

  constructor(
    readonly session: OrtSession,
    readonly model: LoadedModel,
  ) {
    this.config = model.config as LlamaConfig;
    this.kvType = model.kvType;
    this.hasPositionIds = session.inputNames.includes('position_ids');
  }

  get vocabSize(): number {
    return this.config.vocab_size;
  }

  /** An empty cache for `batch` rows. */
  emptyCache(batch: number): KvCache {
    const c = this.config;
    const empty = (): RuntimeTensor => ({
      type: this.kvType,
      data: kvData(this.kvType, 0),
      dims: [batch, c.num_key_value_heads, 0, c.head_dim],
    });
    return Array.from({ length: c.num_hidden_layers }, () => ({ key: empty(), value: empty() }));
  }

  async forward(inp: ForwardInput): Promise<ForwardOutput> {
    const past = inp.past ?? this.emptyCache(inp.batch);
    const pastLen = past[0]?.key.dims[2] ?? 0;
    const i64 = (v: readonly number[] | BigInt64Array, dims: number[]): RuntimeTensor => ({
      type: 'int64',
      data: v instanceof BigInt64Array ? v : BigInt64Array.from(v, (x) => BigInt(x)),
      dims,
    });
    const feeds: Record<string, RuntimeTensor> = {
      input_ids: i64(inp.inputIds, [inp.batch, inp.seq]),
      attention_mask: i64(inp.attentionMask, [inp.batch, pastLen + inp.seq]),
    };
    if (this.hasPositionIds) feeds.position_ids = i64(inp.positionIds, [inp.batch, inp.seq]);
    past.forEach((kv, i) => {
      feeds[`past_key_values.${i}.key`] = kv.key;
      feeds[`past_key_values.${i}.value`] = kv.value;
    });
    const out = await this.session.run(feeds);
    const present: KvCache = past.map((_, i) => ({
      key: out[`present.${i}.key`] as RuntimeTensor,
      value: out[`present.${i}.value`] as RuntimeTensor,
    }));
    const logits = out.logits as RuntimeTensor;
    return {
      logits:
        logits.type === 'float16' ? fromFloat16(logits.data as Uint16Array) : (logits.data as Float32Array),
      present,
    };
  }
}
