import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalModel } from '@hotpath/model-runtime';
import { UsageError, type CliCommand } from '@hotpath/cli-kit';
import { ONNX_SELECTION_USAGE, onnxSelection } from './onnx-selection-flags';

const USAGE = `Usage: hotpath generate --model DIR --prompt TEXT [--max-tokens N] [--temperature T] [--seed S] [--json]

Runs one generation in-process (no Redis) on a model folder and prints the prompt and its
continuation, streaming tokens as they come.

Options:
  --model DIR         model folder (see "hotpath models forge" / "import-llama2c" / docs/models.md)
${ONNX_SELECTION_USAGE}
  --prompt TEXT       prompt text
  --max-tokens N      tokens to generate (1..4096); default: the folder's generation_config.json
                      max_new_tokens, else 64
  --temperature T     0 = greedy (default), up to 2
  --top-k K           sample from the K most likely tokens (0 = all)
  --top-p P           nucleus sampling (0 < P <= 1)
  --seed S            sampling seed, integer 0..4294967295
  --stop TEXT         stop sequence (repeatable)
  --json              print {"prompt_tokens": [...], "tokens": [...], "text": "..."}; tokens = generated ids only
  --stats             print timing and tokens/s to stderr`;

function num(
  v: string | undefined,
  flag: string,
  min: number,
  max: number,
  int: boolean,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (int && !Number.isInteger(n))) {
    throw new UsageError(
      `${flag} must be ${int ? 'an integer' : 'a number'} in ${min}..${max}, got "${v}"`,
      `invalid_${flag.slice(2).replace('-', '_')}`,
    );
  }
  return n;
}

/** `hotpath generate`: one in-process generation. */
export const GENERATE_COMMAND: CliCommand = {
  path: ['generate'],
  summary: 'run one generation in-process on a model folder (no Redis)',
  usage: USAGE,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          model: { type: 'string' },
          dtype: { type: 'string' },
          'onnx-file': { type: 'string' },
          prompt: { type: 'string' },
          'max-tokens': { type: 'string' },
          temperature: { type: 'string' },
          'top-k': { type: 'string' },
          'top-p': { type: 'string' },
          seed: { type: 'string' },
          stop: { type: 'string', multiple: true },
          json: { type: 'boolean', default: false },
          stats: { type: 'boolean', default: false },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (err) {
      throw new UsageError((err as Error).message, 'invalid_argument');
    }
    if (!values.model) throw new UsageError('--model is required', 'missing_model');
    if (values.prompt === undefined) throw new UsageError('--prompt is required', 'missing_prompt');
    const maxTokens = num(values['max-tokens'], '--max-tokens', 1, 4096, true);
    const temperature = num(values.temperature, '--temperature', 0, 2, false) ?? 0;
    const topK = num(values['top-k'], '--top-k', 0, 1000, true);
    const topP = num(values['top-p'], '--top-p', Number.MIN_VALUE, 1, false);
    const seed = num(values.seed, '--seed', 0, 0xffffffff, true);

    const onnx = onnxSelection(values.dtype, values['onnx-file']);
    const model = await LocalModel.load(resolve(values.model), { log: (m) => console.error(m), onnx });
    try {
      const stream = !values.json && process.stdout.isTTY === true;
      if (stream) process.stdout.write(values.prompt);
      const t0 = performance.now();
      const [out] = await model.generate(
        [
          {
            prompt: values.prompt,
            params: { max_tokens: maxTokens, temperature, top_k: topK, top_p: topP, seed, stop: values.stop },
          },
        ],
        { onToken: stream ? (_s, tok) => process.stdout.write(tok.text) : undefined },
      );
      const ms = performance.now() - t0;
      if (!out) return 1;
      if (values.json)
        console.log(JSON.stringify({ prompt_tokens: out.promptTokens, tokens: out.tokens, text: out.text }));
      else if (stream) process.stdout.write('\n');
      else console.log(values.prompt + out.text);
      if (values.stats) {
        const decodeMs = ms - (out.firstTokenMs ?? 0);
        const perS = out.tokens.length > 1 ? ((out.tokens.length - 1) / decodeMs) * 1000 : 0;
        console.error(
          `prompt ${out.promptTokens.length} tokens, generated ${out.tokens.length} (${out.finishReason}) in ${ms.toFixed(0)} ms; first token ${(out.firstTokenMs ?? 0).toFixed(1)} ms; decode ${perS.toFixed(1)} tokens/s`,
        );
      }
      return 0;
    } finally {
      await model.close();
    }
  },
};
