import * as ort from 'onnxruntime-node';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { hostCores } from './host-cores';

/** Execution settings (the `execution` block of a model's cluster config). */
export interface ExecutionSettings {
  providers: readonly ('cpu' | 'cuda')[];
  intra_op_threads: number;
  inter_op_threads: number;
  graph_optimization: 'disabled' | 'basic' | 'extended' | 'all';
  /**
   * Let onnxruntime's intra-op threads spin-wait between operators (its own default). Off unless
   * set: on a host whose cores are shared, spinning threads starve everything else (docs/engine.md).
   */
  allow_spinning?: boolean;
  /**
   * Decoders on the arena engine: running sequences at or below which the GroupQueryAttention graph
   * runs (fewer operators per step); above it the wide graph does. 0 turns the GQA graph off.
   * Unset: the engine's default (docs/engine.md).
   */
  gqa_max_rows?: number;
  /**
   * Decoders on the arena engine: N > 0 keeps the GQA graph at every batch size, running steps of
   * more than N sequences as forwards of at most N rows (overhead-bound tiny models). 0 or unset:
   * the wide graph above `gqa_max_rows`.
   */
  gqa_chunk_rows?: number;
}

/**
 * Intra-op threads a replica uses when its config says 0 (see docs/engine.md for the
 * measurements behind it): one per core the process may use.
 */
export function defaultIntraOpThreads(cores = hostCores()): number {
  return Math.max(1, cores);
}

/** CPU only, ORT's default thread counts, all graph optimisations. */
export const DEFAULT_EXECUTION: ExecutionSettings = {
  providers: ['cpu'],
  intra_op_threads: 0,
  inter_op_threads: 0,
  graph_optimization: 'all',
};

/**
 * A tensor going into or coming out of a session. `float16` data is the IEEE half bit patterns in
 * a Uint16Array (Node 20 has no Float16Array; see `float16.ts` for the conversions).
 */
export interface RuntimeTensor {
  type: 'float32' | 'float16' | 'int64' | 'int32';
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array;
  dims: readonly number[];
}

/** One loaded ONNX model. The only type in the codebase that holds an `InferenceSession`. */
export class OrtSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Providers actually in use. */
    readonly providers: readonly string[],
  ) {}

  /**
   * Creates a session with the configured providers and threads. When CUDA is requested but not
   * available in this onnxruntime build, falls back to CPU and logs that once through `log`.
   */
  static async create(
    source: string | { bytes: Uint8Array; path: string },
    exec: ExecutionSettings = DEFAULT_EXECUTION,
    log: (msg: string) => void = () => undefined,
  ): Promise<OrtSession> {
    // A graph rewritten in memory (see `narrowColumnCodes`) still names its file in errors.
    const path = typeof source === 'string' ? source : source.path;
    const model = typeof source === 'string' ? source : source.bytes;
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: exec.graph_optimization,
      logSeverityLevel: 3,
      // Session config entries (`session.intra_op.allow_spinning`), passed through by the binding.
      extra: { session: { intra_op: { allow_spinning: exec.allow_spinning === true ? '1' : '0' } } },
    };
    if (exec.intra_op_threads > 0) base.intraOpNumThreads = exec.intra_op_threads;
    if (exec.inter_op_threads > 0) base.interOpNumThreads = exec.inter_op_threads;
    const wanted = exec.providers.length > 0 ? [...exec.providers] : ['cpu'];
    try {
      const s = await create(model, { ...base, executionProviders: wanted });
      return new OrtSession(s, wanted);
    } catch (err) {
      if (!wanted.includes('cuda')) throw wrap(path, err);
      log(
        `onnxruntime: CUDA execution provider unavailable (${firstLine(err)}); falling back to CPU for ${path}`,
      );
      try {
        const s = await create(model, { ...base, executionProviders: ['cpu'] });
        return new OrtSession(s, ['cpu']);
      } catch (err2) {
        throw wrap(path, err2);
      }
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the graph; blocks this thread for the duration of the native call. */
  async run(
    feeds: Record<string, RuntimeTensor>,
    outputs?: readonly string[],
  ): Promise<Record<string, RuntimeTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor(v.type, v.data, v.dims);
    if (this.session.inputNames.includes('use_cache_branch') && !('use_cache_branch' in feeds)) {
      // Optimum's merged decoder switches between its no-cache and with-cache subgraphs on this
      // flag; the with-cache branch is the one that reads the past tensors, so it follows them.
      const pastLen = feeds['past_key_values.0.key']?.dims[2] ?? 0;
      ortFeeds.use_cache_branch = new ort.Tensor('bool', [pastLen > 0], [1]);
    }
    let res: ort.InferenceSession.ReturnType;
    try {
      res = outputs ? await this.session.run(ortFeeds, outputs) : await this.session.run(ortFeeds);
    } catch (err) {
      throw new HotpathError(ErrorCode.InferenceFailed, `onnxruntime run failed: ${firstLine(err)}`);
    }
    const out: Record<string, RuntimeTensor> = {};
    for (const [k, t] of Object.entries(res)) {
      if (t.type === 'float16') {
        // Where the runtime has a Float16Array (and onnxruntime hands one out), keep the bits.
        const d = t.data as ArrayBufferView & { length: number };
        const bits = d instanceof Uint16Array ? d : new Uint16Array(d.buffer, d.byteOffset, d.length);
        out[k] = { type: 'float16', data: bits, dims: t.dims };
        continue;
      }
      if (t.type !== 'float32' && t.type !== 'int64')
        throw new HotpathError(ErrorCode.InferenceFailed, `unexpected output type ${t.type} for ${k}`);
      out[k] = { type: t.type, data: t.data as Float32Array | BigInt64Array, dims: t.dims };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** `InferenceSession.create` for a path or the bytes of a graph (its overloads take one or the other). */
function create(
  model: string | Uint8Array,
  options: ort.InferenceSession.SessionOptions,
): Promise<ort.InferenceSession> {
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

function firstLine(err: unknown): string {
  return String(err instanceof Error ? err.message : err).split('\n')[0] ?? '';
}

function wrap(path: string, err: unknown): HotpathError {
  return new HotpathError(ErrorCode.InvalidModel, `onnxruntime cannot load ${path}: ${firstLine(err)}`);
}
