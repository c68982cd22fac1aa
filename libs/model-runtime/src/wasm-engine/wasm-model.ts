import { readFileSync } from 'node:fs';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import type { PrefixKvCache } from '../batching/prefix-cache';
import {
  EngineWeightsUnavailable,
  engineWeightsFromOnnx,
  type EngineWeights,
} from '../engine/engine-weights';
import type { LlamaConfig } from '../model/model-config';
import type { LoadedModel } from '../model/model-loader';
import { modelMatmulParameters } from '../roofline/roofline';
import type { ExecutionSettings } from '../session/ort-session';
import { WasmEngine } from './wasm-engine';
import { WasmLlama, wasmShapeUnfit, wasmSlotBytes } from './wasm-llama';

/**
 * Largest model (matmul parameters) that `engine: auto` serves on the WASM engine. Below it a
 * step's onnxruntime overhead (per run, per operator, per row and head of attention) outweighs its
 * arithmetic and Hotpath's single-threaded SIMD kernels are faster at every batch size; above it
 * onnxruntime's GEMMs win (measured per model size in docs/engine.md#the-wasm-engine).
 */
export const WASM_MAX_PARAMS = 500_000;

/** Largest KV slot (bytes per sequence, whole context) `auto` accepts: 256 slots stay within 2 GiB. */
const AUTO_MAX_SLOT_BYTES = 8 << 20;

/** What one WASM engine may hold (weights, KV slots, activations): WebAssembly memory is 32-bit. */
const WASM_MEMORY_LIMIT = 3 * 2 ** 30;

/**
 * Why `engine: auto` does not put this decoder on the WASM engine (null: it does). `explicit`:
 * the reasons that hold even when `engine: wasm` is asked for by name (the size rules do not).
 */
export function wasmEngineUnfit(info: LoadedModel, exec: ExecutionSettings, explicit = false): string | null {
  if (info.kind !== 'decoder') return 'an encoder';
  if (info.layout !== 'hotpath' || info.dtype !== 'fp32' || info.kvType !== 'float32')
    return `a ${info.layout} ${info.dtype} graph with a ${info.kvType} KV cache (the WASM engine reads Hotpath's fp32 layout)`;
  if (exec.providers.includes('cuda')) return 'a CUDA replica (the WASM engine runs on the CPU)';
  const cfg = info.config as LlamaConfig;
  const shape = wasmShapeUnfit(cfg);
  if (shape) return shape;
  if (explicit) return null;
  const params = modelMatmulParameters(cfg);
  if (params > WASM_MAX_PARAMS)
    return `${(params / 1e6).toFixed(1)} M matmul parameters, above the WASM engine's ${WASM_MAX_PARAMS / 1e6} M`;
  if (wasmSlotBytes(cfg) > AUTO_MAX_SLOT_BYTES)
    return `a KV slot of ${(wasmSlotBytes(cfg) / 2 ** 20).toFixed(0)} MiB per sequence`;
  return null;
}

/**
 * The weights the WASM engine runs on, when it serves this decoder: `required` (engine `wasm`)
 * turns every reason it cannot into an `invalid_model` error; otherwise (engine `auto`) null.
 */
export function wasmWeightsFor(
  info: LoadedModel,
  exec: ExecutionSettings,
  required: boolean,
): EngineWeights | null {
  const refuse = (why: string): null => {
    if (required)
      throw new HotpathError(ErrorCode.InvalidModel, `model folder ${info.dir}: no WASM engine (${why})`);
    return null;
  };
  const unfit = wasmEngineUnfit(info, exec, required);
  if (unfit) return refuse(unfit);
  try {
    return engineWeightsFromOnnx(readFileSync(info.onnxPath), info.config as LlamaConfig);
  } catch (err) {
    if (err instanceof EngineWeightsUnavailable) return refuse(err.message);
    throw err;
  }
}

/** A WASM engine of `slots` sequence slots; `capacity` when their KV would not fit its memory. */
export function createWasmEngine(
  info: LoadedModel,
  weights: EngineWeights,
  slots: number,
  prefixCache: PrefixKvCache | null,
): WasmEngine {
  const cfg = info.config as LlamaConfig;
  const kv = slots * wasmSlotBytes(cfg);
  if (kv > WASM_MEMORY_LIMIT)
    throw new HotpathError(
      ErrorCode.Capacity,
      `${slots} sequences × ${(wasmSlotBytes(cfg) / 2 ** 20).toFixed(1)} MiB of KV cache exceed the WASM engine's ` +
        `${WASM_MEMORY_LIMIT / 2 ** 30} GiB; lower batching.continuous.max_running_sequences or use engine arena`,
    );
  // A forward takes every running sequence's decode token, and prompt tokens 256 at a time.
  return new WasmEngine(new WasmLlama(cfg, weights, slots, Math.max(slots, 256)), prefixCache);
}
