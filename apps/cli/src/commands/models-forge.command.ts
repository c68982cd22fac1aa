import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { FORGE_PRESETS, forgeModel } from '@hotpath/model-runtime';
import { UsageError, type CliCommand } from '@hotpath/cli-kit';

const USAGE = `Usage: hotpath models forge --arch llama|bert --preset NAME --seed N --out DIR [--tokenizer FILE]

Writes a synthetic model folder (model.onnx, config.json, tokenizer.json, ...) with deterministic
weights: the same arch, preset and seed always give the same files and digest. The weights are
random: generations are noise, but every code path (tokenizer, batching, KV cache) is real.

Options:
  --arch llama|bert   decoder (llama) or encoder (bert)
  --preset NAME       llama: tiny (~0.3M params), small (~30M), base (~110M); bert: tiny-embed
  --seed N            integer 0..4294967295 (default 1)
  --out DIR           folder to write (created)
  --tokenizer FILE    forge around this tokenizer.json (and the tokenizer_config.json beside it):
                      vocabulary sized to it, BOS/EOS/PAD ids from it
  --json              print the result as JSON`;

function parse(argv: readonly string[]): {
  arch: 'llama' | 'bert';
  preset: string;
  seed: number;
  out: string;
  json: boolean;
  tokenizer?: string;
} {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        arch: { type: 'string' },
        preset: { type: 'string' },
        seed: { type: 'string', default: '1' },
        out: { type: 'string' },
        tokenizer: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message, 'invalid_argument');
  }
  const arch = values.arch;
  if (arch !== 'llama' && arch !== 'bert')
    throw new UsageError('--arch must be llama or bert', 'invalid_arch');
  const preset = values.preset;
  if (!preset) throw new UsageError('--preset is required', 'missing_preset');
  const p = (FORGE_PRESETS as Record<string, { arch: string } | undefined>)[preset];
  if (!p)
    throw new UsageError(
      `unknown --preset "${preset}" (${Object.keys(FORGE_PRESETS).join(', ')})`,
      'invalid_preset',
    );
  if (p.arch !== arch)
    throw new UsageError(`preset "${preset}" is a ${p.arch} model; use --arch ${p.arch}`, 'invalid_preset');
  if (!/^\d{1,10}$/.test(values.seed) || Number(values.seed) > 0xffffffff) {
    throw new UsageError('--seed must be an integer in 0..4294967295', 'invalid_seed');
  }
  if (!values.out) throw new UsageError('--out is required', 'missing_out');
  return {
    arch,
    preset,
    seed: Number(values.seed),
    out: resolve(values.out),
    json: values.json,
    tokenizer: values.tokenizer === undefined ? undefined : resolve(values.tokenizer),
  };
}

/** `hotpath models forge`: a deterministic synthetic model folder. */
export const MODELS_FORGE_COMMAND: CliCommand = {
  path: ['models', 'forge'],
  summary: 'write a synthetic model folder with deterministic weights',
  usage: USAGE,
  async run(argv) {
    const opts = parse(argv);
    const tty = process.stdout.isTTY === true;
    const started = Date.now();
    const res = forgeModel({
      ...opts,
      onProgress: tty
        ? (f, stage) =>
            process.stdout.write(
              `\r[${'#'.repeat(Math.round(f * 30)).padEnd(30)}] ${Math.round(f * 100)}% ${stage}`.padEnd(70),
            )
        : undefined,
    });
    if (tty) process.stdout.write('\n');
    if (opts.json)
      console.log(JSON.stringify({ dir: res.dir, digest: res.digest, parameters: res.parameters }));
    else
      console.log(
        `forged ${opts.arch}/${opts.preset} seed ${opts.seed} (${res.parameters.toLocaleString('en')} parameters) in ${Date.now() - started} ms → ${res.dir}\ndigest ${res.digest}`,
      );
    return 0;
  },
};
