import { resolve } from 'node:path';
import { inspectModelFolder, type ModelFolderReport } from '@hotpath/model-runtime';
import { UsageError, parseCommandArgs, type CliCommand } from '@hotpath/cli-kit';
import { ONNX_SELECTION_USAGE, onnxSelection } from './onnx-selection-flags';

const USAGE = `Usage: hotpath models inspect DIR [--dtype D | --onnx-file F] [--json]

Shows what Hotpath sees in a model folder: which layout (hotpath, onnx-community, optimum) and
graph file it would serve, the architecture, layers, heads, KV heads, head size, vocabulary,
context length, dtypes, files and tokenizer model, or the precise reason it cannot serve it.
Exits 0 when the folder is servable, 1 when it is not.

Options:
${ONNX_SELECTION_USAGE}
  --json              print the report as JSON`;

function size(bytes: number): string {
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
}

/** The report as aligned `key: value` lines. */
export function formatReport(r: ModelFolderReport): string {
  const lines: [string, string | number | undefined][] = [
    ['folder', r.dir],
    ['servable', r.servable ? 'yes' : `no: ${r.error ?? ''}`],
    ['layout', r.layout],
    ['graph', r.onnxFile && `${r.onnxFile} (${r.dtype})`],
    ['variants', r.variants.map((v) => `${v.file} (${v.dtype}, ${size(v.bytes)})`).join(', ') || 'none'],
    ['kind', r.kind],
    ['architecture', [r.architecture, r.modelType && `model_type ${r.modelType}`].filter(Boolean).join(', ')],
    ['layers', r.layers],
    ['heads', r.heads],
    ['kv heads', r.kvHeads],
    ['head dim', r.headDim],
    ['hidden size', r.hiddenSize],
    ['vocab', r.vocabSize],
    ['context length', r.contextLength],
    [r.kind === 'encoder' ? 'output dtype' : 'kv/logits dtype', r.ioDtype],
    [
      'weight dtypes',
      r.weightDtypes &&
        Object.entries(r.weightDtypes)
          .map(([t, n]) => `${t} ×${n}`)
          .join(', '),
    ],
    ['external data', r.externalData?.join(', ') || undefined],
    [
      'tokenizer',
      r.tokenizer &&
        `${r.tokenizer.model}, ${r.tokenizer.vocabSize} tokens${r.tokenizer.chatTemplate ? ', chat template' : ''}`,
    ],
    ['eos ids', r.eosIds?.join(', ')],
    ['pooling', r.pooling && `${r.pooling.mode}${r.pooling.normalize ? ', normalized' : ''}`],
    ['files', r.files.map((f) => (f.bytes ? `${f.name} (${size(f.bytes)})` : f.name)).join(', ')],
  ];
  return lines
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${`${k}:`.padEnd(17)}${v}`)
    .join('\n');
}

/** `hotpath models inspect`: what Hotpath sees in a model folder. */
export const MODELS_INSPECT_COMMAND: CliCommand = {
  path: ['models', 'inspect'],
  summary: 'show the layout, architecture, dtypes and tokenizer Hotpath sees in a model folder',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, {
      dtype: { type: 'string' },
      'onnx-file': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1)
      throw new UsageError('exactly one model folder (DIR) is required', 'missing_dir');
    const report = inspectModelFolder(
      resolve(positionals[0] as string),
      onnxSelection(values.dtype, values['onnx-file']),
    );
    console.log(values.json ? JSON.stringify(report) : formatReport(report));
    return report.servable ? 0 : 1;
  },
};
