import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ErrorCode, HotpathError } from '@hotpath/contracts';
import { checkOutputFolder, writeDerivedFolder } from '../model/derived-folder';
import { loadModelFolder } from '../model/model-loader';
import { readQuantSpec } from './graph-weights';
import { QUANT_METHODS, quantizeOnnxGraph, type QuantMethod, type QuantSpec } from './quantize-graph';

export interface QuantizeFolderOptions {
  dir: string;
  out: string;
  method: QuantMethod;
  /** Values per scale for the weight-only methods (default 32). */
  blockSize?: number;
  /** `MatMulNBits` accuracy level (default 4: int8 activations on the CPU's int8 units). */
  accuracyLevel?: 0 | 4;
  /** Weight-name substrings that stay float (default: the classifier, `lm_head`). */
  keepFloat?: readonly string[];
}

export interface QuantizeFolderResult {
  out: string;
  digest: string;
  spec: QuantSpec;
  quantized: string[];
  keptFloat: string[];
  /** model.onnx sizes in bytes. */
  bytesBefore: number;
  bytesAfter: number;
}

/** Tensors kept float by default: the classifier (measured in docs/optimization.md). */
export const DEFAULT_KEEP_FLOAT = ['lm_head'] as const;

/**
 * `hotpath models quantize`: writes a quantized copy of a model folder (see `quantizeOnnxGraph` for
 * the methods). The result is a normal folder: its graph records the spec in its metadata, its
 * `hotpath.json` records the spec and the source digest, and its content digest is new, so caches
 * and replicas never mix it up with the float model.
 */
export function quantizeModelFolder(opts: QuantizeFolderOptions): QuantizeFolderResult {
  if (!(QUANT_METHODS as readonly string[]).includes(opts.method))
    throw new HotpathError(
      ErrorCode.InvalidInput,
      `unknown method "${opts.method}"; one of ${QUANT_METHODS.join(', ')}`,
      'method',
    );
  const src = loadModelFolder(opts.dir);
  checkOutputFolder(src, opts.out);
  const bytes = readFileSync(src.onnxPath);
  const fail = (msg: string): never => {
    throw new HotpathError(ErrorCode.InvalidModel, `model folder ${src.dir}: ${msg}`);
  };
  const existing = readQuantSpec(bytes);
  if (existing)
    fail(`${src.onnxFile} is already quantized (${existing.method}); quantize the float folder it came from`);
  const spec: QuantSpec = {
    method: opts.method,
    block_size: opts.blockSize ?? 32,
    accuracy_level: opts.accuracyLevel ?? 4,
    keep_float: [...(opts.keepFloat ?? DEFAULT_KEEP_FLOAT)],
  };
  let result;
  try {
    result = quantizeOnnxGraph(bytes, spec);
  } catch (err) {
    if (err instanceof RangeError) throw new HotpathError(ErrorCode.InvalidInput, err.message, 'block_size');
    return fail(`${src.onnxFile}: ${(err as Error).message}`);
  }
  if (result.quantized.length === 0)
    fail(`${src.onnxFile} has no MatMul whose weight is a float32 initializer (nothing to quantize)`);
  const digest = writeDerivedFolder(src, opts.out, [result.model], {
    source: `quantize:${spec.method}:${src.digest}`,
    quantization: spec,
  });
  return {
    out: resolve(opts.out),
    digest,
    spec,
    quantized: result.quantized,
    keptFloat: result.keptFloat,
    bytesBefore: statSync(src.onnxPath).size,
    bytesAfter: result.model.length,
  };
}
