import { resolve } from 'node:path';
import { pruneModelFolder } from '@hotpath/model-runtime';
import { UsageError, parseCommandArgs, singleModelDir, type CliCommand } from '@hotpath/cli-kit';

const USAGE = `Usage: hotpath models prune DIR --out DIR2 [--ffn F] [--heads F] [--layers N] [--json]

Structured pruning of a Llama model folder: the matrices really shrink (fewer FFN channels, fewer
KV groups, fewer layers), so every forward is cheaper. What is dropped is chosen by weight
magnitude (docs/optimization.md): an FFN channel by |gate col|·|up col|·|down row|, a KV group by
the norms of its K, V, query and output slices, a layer by |W_o| + |W_down|. Pruning without
retraining costs fidelity: measure it with "hotpath models eval DIR2 --against DIR".

Options:
  --out DIR2     folder to write (must be new or empty)
  --ffn F        fraction of FFN channels to drop in every layer (0 ≤ F < 1, e.g. 0.25)
  --heads F      fraction of KV groups (a KV head with its query heads) to drop in every layer
  --layers N     number of whole layers to drop
  --json         print the result as JSON`;

function fraction(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const f = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || !(f >= 0 && f < 1))
    throw new UsageError(`${flag} must be a fraction in [0, 1), got "${raw}"`, 'invalid_argument');
  return f;
}

/** `hotpath models prune`: model folder → structurally pruned model folder. */
export const MODELS_PRUNE_COMMAND: CliCommand = {
  path: ['models', 'prune'],
  summary: 'structured pruning: drop FFN channels, KV groups or layers of a Llama folder',
  usage: USAGE,
  async run(argv) {
    const parsed = parseCommandArgs(argv, {
      out: { type: 'string' },
      ffn: { type: 'string' },
      heads: { type: 'string' },
      layers: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const { values: v, positionals } = parsed;
    if (!v.out) throw new UsageError('--out is required', 'missing_out');
    const layers = v.layers === undefined ? undefined : Number(v.layers);
    if (layers !== undefined && !(/^\d+$/.test(v.layers ?? '') && layers >= 0))
      throw new UsageError(`--layers must be a whole number, got "${v.layers}"`, 'invalid_argument');
    const dir = singleModelDir(positionals);
    const res = pruneModelFolder({
      dir,
      out: resolve(v.out),
      ffn: fraction(v.ffn, '--ffn'),
      heads: fraction(v.heads, '--heads'),
      layers,
    });
    if (v.json) console.log(JSON.stringify(res));
    else
      console.log(
        `pruned ${dir} → ${res.out}: FFN ${res.before.intermediate_size} → ${res.after.intermediate_size}, ` +
          `KV heads ${res.before.num_key_value_heads} → ${res.after.num_key_value_heads}, ` +
          `layers ${res.before.num_hidden_layers} → ${res.after.num_hidden_layers}` +
          (res.droppedLayers.length > 0 ? ` (dropped ${res.droppedLayers.join(', ')})` : '') +
          `; parameters ${res.before.parameters} → ${res.after.parameters} ` +
          `(${((100 * res.after.parameters) / res.before.parameters).toFixed(1)} %)\ndigest ${res.digest}`,
      );
    return 0;
  },
};
