import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { importLlama2c } from '@hotpath/model-runtime';
import { UsageError, parseCommandArgs, type CliCommand } from '@hotpath/cli-kit';

const USAGE = `Usage: hotpath models import-llama2c CKPT --tokenizer TOK --out DIR

Converts a llama2.c checkpoint (legacy version 0, e.g. stories260K.bin) and its tokenizer.bin
(e.g. tok512.bin) into a model folder: model.onnx with KV cache, config.json,
generation_config.json, tokenizer.json (Hugging Face format) and hotpath.json.

Options:
  --tokenizer TOK   llama2.c tokenizer.bin
  --out DIR         folder to write (created)
  --json            print the result as JSON`;

/** `hotpath models import-llama2c`: llama2.c checkpoint + tokenizer → model folder. */
export const MODELS_IMPORT_LLAMA2C_COMMAND: CliCommand = {
  path: ['models', 'import-llama2c'],
  summary: 'convert a llama2.c checkpoint and tokenizer into a model folder',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      tokenizer: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1)
      throw new UsageError('exactly one checkpoint path (CKPT) is required', 'missing_checkpoint');
    if (!values.tokenizer) throw new UsageError('--tokenizer is required', 'missing_tokenizer');
    if (!values.out) throw new UsageError('--out is required', 'missing_out');
    const checkpoint = resolve(positionals[0] as string);
    const tokenizer = resolve(values.tokenizer);
    for (const [flag, p] of [
      ['CKPT', checkpoint],
      ['--tokenizer', tokenizer],
    ] as const) {
      if (!existsSync(p)) throw new UsageError(`${flag} ${p} does not exist`, 'file_not_found');
    }
    const res = importLlama2c({ checkpoint, tokenizer, out: resolve(values.out) });
    const c = res.config;
    if (values.json) console.log(JSON.stringify({ dir: res.dir, digest: res.digest, config: c }));
    else {
      console.log(
        `imported ${checkpoint}: dim ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads (${c.num_key_value_heads} kv), vocab ${c.vocab_size} → ${res.dir}\ndigest ${res.digest}`,
      );
    }
    return 0;
  },
};
