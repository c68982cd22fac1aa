import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  UsageError,
  acceptLegacyJsonFile,
  parseCommandArgs,
  singleModelDir,
  type CliCommand,
} from '@hotpath/cli-kit';
import { intFlag, runModelEval, type ModelEvalReport } from '@hotpath/bench';

const USAGE = `Usage: hotpath models eval DIR [--against DIR0] [--text FILE] [--json] [--out FILE]

Measures a model folder (typically a quantized or pruned variant) as a user would before serving
it: fidelity, speed and size.

- perplexity on a text (teacher-forced, windows of --window tokens);
- with --against (the reference, e.g. the fp32 folder it came from): the reference's perplexity,
  top-1 next-token agreement and mean KL divergence at every position, and greedy-sequence
  agreement on a fixed prompt set;
- one-stream and 16-stream tokens/s through the decoding engine (and the reference's);
- folder size in bytes.

Without --text, the text is sampled from the reference (or the model) itself: 16 passages of 128
tokens from BOS, temperature 1, fixed seeds, so runs compare. --write-text keeps it.

Options:
  --against DIR0        reference folder (same tokenizer)
  --text FILE           UTF-8 text to score
  --write-text FILE     save the sampled text (when --text is not given)
  --window N            tokens per scored window (default 128)
  --prompts N           prompts for greedy agreement (default 32)
  --greedy-tokens N     greedy tokens per prompt (default 32)
  --seconds S           measured seconds per speed level (default 4; 0 skips speed)
  --threads N           onnxruntime intra-op threads (default: the engine default)
  --json                print the report as JSON to stdout (the summary lines go to stderr)
  --out FILE            write the report as JSON to FILE ("--json FILE" still works, deprecated)`;

function lines(r: ModelEvalReport): string[] {
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const out = [
    `model      ${r.model.dir} (${mib(r.model.bytes)})${r.reference ? `; reference ${r.reference.dir} (${mib(r.reference.bytes)}, ${pct(r.model.bytes / r.reference.bytes)} of it)` : ''}`,
    `text       ${r.text.tokens} tokens, ${r.text.source}`,
    `perplexity ${r.fidelity.perplexity.toFixed(4)}${r.fidelity.reference ? ` vs ${r.fidelity.reference.perplexity.toFixed(4)} (${r.fidelity.reference.perplexity_delta_pct >= 0 ? '+' : ''}${r.fidelity.reference.perplexity_delta_pct.toFixed(2)} %)` : ''}`,
  ];
  if (r.fidelity.reference)
    out.push(
      `top-1      ${pct(r.fidelity.reference.top1_agreement)} of ${r.fidelity.tokens} positions agree; mean KL ${r.fidelity.reference.mean_kl.toExponential(3)} nats`,
    );
  if (r.greedy)
    out.push(
      `greedy     ${pct(r.greedy.position_agreement)} of the reference's greedy tokens are the model's top-1; ` +
        `${r.greedy.identical}/${r.greedy.prompts} free-running continuations identical over ${r.greedy.tokens} tokens ` +
        `(first difference after ${r.greedy.mean_first_divergence.toFixed(1)} tokens on average)`,
    );
  if (r.speed) {
    const ref = r.speed.reference;
    const x = (a: number, b: number | undefined): string => (b ? ` (${(a / b).toFixed(2)}×)` : '');
    out.push(
      `speed      1 stream ${r.speed.tokens_per_s_1} tok/s${x(r.speed.tokens_per_s_1, ref?.tokens_per_s_1)}, decode ${r.speed.decode_tokens_per_s_1}${x(r.speed.decode_tokens_per_s_1, ref?.decode_tokens_per_s_1)}; ` +
        `16 streams ${r.speed.tokens_per_s_16}${x(r.speed.tokens_per_s_16, ref?.tokens_per_s_16)}, decode ${r.speed.decode_tokens_per_s_16}${x(r.speed.decode_tokens_per_s_16, ref?.decode_tokens_per_s_16)}`,
    );
    if (ref)
      out.push(
        `reference  1 stream ${ref.tokens_per_s_1} tok/s, decode ${ref.decode_tokens_per_s_1}; 16 streams ${ref.tokens_per_s_16}, decode ${ref.decode_tokens_per_s_16}`,
      );
  }
  return out;
}

/** `hotpath models eval`: fidelity, speed and size of a model folder against a reference. */
export const MODELS_EVAL_COMMAND: CliCommand = {
  path: ['models', 'eval'],
  summary: 'fidelity (perplexity, top-1, KL, greedy agreement), speed and size of a model folder',
  usage: USAGE,
  async run(argv) {
    const args = acceptLegacyJsonFile(argv, 'models eval', (line) => console.error(line));
    const parsed = parseCommandArgs(args, {
      against: { type: 'string' },
      text: { type: 'string' },
      'write-text': { type: 'string' },
      window: { type: 'string' },
      prompts: { type: 'string' },
      'greedy-tokens': { type: 'string' },
      seconds: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
    });
    const { values: v, positionals } = parsed;
    const dir = singleModelDir(positionals);
    const exists = (p: string | undefined, flag: string): string | undefined => {
      if (p === undefined) return undefined;
      const abs = resolve(p);
      if (!existsSync(abs)) throw new UsageError(`${flag} ${abs} does not exist`, 'file_not_found');
      return abs;
    };
    const report = await runModelEval(
      {
        dir,
        against: exists(v.against, '--against'),
        textFile: exists(v.text, '--text'),
        writeText: v['write-text'] === undefined ? undefined : resolve(v['write-text']),
        window: intFlag(v.window, '--window', 2, 8192) ?? 128,
        prompts: intFlag(v.prompts, '--prompts', 1, 1024) ?? 32,
        greedyTokens: intFlag(v['greedy-tokens'], '--greedy-tokens', 1, 4096) ?? 32,
        speedSeconds: intFlag(v.seconds, '--seconds', 0, 600) ?? 4,
        threads: intFlag(v.threads, '--threads', 0, 256) ?? 0,
      },
      (l) => console.error(l),
    );
    // With --json, stdout carries the one JSON document; the human summary goes to stderr.
    for (const l of lines(report)) (v.json ? console.error : console.log)(l);
    const doc = `${JSON.stringify(report, null, 2)}\n`;
    if (v.json) process.stdout.write(doc);
    if (v.out) {
      mkdirSync(dirname(resolve(v.out)), { recursive: true });
      writeFileSync(resolve(v.out), doc);
    }
    return 0;
  },
};
