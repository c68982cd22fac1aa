import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { exportLlamaGguf, GGUF_EXPORT_TYPES, type GgufExportType } from '@hotpath/model-runtime';
import { UsageError, parseCommandArgs, singleModelDir, type CliCommand } from '@hotpath/cli-kit';

const USAGE = `Usage: hotpath models export-gguf DIR --out FILE.gguf [--type f32|f16|q8_0]

Writes a Llama model folder (forged, imported from llama2.c, or any Llama folder Hotpath serves)
as a GGUF v3 file for llama.cpp: the weights of model.onnx, the llama.* hyper-parameters of
config.json, RoPE rows in llama.cpp's interleaved order, and the tokenizer as a SentencePiece-style
("llama") vocabulary with BOS/EOS ids. Fed the same prompt token ids, llama.cpp then decodes the
same greedy tokens as Hotpath.

Options:
  --out FILE    GGUF file to write (replaced atomically)
  --type T      matrix storage: f32 (default), f16, or q8_0 (f16 for rows not a multiple of 32);
                norm weights stay f32
  --json        print the result as JSON`;

/** `hotpath models export-gguf`: model folder → GGUF file for llama.cpp. */
export const MODELS_EXPORT_GGUF_COMMAND: CliCommand = {
  path: ['models', 'export-gguf'],
  summary: 'write a Llama model folder as a GGUF file for llama.cpp',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs(argv, {
      out: { type: 'string' },
      type: { type: 'string', default: 'f32' },
      json: { type: 'boolean', default: false },
    });
    const { values, positionals } = parsed;
    if (!values.out) throw new UsageError('--out is required', 'missing_out');
    if (!(GGUF_EXPORT_TYPES as readonly string[]).includes(values.type))
      throw new UsageError(
        `--type must be one of ${GGUF_EXPORT_TYPES.join(', ')}, got "${values.type}"`,
        'invalid_argument',
      );
    const dir = singleModelDir(positionals);
    const out = resolve(values.out);
    if (!existsSync(dirname(out)))
      throw new UsageError(`--out: folder ${dirname(out)} does not exist`, 'file_not_found');
    const res = exportLlamaGguf({ dir, out, type: values.type as GgufExportType });
    if (values.json) console.log(JSON.stringify({ ...res, type: values.type }));
    else {
      console.log(
        `exported ${dir} → ${res.out} (${values.type}, ${res.tensors} tensors, ${(res.bytes / 2 ** 20).toFixed(1)} MiB)` +
          (res.fallbacks.length > 0
            ? `\nstored as f16 (rows not a multiple of 32): ${res.fallbacks.join(', ')}`
            : ''),
      );
    }
    return 0;
  },
};
