import { readFileSync } from 'node:fs';
import {
  DEFAULT_GQA_MAX_ROWS,
  ErrorCode,
  HotpathError,
  type EngineMode as ContractEngineMode,
} from '@hotpath/contracts';
import { OnnxBatchEngine } from '../batching/onnx-batch-engine';
import type { PrefixKvCache } from '../batching/prefix-cache';
import type { SequenceEngine } from '@hotpath/batching';
import { ArenaEngine } from '../engine/arena-engine';
import { engineGraphFor } from '../engine/engine-model';
import type { EngineWeights } from '../engine/engine-weights';
import { createWasmEngine, wasmWeightsFor } from '../wasm-engine/wasm-model';
import { loadModelFolder, type LoadedModel } from '../model/model-loader';
import { int8PairsSaturate, narrowColumnCodes } from '../optimize/narrow-codes';
import type { LlamaConfig } from '../model/model-config';
import type { OnnxSelection } from '../model/model-layout';
import { DEFAULT_EXECUTION, OrtSession, type ExecutionSettings } from '../session/ort-session';
import { CausalLm } from './causal-lm';
import { embedTexts } from './embedder';
import { generateScheduled } from './generate-scheduled';
import type {
  GeneratedToken,
  GenerateHooks,
  GenerationDefaults,
  GenerationOutput,
  GenerationRequest,
} from './generation-types';
import { generate } from './generator';
import type { SequenceState } from './sequence-state';

/**
 * Which engine a decoder runs on: `wasm` — Hotpath's own SIMD kernels on the folder's weights (in
 * place KV slots, flat ragged batches; for tiny models, where onnxruntime's per-operator costs
 * dominate); `arena` — the engine graph derived from the folder on onnxruntime (in-place KV arena,
 * ragged batches, fused ops); `plain` — the folder's own `model.onnx` (Optimum-style KV cache in
 * and out); `auto` — `wasm` for a model it suits (see `wasmEngineUnfit`), else `arena` when the
 * folder's weights can feed it, else `plain`.
 */
export type EngineMode = ContractEngineMode;

/** The engine a decoder was loaded on (`null` for encoders). */
export type EngineKind = 'wasm' | 'arena' | 'plain';

/** Options of {@link LocalModel.load}. */
export interface LocalModelOptions {
  execution?: ExecutionSettings;
  log?: (msg: string) => void;
  /** Run one tiny inference at load so the first request does not pay for lazy initialisation. */
  warmup?: boolean;
  /** Default `max_tokens` when a request has none. */
  defaultMaxTokens?: number;
  /** Which graph of the folder to serve (dtype or file); fp32 `model.onnx` by default. */
  onnx?: OnnxSelection;
  /** Decoders only; default `auto`. */
  engine?: EngineMode;
  /** Where derived engine graphs are cached when the model folder is read-only. */
  engineCacheDir?: string;
}

/** A sequence engine with the per-sequence prefix-cache report the replica sends back. */
export type DecoderEngine = SequenceEngine<SequenceState, GeneratedToken> & {
  prefixHitTokens(seq: SequenceState): number;
};

/** A model folder loaded into one session, in this thread: generation or embeddings. */
export class LocalModel {
  private constructor(
    readonly info: LoadedModel,
    /** null on the WASM engine, which needs no onnxruntime session. */
    private readonly session: OrtSession | null,
    /** The arena engine's GQA graph for small batches (`null`: not derivable, or turned off). */
    private readonly gqaSession: OrtSession | null,
    private readonly gqaMaxRows: number,
    private readonly gqaChunkRows: number,
    private readonly lm: CausalLm | null,
    /** Which engine generation runs on (`null` for encoders). */
    readonly engine: EngineKind | null,
    private readonly defaultMaxTokens: number,
    /** The WASM engine's weights (null on the other engines). */
    private readonly wasmWeights: EngineWeights | null = null,
    /**
     * The arena engine's graph files as loaded: `wide` (the general wide graph, or its decode-only
     * variant) and `gqa` (null when not loaded); null on the other engines.
     */
    readonly arenaGraphs: { wide: string; gqa: string | null } | null = null,
  ) {}

  /** Validates the folder, creates the session and (by default) warms it up. */
  static async load(dir: string, opts: LocalModelOptions = {}): Promise<LocalModel> {
    const info = loadModelFolder(dir, opts.onnx);
    const log = opts.log ?? (() => undefined);
    const exec = opts.execution ?? DEFAULT_EXECUTION;
    const mode = opts.engine ?? 'auto';
    const defaultMaxTokens = opts.defaultMaxTokens ?? info.generationConfig.max_new_tokens ?? 64;
    if (info.kind === 'decoder' && (mode === 'wasm' || mode === 'auto')) {
      const weights = wasmWeightsFor(info, exec, mode === 'wasm');
      if (weights) {
        if (exec.intra_op_threads > 1)
          log(
            `${info.dir}: the WASM engine runs one thread per replica; intra_op_threads ${exec.intra_op_threads} ` +
              'does not apply (more replicas use more cores)',
          );
        const model = new LocalModel(info, null, null, 0, 0, null, 'wasm', defaultMaxTokens, weights);
        if (opts.warmup !== false) await model.warmUp();
        return model;
      }
    }
    let engine: EngineKind | null = null;
    let onnxPath = info.onnxPath;
    let gqaPath: string | null = null;
    const gqaMaxRows = exec.gqa_max_rows ?? DEFAULT_GQA_MAX_ROWS;
    if (info.kind === 'decoder') {
      // Only graphs Hotpath wrote carry the weights the engine graph is built from.
      const graph =
        mode === 'plain'
          ? null
          : info.layout === 'hotpath' && info.dtype === 'fp32' && info.kvType === 'float32'
            ? engineGraphFor(info, opts.engineCacheDir)
            : {
                unavailable: `a ${info.layout} ${info.dtype} graph with a ${info.kvType} KV cache (the engine graph is derived from Hotpath's fp32 layout)`,
              };
      if (graph && 'path' in graph) {
        engine = 'arena';
        onnxPath = graph.path;
        // onnxruntime's CUDA GroupQueryAttention kernel takes fp16 only: on a GPU the float32 GQA graph
        // would fall back to the CPU for attention, so GPU replicas run the wide graph alone.
        gqaPath = gqaMaxRows > 0 && !exec.providers.includes('cuda') ? graph.gqaPath : null;
        // With the GQA graph for prompts, a small model's wide graph only decodes: its faster
        // decode-only variant (derived for models up to DECODE_ONLY_MAX_PARAMS).
        if (gqaPath && graph.decodePath) onnxPath = graph.decodePath;
        if (graph.built) log(`engine graph derived from ${info.onnxPath} into ${graph.path}`);
      } else {
        if (mode === 'arena' && graph && 'unavailable' in graph)
          throw new HotpathError(
            ErrorCode.InvalidModel,
            `model folder ${info.dir}: no engine graph (${graph.unavailable})`,
          );
        if (graph && 'unavailable' in graph)
          log(`engine graph unavailable for ${info.dir} (${graph.unavailable}); using model.onnx as is`);
        engine = 'plain';
      }
    }
    const source = (path: string): string | { bytes: Uint8Array; path: string } =>
      info.hotpath?.quantization?.method === 'int8-dynamic' ? saturationSafe(path, log) : path;
    const session = await OrtSession.create(source(onnxPath), exec, opts.log);
    const gqaSession = gqaPath ? await OrtSession.create(source(gqaPath), exec, opts.log) : null;
    const lm = engine === 'plain' ? new CausalLm(session, info) : null;
    const model = new LocalModel(
      info,
      session,
      gqaSession,
      gqaMaxRows,
      exec.gqa_chunk_rows ?? 0,
      lm,
      engine,
      defaultMaxTokens,
      null,
      engine === 'arena' ? { wide: onnxPath, gqa: gqaPath } : null,
    );
    if (opts.warmup !== false) await model.warmUp();
    return model;
  }

  /** One tiny inference, so the first request does not pay for lazy initialisation. */
  private async warmUp(): Promise<void> {
    if (!this.engine) {
      await this.embed(['warm up']);
      return;
    }
    // Two tokens: one prefill and one decode step, so both shapes are initialised.
    if (this.engine === 'arena') await (this.createEngine(1) as ArenaEngine).warmUp();
    await this.generate([
      { prompt: [this.info.tokenizer.bosId ?? 1], params: { max_tokens: 2, temperature: 0 } },
    ]);
  }

  /** The plain-graph decoder (loaded with `engine: 'plain'`), for tools that need raw logits. */
  get causalLm(): CausalLm {
    if (!this.lm)
      throw new HotpathError(
        ErrorCode.InvalidInput,
        this.info.kind === 'encoder'
          ? `model ${this.info.dir} is an encoder; it cannot generate`
          : `model ${this.info.dir} runs the engine graph; load it with engine 'plain' for raw forwards`,
      );
    return this.lm;
  }

  /**
   * A continuous-batching engine for this decoder (`slots` sequences at once): the WASM engine, the
   * arena engine on the engine graph, or the plain-graph engine.
   */
  createEngine(slots: number, prefixCache: PrefixKvCache | null = null): DecoderEngine {
    if (this.wasmWeights) return createWasmEngine(this.info, this.wasmWeights, slots, prefixCache);
    if (this.engine === 'arena')
      return new ArenaEngine(
        {
          wide: this.ortSession,
          gqa: this.gqaSession,
          gqaMaxRows: this.gqaMaxRows,
          gqaChunkRows: this.gqaChunkRows,
        },
        this.info.config as LlamaConfig,
        slots,
        this.generationDefaults.padId,
        prefixCache,
      );
    return new OnnxBatchEngine(this.causalLm, this.generationDefaults.padId, prefixCache);
  }

  /** Defaults a request without params gets (generation_config.json and the serving default). */
  get generationDefaults(): GenerationDefaults {
    const gc = this.info.generationConfig;
    return {
      maxTokens: this.defaultMaxTokens,
      temperature: gc.do_sample ? (gc.temperature ?? 1) : 0,
      eosIds: this.info.eosIds,
      padId: gc.pad_token_id ?? 0,
    };
  }

  /** Generates for all requests as one batch. */
  async generate(
    requests: readonly GenerationRequest[],
    hooks: GenerateHooks = {},
  ): Promise<GenerationOutput[]> {
    if (this.engine === 'arena' || this.engine === 'wasm')
      return await generateScheduled(
        this.createEngine(requests.length),
        this.info,
        requests,
        this.generationDefaults,
        hooks,
      );
    return await generate(this.causalLm, requests, this.generationDefaults, hooks);
  }

  /** Pooled (by default mean, L2-normalised) embeddings, one per text. */
  embed(texts: readonly string[]): Promise<number[][]> {
    if (this.info.kind !== 'encoder') {
      return Promise.reject(
        new HotpathError(ErrorCode.InvalidInput, `model ${this.info.dir} is a decoder; it cannot embed`),
      );
    }
    return embedTexts(this.ortSession, this.info, texts);
  }

  /** The onnxruntime session (every engine but the WASM one has one). */
  private get ortSession(): OrtSession {
    if (!this.session) throw new Error('unreachable: the WASM engine has no onnxruntime session');
    return this.session;
  }

  async close(): Promise<void> {
    await this.session?.release();
    await this.gqaSession?.release();
  }
}

/**
 * An `int8-dynamic` graph as this CPU can run it: on x86 without VNNI, 8-bit weight codes (folders
 * quantized, or engine graphs derived, before Hotpath stored 7-bit ones) would saturate
 * onnxruntime's int8 GEMM and come out 20–30 % wrong, so they are narrowed to 7 bits in memory.
 */
function saturationSafe(
  path: string,
  log: (msg: string) => void,
): string | { bytes: Uint8Array; path: string } {
  if (!int8PairsSaturate()) return path;
  const narrowed = narrowColumnCodes(readFileSync(path));
  if (!narrowed) return path;
  log(
    `${path}: ${narrowed.weights} int8-dynamic weights have 8-bit codes, which this CPU's int8 GEMM (no VNNI) saturates; ` +
      'narrowed to 7 bits in memory (quantize the folder again with this Hotpath to skip this step)',
  );
  return { bytes: narrowed.model, path };
}
