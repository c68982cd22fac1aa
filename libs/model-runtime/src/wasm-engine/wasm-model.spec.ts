import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '@hotpath/contracts';
import { FORGE_PRESETS } from '../forge/forge-presets';
import type { LlamaConfig } from '../model/model-config';
import { shapeConfig } from '../testing/shape-config';
import type { LoadedModel } from '../model/model-loader';
import { modelMatmulParameters } from '../roofline/roofline';
import { DEFAULT_EXECUTION } from '../session/ort-session';
import { createWasmEngine, WASM_MAX_PARAMS, wasmEngineUnfit } from './wasm-model';
import type { EngineWeights } from '../engine/engine-weights';

// Which decoders `engine: auto` puts on the WASM engine, and what `engine: wasm` refuses.

/** The fields of a loaded folder the rules read. */
const folder = (cfg: LlamaConfig, over: Partial<LoadedModel> = {}): LoadedModel =>
  ({
    dir: '/models/m',
    kind: 'decoder',
    layout: 'hotpath',
    dtype: 'fp32',
    kvType: 'float32',
    config: cfg,
    ...over,
  }) as unknown as LoadedModel;

const stories = shapeConfig(64, 172, 5, 8, 4);
const cpu = DEFAULT_EXECUTION;

describe('wasmEngineUnfit', () => {
  it('takes tiny fp32 decoders on the CPU (stories260K, the forged tiny preset)', () => {
    assert.equal(wasmEngineUnfit(folder(stories), cpu), null);
    const { tiny } = FORGE_PRESETS;
    const tinyCfg = shapeConfig(tiny.hidden, tiny.intermediate, tiny.layers, tiny.heads, tiny.kvHeads);
    assert.equal(wasmEngineUnfit(folder(tinyCfg), cpu), null);
  });

  it('leaves larger models to onnxruntime under auto, but not when asked for by name', () => {
    const { small } = FORGE_PRESETS;
    const smallCfg = shapeConfig(small.hidden, small.intermediate, small.layers, small.heads, small.kvHeads);
    assert.ok(modelMatmulParameters(smallCfg) > WASM_MAX_PARAMS);
    assert.match(wasmEngineUnfit(folder(smallCfg), cpu) ?? '', /matmul parameters, above/);
    assert.equal(wasmEngineUnfit(folder(smallCfg), cpu, true), null);
    // A tiny model with a huge context: each sequence's slot would hold 80 MiB of KV cache.
    assert.match(
      wasmEngineUnfit(folder(shapeConfig(64, 172, 5, 8, 4, 65_536)), cpu) ?? '',
      /KV slot of 80 MiB/,
    );
  });

  it('refuses what its kernels cannot run, even by name', () => {
    const refused: [LoadedModel, RegExp][] = [
      [folder(stories, { kind: 'encoder' }), /encoder/],
      [folder(stories, { dtype: 'int8' } as Partial<LoadedModel>), /Hotpath's fp32 layout/],
      [folder(stories, { layout: 'optimum' } as Partial<LoadedModel>), /Hotpath's fp32 layout/],
      [folder(shapeConfig(60, 172, 5, 6, 3)), /hidden size 60 is not a multiple of 8/],
      [folder(shapeConfig(48, 172, 5, 8, 4)), /head size 6 is not a multiple of 4/],
    ];
    for (const [info, why] of refused) assert.match(wasmEngineUnfit(info, cpu, true) ?? '', why);
    assert.match(
      wasmEngineUnfit(folder(stories), { ...cpu, providers: ['cuda', 'cpu'] }, true) ?? '',
      /CUDA replica/,
    );
  });
});

describe('createWasmEngine', () => {
  it('refuses, with a capacity error, more KV slots than WebAssembly memory holds', () => {
    const big = shapeConfig(64, 172, 5, 8, 4, 65_536);
    assert.throws(() => createWasmEngine(folder(big), {} as EngineWeights, 64, null), {
      code: ErrorCode.Capacity,
      message: /64 sequences × 80\.0 MiB of KV cache exceed the WASM engine's 3 GiB/,
    });
  });
});
