import { resolve } from 'node:path';
import {
  DEFAULT_KEEP_FLOAT,
  QUANT_METHODS,
  quantizeModelFolder,
  type QuantMethod,
} from '@hotpath/model-runtime';
import { UsageError, parseCommandArgs, singleModelDir, type CliCommand } from '@hotpath/cli-kit';

const USAGE = `Usage: hotpath models quantize DIR --out DIR2 --method METHOD [--block-size N] [--accuracy-level 0|4] [--keep-float NAMES] [--json]

Writes a quantized copy of a model folder. Every MatMul whose weight is stored in the graph is
rewritten to one of onnxruntime's quantized kernels; embeddings, norms and (by default) the
classifier stay float. DIR2 is a normal model folder with a new digest: hotpath up, generate,
bench and the decoding engine load it like any other (docs/optimization.md).

Methods:
  int8-dynamic   int8 weights (one scale per output column), activations quantized per forward
                 pass (DynamicQuantizeMatMul); fastest on CPUs with int8 units (VNNI/AMX)
  int8-weight    int8 weights in blocks along K (MatMulNBits, bits=8)
  int4-weight    int4 weights in blocks along K (MatMulNBits, bits=4); the smallest folder
  fp16           weights stored as float16, cast to float32 when the session loads (half the
                 size, same CPU arithmetic); a starting point for GPU execution providers

Options:
  --out DIR2            folder to write (must be new or empty)
  --method METHOD       one of ${QUANT_METHODS.join(', ')}
  --block-size N        values per scale for int8-weight/int4-weight: 16, 32 (default), 64, 128, 256
  --accuracy-level L    int8-weight/int4-weight: 4 (default) quantizes activations per block to int8
                        and uses the int8 units; 0 multiplies in float32
  --keep-float NAMES    comma-separated weight-name parts kept float (default: ${DEFAULT_KEEP_FLOAT.join(',')});
                        "" quantizes every MatMul weight
  --json                print the result as JSON`;

/** `hotpath models quantize`: model folder → quantized model folder. */
export const MODELS_QUANTIZE_COMMAND: CliCommand = {
  path: ['models', 'quantize'],
  summary: 'write a quantized copy of a model folder (int8, int4, fp16)',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs(argv, {
      out: { type: 'string' },
      method: { type: 'string' },
      'block-size': { type: 'string', default: '32' },
      'accuracy-level': { type: 'string', default: '4' },
      'keep-float': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const { values, positionals } = parsed;
    if (!values.out) throw new UsageError('--out is required', 'missing_out');
    if (!values.method || !(QUANT_METHODS as readonly string[]).includes(values.method))
      throw new UsageError(`--method must be one of ${QUANT_METHODS.join(', ')}`, 'invalid_argument');
    const blockSize = Number(values['block-size']);
    if (![16, 32, 64, 128, 256].includes(blockSize))
      throw new UsageError(
        `--block-size must be 16, 32, 64, 128 or 256, got "${values['block-size']}"`,
        'invalid_argument',
      );
    const accuracyLevel = Number(values['accuracy-level']);
    if (accuracyLevel !== 0 && accuracyLevel !== 4)
      throw new UsageError(
        `--accuracy-level must be 0 or 4, got "${values['accuracy-level']}"`,
        'invalid_argument',
      );
    const dir = singleModelDir(positionals);
    const keepFloat =
      values['keep-float'] === undefined
        ? undefined
        : values['keep-float']
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0);
    const res = quantizeModelFolder({
      dir,
      out: resolve(values.out),
      method: values.method as QuantMethod,
      blockSize,
      accuracyLevel,
      keepFloat,
    });
    if (values.json) console.log(JSON.stringify(res));
    else
      console.log(
        `quantized ${dir} → ${res.out} (${res.spec.method}): ${res.quantized.length} weights, ` +
          `model.onnx ${(res.bytesBefore / 2 ** 20).toFixed(2)} → ${(res.bytesAfter / 2 ** 20).toFixed(2)} MiB ` +
          `(${((100 * res.bytesAfter) / res.bytesBefore).toFixed(1)} %)` +
          (res.keptFloat.length > 0 ? `; kept float: ${res.keptFloat.join(', ')}` : '') +
          `\ndigest ${res.digest}`,
      );
    return 0;
  },
};
